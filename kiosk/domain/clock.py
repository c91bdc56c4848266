"""Time as the station sees it: wall time in the station's own zone (`[station] timezone`), and a monotonic reading.

The zone is the station's, not the system's: a box left at UTC still counts, exports and purges by the days of the
gate. Every stored time keeps its UTC offset, so a change of zone never changes what an entry says.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The aware local wall time."""
        ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The system's clock, read in the station's zone (the system's own zone when none is given)."""

    def __init__(self, zone: tzinfo | None = None, source: Callable[[], float] = time.time) -> None:
        self.zone = zone
        self._source = source
        """Seconds since the epoch; tests give fixed instants to see how the zone turns them into days."""

    def now(self) -> datetime:
        moment = datetime.fromtimestamp(self._source(), self.zone)
        return moment if self.zone is not None else moment.astimezone()

    def monotonic(self) -> float:
        return time.monotonic()


class FrozenClock:
    """A clock that moves only when told: for tests, snapshots and benchmarks."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start
        self._monotonic = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds


def today(clock: Clock) -> date:
    """The station's date now."""
    return clock.now().date()


def iso(moment: datetime) -> str:
    """ISO 8601 with offset, to the second: how every time is stored."""
    return moment.isoformat(timespec="seconds")

"""A duty shift and its handover: `ShiftTally` counts what the shift records as it is recorded, so that the
handover opens at once on a busy day instead of reading the day's entries back from the store."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from kiosk.domain.models import Direction, Entry, Reason, Verdict


@dataclass(frozen=True)
class Shift:
    staff_id: str
    name: str
    opened_at: datetime
    first_seq: int
    """Entries with this sequence number or higher belong to the shift."""


@dataclass(frozen=True)
class Handover:
    """The summary handed to the next shift."""

    shift: Shift
    closed_at: datetime
    counts: dict[Verdict, int]
    entered: int
    left: int
    flagged: list[Entry] = field(default_factory=list)
    """Earlier entries that a reading during the shift left denied or referred, then the shift's denied and referred
    ones; each part in the order of scanning."""
    open_exceptions: list[Entry] = field(default_factory=list)
    """Fever readings still waiting for a re-measure."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class ShiftTally:
    """The running summary of one shift, kept by `Station` as it records and amends entries.

    An entry belongs to the shift when its sequence number is the shift's `first_seq` or higher; an earlier
    entry amended during the shift (a reading taken now) is listed when it stays denied or referred, but not
    counted. Only the flagged entries are kept: the tally's size is the shift's exceptions, not its entries.
    """

    def __init__(self, shift: Shift) -> None:
        self.shift = shift
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(Verdict, 0)
        self._directions = dict.fromkeys(Direction, 0)
        self._amended: dict[str, Entry] = {}
        self._flagged: dict[str, Entry] = {}

    def recorded(self, entry: Entry) -> None:
        """A new entry was stored."""
        with self._lock:
            self._count(entry, 1)
            self._list(self._flagged, entry)

    def amended(self, before: Entry, after: Entry) -> None:
        """A stored entry was amended (`before` as it was stored, `after` as it is now)."""
        with self._lock:
            if before.seq < self.shift.first_seq:
                self._list(self._amended, after)
                return
            self._count(before, -1)
            self._count(after, 1)
            self._list(self._flagged, after)

    def summary(self, closed_at: datetime) -> Handover:
        with self._lock:
            amended = sorted(self._amended.values(), key=by_seq)
            flagged = sorted(self._flagged.values(), key=by_seq)
            return Handover(
                shift=self.shift,
                closed_at=closed_at,
                counts=dict(self._counts),
                entered=self._directions[Direction.IN],
                left=self._directions[Direction.OUT],
                flagged=[*amended, *flagged],
                open_exceptions=[e for e in flagged if Reason.FEVER_REMEASURE in e.reasons],
            )

    def _count(self, entry: Entry, step: int) -> None:
        self._counts[entry.verdict] += step
        if entry.verdict is Verdict.ADMITTED:
            self._directions[entry.direction] += step

    @staticmethod
    def _list(listed: dict[str, Entry], entry: Entry) -> None:
        """Keep `entry` listed while it is not admitted; drop it once it is."""
        if entry.verdict is Verdict.ADMITTED:
            listed.pop(entry.entry_id, None)
        else:
            listed[entry.entry_id] = entry


def by_seq(entry: Entry) -> int:
    return entry.seq

"""The station's sync loop: new entries pushed within a second, full passes on a timer, each pass abandonable.

A recorded entry sets the station's `recorded` event, which wakes the loop: after PUSH_DEBOUNCE (so that a burst
of scans goes in one push) it runs a push-only pass. Full passes (push, heartbeat, roster, notices) come every
[center] sync_interval seconds; after an outage the backoff delay replaces the interval, and new entries wait
for it (the retry timer) instead of waking the loop. Quitting never waits for a pass.

Plain threads and callbacks, no Textual: the App runs `SyncLoop.run` in its sync worker and turns the callbacks
into messages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from kiosk.station.sync import Syncer

PASS_POLL = 0.2
"""Seconds between checks for cancellation while a sync pass runs (bounds how long quitting waits for it)."""
PUSH_DEBOUNCE = 0.3
"""Seconds between the entry that wakes the loop and its push: the rest of a burst of scans joins that push."""
PUSH_SPACING = 1.0
"""Fewest seconds from one pass's start to the next push's: a busy gate sends at most about one push a second."""
T = TypeVar("T")


def abandonable(should_stop: Callable[[], bool], call: Callable[[], T]) -> T | None:
    """`call()` in a daemon thread, waited for until `should_stop()`; None if asked to stop first.

    A request to a silent center blocks for [center] timeout, and closing the client from another thread does
    not wake a blocked read. Python waits for worker threads at exit but not for daemon threads, so quitting
    never waits for a pass (its journal writes are as safe as after a kill: the next start replays them).
    """
    done: Future[T] = Future()

    def run() -> None:
        try:
            done.set_result(call())
        except BaseException as exc:  # handed to the caller's worker, whose failure handler shows it
            done.set_exception(exc)

    threading.Thread(target=run, name="sync-pass", daemon=True).start()
    while not should_stop():
        if wait([done], timeout=PASS_POLL).done:
            return done.result()
    return None


class SyncLoop:
    """Builds the syncer if needed, then runs passes until stopped: a push when `recorded` is set, a full pass
    when `next_delay` has passed."""

    def __init__(
        self,
        syncer: Syncer | None,
        syncer_factory: Callable[[], Syncer] | None,
        monotonic: Callable[[], float],
        recorded: threading.Event | None = None,
    ) -> None:
        """`recorded` is set by whoever records entries (Station.recorded); without it only the timer runs."""
        self.syncer = syncer
        self.syncer_factory = syncer_factory
        self.monotonic = monotonic
        self.recorded = recorded

    def run(
        self,
        should_stop: Callable[[], bool],
        wait_for: Callable[[float], object],
        after_pass: Callable[[bool], None],
    ) -> None:
        """Pass after pass until `should_stop()`; `wait_for(seconds)` sleeps but wakes early when stopping;
        `after_pass(full)` hears of every pass (full: it pulled roster and notices too)."""
        if self.syncer is None:
            assert self.syncer_factory is not None
            self.syncer = abandonable(should_stop, self.syncer_factory)
        full, next_full = True, 0.0
        while self.syncer is not None and not should_stop():
            if self.recorded is not None:
                self.recorded.clear()  # entries recorded from now on are in this pass, or wake the next one
            started = self.monotonic()
            report = abandonable(should_stop, self.syncer.sync_once if full else self.syncer.push_once)
            if report is None:
                return
            after_pass(full)
            delay = self.syncer.next_delay(report)
            if full or report.offline:
                next_full = self.monotonic() + delay
            woken = self._sleep(should_stop, wait_for, next_full, wake=not report.offline)
            if woken:
                self._sleep(
                    should_stop, wait_for, min(next_full, max(self.monotonic() + PUSH_DEBOUNCE, started + PUSH_SPACING))
                )
            full = self.monotonic() >= next_full

    def _sleep(
        self,
        should_stop: Callable[[], bool],
        wait_for: Callable[[float], object],
        deadline: float,
        wake: bool = False,
    ) -> bool:
        """Sleep until `deadline` (monotonic) or a stop; with `wake`, until a new entry too: True if one came."""
        while not should_stop():
            left = deadline - self.monotonic()
            if left <= 0:
                return False
            if wake and self.recorded is not None:
                if self.recorded.wait(min(left, PASS_POLL)):
                    return True
            else:
                wait_for(min(left, PASS_POLL))
        return False

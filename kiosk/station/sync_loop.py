"""The station's sync loop: passes one after another, each abandonable, so that quitting never waits for one.

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
    """Builds the syncer if needed, then runs passes until stopped, waiting `next_delay` between them."""

    def __init__(
        self,
        syncer: Syncer | None,
        syncer_factory: Callable[[], Syncer] | None,
        monotonic: Callable[[], float],
    ) -> None:
        self.syncer = syncer
        self.syncer_factory = syncer_factory
        self.monotonic = monotonic

    def run(
        self, should_stop: Callable[[], bool], wait_for: Callable[[float], object], after_pass: Callable[[], None]
    ) -> None:
        """Pass after pass until `should_stop()`; `wait_for(seconds)` sleeps but wakes early when stopping."""
        if self.syncer is None:
            assert self.syncer_factory is not None
            self.syncer = abandonable(should_stop, self.syncer_factory)
        while self.syncer is not None and not should_stop():
            report = abandonable(should_stop, self.syncer.sync_once)
            if report is None:
                return
            after_pass()
            deadline = self.monotonic() + self.syncer.next_delay(report)
            while not should_stop() and self.monotonic() < deadline:
                wait_for(PASS_POLL)

"""Garbage collection kept off the scan path.

A full collection walks every tracked object that is not frozen: with a 50k roster, a busy day's screen data and
Textual's caches, 50-400 ms measured (bench/gate.py, bench/screens.py), all of it holding the GIL while a scan
waits. So, in the station's process:
- `tune_for_the_gate()`: no automatic full collection (the young generations are still collected as usual, a
  few ms each), and the GIL handed between threads every 1 ms instead of 5;
- `Collector.freeze_if_new`: the roster and the store's indexes, once loaded or replaced by sync, are frozen out
  of every collection's reach (they hold no cycles: a replaced roster is still freed by reference counting);
- `Collector.collect_if_quiet`: the full collection, run when the gate has been quiet for a moment (and at least
  every few minutes at a gate that is never quiet).
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable

GIL_SWITCH_SECONDS = 0.001
"""How long a thread may hold the GIL while another waits for it (Python's default: 0.005). A scan gives the GIL
up several times (the journal's fsync, the terminal's writer thread) before its verdict is drawn, and with a busy
worker it waited up to the whole interval each time."""
FULL_COLLECTIONS_NEVER = 10**9
"""A threshold for the oldest generation that no count reaches: its collections happen only when asked for."""
QUIET_SECONDS = 3.0
"""No entry recorded for this long: a full collection will not delay anyone's verdict."""
COLLECT_EVERY = 20.0
"""Seconds between the app's checks whether the gate is quiet enough for a full collection."""
LONGEST_WAIT = 300.0
"""Seconds after which a full collection runs even at a busy gate: a queue that never pauses does not let the
garbage of cycles (closed screens, Textual's messages) pile up all morning."""


def tune_for_the_gate() -> None:
    """The interpreter set for the gate's thread, whatever the workers (sync, fold, a screen's loading) do."""
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTIONS_NEVER)


class Collector:
    """When to freeze what is loaded and when to collect; the app tells it what happened."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.frozen_version: str | None = None
        """The roster version frozen last (None: nothing frozen yet)."""
        self.monotonic = monotonic
        self.collected_at = monotonic()

    def freeze_if_new(self, roster_version: str, covered: bool) -> bool:
        """Freeze everything alive now if the roster was loaded or changed since the last freeze; not while a
        staff screen is `covered`ing the gate (its widgets, frozen, would never be collected once it closes)."""
        if roster_version == self.frozen_version or covered:
            return False
        self.frozen_version = roster_version
        gc.freeze()
        return True

    def collect_if_quiet(self, quiet_for: float) -> bool:
        """A full collection, if no entry was recorded for `quiet_for` >= QUIET_SECONDS, or none ran for
        LONGEST_WAIT seconds."""
        now = self.monotonic()
        if quiet_for < QUIET_SECONDS and now - self.collected_at < LONGEST_WAIT:
            return False
        gc.collect()
        self.collected_at = now
        return True

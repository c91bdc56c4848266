"""Garbage collection off the scan path (`kiosk.station.collector`), with the interpreter's real collector."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from kiosk.station.collector import (
    FULL_COLLECTIONS_NEVER,
    LONGEST_WAIT,
    QUIET_SECONDS,
    Collector,
    tune_for_the_gate,
)


@pytest.fixture
def interpreter() -> Iterator[None]:
    """The test process's GC and GIL settings, put back afterwards (and what the tests froze, unfrozen)."""
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        sys.setswitchinterval(interval)


class Cycle:
    """An object in a reference cycle: only a garbage collection frees it."""

    def __init__(self) -> None:
        self.me = self


def cycles_alive() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, Cycle))


def test_tuned_the_oldest_generation_is_collected_only_when_asked(interpreter: None) -> None:
    gc.collect()
    tune_for_the_gate()
    assert gc.get_threshold()[2] == FULL_COLLECTIONS_NEVER and sys.getswitchinterval() == pytest.approx(0.001)
    cycle = Cycle()
    gc.collect(1)  # still in use: it moves to the oldest generation, as a long-lived object does
    del cycle
    survivors = [[] for _ in range(200_000)]  # many young collections, and by default some full ones
    assert cycles_alive() == 1
    del survivors
    assert Collector().collect_if_quiet(QUIET_SECONDS)
    assert cycles_alive() == 0


def test_a_busy_gate_is_collected_only_after_the_longest_wait(interpreter: None) -> None:
    gc.collect()
    now = [100.0]
    collector = Collector(lambda: now[0])
    Cycle()
    now[0] += LONGEST_WAIT - 1
    assert not collector.collect_if_quiet(QUIET_SECONDS - 0.5)
    assert cycles_alive() == 1
    now[0] += 1
    assert collector.collect_if_quiet(QUIET_SECONDS - 0.5)
    assert cycles_alive() == 0
    assert not collector.collect_if_quiet(0.0)


def test_freezes_once_per_roster_and_never_over_a_staff_screen(interpreter: None) -> None:
    collector = Collector()
    frozen = gc.get_freeze_count()
    assert not collector.freeze_if_new("7", covered=True)
    assert gc.get_freeze_count() == frozen
    assert collector.freeze_if_new("7", covered=False)
    assert gc.get_freeze_count() > frozen
    assert not collector.freeze_if_new("7", covered=False)
    assert collector.freeze_if_new("8", covered=False)

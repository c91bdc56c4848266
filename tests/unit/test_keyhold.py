"""BurstHold tells a keyboard-wedge burst from a person's typing by the gaps between keys, losing no key."""

from __future__ import annotations

from kiosk.station.keyhold import BurstHold


def test_a_fast_run_ended_by_enter_is_a_scan_and_reaches_no_form() -> None:
    hold: BurstHold[str] = BurstHold(max_gap=0.05, min_length=4)
    released = [key for i, c in enumerate("2023000101") for key in hold.add(f"k{i}", c, 10.0 + i * 0.005)]
    assert released == []
    assert hold.enter(10.0 + 10 * 0.005) == "2023000101"
    assert not hold.holding


def test_a_persons_keys_are_released_in_order_and_enter_passes() -> None:
    hold: BurstHold[str] = BurstHold(max_gap=0.05, min_length=4)
    released: list[str] = []
    for i, c in enumerate("3650"):
        released += hold.add(c, c, 10.0 + i * 0.2)
    assert released == ["3", "6", "5"], "each key released when the next comes too late to join it"
    assert hold.enter(10.0 + 4 * 0.2) is None
    assert hold.release() == ["0"]


def test_a_burst_right_after_typing_takes_only_the_burst() -> None:
    hold: BurstHold[str] = BurstHold(max_gap=0.05, min_length=4)
    released = hold.add("李", "李", 1.0)
    for i, c in enumerate("99999999"):
        released += hold.add(c, c, 2.0 + i * 0.004)
    assert released == ["李"], "the officer's key goes to the form"
    assert hold.enter(2.0 + 8 * 0.004) == "99999999"


def test_a_short_fast_run_is_typing() -> None:
    hold: BurstHold[str] = BurstHold(max_gap=0.05, min_length=4)
    for i, c in enumerate("ab"):
        hold.add(c, c, 1.0 + i * 0.01)
    assert hold.enter(1.03) is None
    assert hold.release() == ["a", "b"]

"""Telling a keyboard-wedge scanner's burst from a person typing."""

from __future__ import annotations

import pytest

from kiosk.domain.models import Method
from kiosk.station.scanner import KeyboardWedge, WedgeEvent


def type_out(wedge: KeyboardWedge, keys: str, gaps: float | list[float], start: float = 100.0) -> list[WedgeEvent]:
    """Feed `keys` ("\\r" is Enter) with the given gap before every key after the first."""
    spacing = gaps if isinstance(gaps, list) else [gaps] * len(keys)
    events, at = [], start
    for index, key in enumerate(keys):
        at += spacing[index] if index else 0.0
        event = wedge.feed(key, at)
        if event is not None:
            events.append(event)
    return events


@pytest.mark.parametrize(
    ("gap", "from_scanner", "method"),
    [
        (0.004, True, Method.KEYBOARD_SCAN),
        (0.05, True, Method.KEYBOARD_SCAN),
        (0.051, False, Method.TYPED),
        (0.25, False, Method.TYPED),
    ],
)
def test_burst_or_typing_by_the_gap_between_keys(gap: float, from_scanner: bool, method: Method) -> None:
    events = type_out(KeyboardWedge(max_gap=0.05), "2023000101\r", gap)
    assert events == [WedgeEvent("2023000101", from_scanner=from_scanner)]
    assert events[0].method == method


def test_a_slow_enter_after_a_fast_burst_is_typing() -> None:
    events = type_out(KeyboardWedge(), "T1001\r", [0.0, 0.01, 0.01, 0.01, 0.01, 2.0])
    assert events == [WedgeEvent("T1001", from_scanner=False)]


def test_a_stray_key_before_the_burst_does_not_spoil_the_scan() -> None:
    wedge = KeyboardWedge()
    events = type_out(wedge, "x2023000101\r", [0.0, 3.0] + [0.01] * 10)
    assert events == [WedgeEvent("2023000101", from_scanner=True)]


def test_a_short_fast_burst_is_not_a_scan() -> None:
    events = type_out(KeyboardWedge(min_length=4), "ab\r", 0.01)
    assert events == [WedgeEvent("ab", from_scanner=False)]


def test_enter_alone_gives_nothing_and_state_resets_between_scans() -> None:
    wedge = KeyboardWedge()
    assert wedge.feed("\r", 1.0) is None
    first = type_out(wedge, "2023000101\r", 0.01, start=10.0)
    second = type_out(wedge, "2023000102\n", 0.01, start=10.2)
    assert [e.text for e in first + second] == ["2023000101", "2023000102"]
    assert all(e.from_scanner for e in first + second)


def test_keys_that_are_not_characters_are_ignored() -> None:
    wedge = KeyboardWedge()
    for key, at in (("2", 1.0), ("", 1.01), ("\x1b", 1.02), ("0", 1.03), ("2", 1.04), ("3", 1.05)):
        assert wedge.feed(key, at) is None
    assert wedge.feed("\r", 1.06) == WedgeEvent("2023", from_scanner=True)


def test_endless_typing_stays_bounded_and_comes_out_too_long() -> None:
    wedge = KeyboardWedge(max_length=64)
    events = type_out(wedge, "9" * 10_000 + "\r", 0.001)
    assert len(events[0].text) == 65

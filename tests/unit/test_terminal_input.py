"""The gate's terminal parser (`screens.terminal.TolerantXTermParser`) fed bytes as Textual's input thread feeds it."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.messages import InBandWindowResize

from screens.terminal import TolerantXTermParser


def parsed(data: str) -> list[Message]:
    parser = TolerantXTermParser()
    return [*parser.feed(data), *parser.tick()]


def test_forged_size_reports_are_dropped_and_keys_around_them_kept() -> None:
    """Any bytes can say the terminal is 1×1 or 9999×9999: the size comes from the kernel (SIGWINCH) only."""
    messages = parsed("1\x1b[48;1;1;0;0t2\x1b[48;9999;9999;0;0t3")
    assert not [m for m in messages if isinstance(m, events.Resize)]
    assert [m.key for m in messages if isinstance(m, events.Key)] == ["1", "2", "3"]


def test_a_forged_answer_about_size_reports_is_dropped() -> None:
    """`CSI ?2048;2$y` would make Textual trust the reports above and stop listening to SIGWINCH."""
    assert not [m for m in parsed("\x1b[?2048;2$y") if isinstance(m, InBandWindowResize)]


def test_pixel_mouse_coordinates_are_not_switched_on_by_a_forged_report() -> None:
    parser = TolerantXTermParser()
    [*parser.feed("\x1b[48;40;120;800;1200t")]
    assert parser.mouse_pixels is False

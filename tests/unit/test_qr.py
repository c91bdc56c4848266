"""kiosk/domain/qr.py: what is drawn decodes to the URL, whole or not at all, with its quiet zone, from the cache."""

from __future__ import annotations

import string

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from qrscreen import decode_modules, decode_screen, find_code, quiet_zone_is_clear, to_image

from kiosk.domain.qr import DARK_CHARS, QUIET_ZONE, module_matrix, render_qr

PREFIX = "https://news.bnu.edu.cn/"
PATH_CHARS = string.ascii_letters + string.digits + "-_/?=&%."


def url_of_length(length: int) -> str:
    """A plausible notice URL exactly `length` characters long."""
    path = "".join(PATH_CHARS[(i * 7) % len(PATH_CHARS)] for i in range(max(0, length - len(PREFIX))))
    return (PREFIX + path)[:length] if length >= len(PREFIX) else "https://bnu.edu.cn/" + "a" * (length - 19)


URL_LENGTHS = [20, 30, 45, 60, 75, 90, 105, 120]
AREAS = [(80, 24), (100, 30), (120, 40), (160, 50), (200, 60)]


@pytest.mark.parametrize("length", URL_LENGTHS)
@pytest.mark.parametrize(("width", "height"), AREAS)
def test_a_drawn_code_decodes_to_the_url(length: int, width: int, height: int) -> None:
    url = url_of_length(length)
    assert len(url) == length
    drawn = render_qr(url, width, height)
    if not drawn.fits:
        assert drawn.needed[0] > width or drawn.needed[1] > height
        return
    assert len(drawn.lines) <= height and all(len(line) == drawn.needed[0] <= width for line in drawn.lines)
    assert set("".join(drawn.lines)) <= set(DARK_CHARS + " ")
    found = find_code(drawn.lines)
    assert found is not None
    assert found.column == QUIET_ZONE and found.row == QUIET_ZONE // 2
    assert quiet_zone_is_clear(drawn.lines, found)
    assert decode_modules(found.modules) == url


def test_every_tested_url_fits_the_largest_area() -> None:
    assert all(render_qr(url_of_length(n), 200, 60).fits for n in URL_LENGTHS)


def test_a_long_url_does_not_fit_an_80x24_terminal_but_a_short_one_does() -> None:
    long_url, short_url = url_of_length(120), url_of_length(30)
    assert render_qr(long_url, 80, 24).needed == (53, 27)
    assert not render_qr(long_url, 80, 24).fits
    assert render_qr(long_url, 80, 27).fits
    assert render_qr(short_url, 80, 24).fits


@pytest.mark.parametrize("length", [20, 75, 120])
def test_one_cell_too_few_in_either_direction_gives_the_message_and_no_lines(length: int) -> None:
    url = url_of_length(length)
    columns, rows = render_qr(url, 500, 500).needed
    assert render_qr(url, columns, rows).fits
    for width, height in [(columns - 1, rows), (columns, rows - 1), (0, 0)]:
        drawn = render_qr(url, width, height)
        assert drawn.lines == ()
        assert drawn.message is not None
        assert "请放大窗口" in drawn.message and "enlarge the window" in drawn.message


def test_text_beyond_version_40_gives_the_message_not_an_error() -> None:
    drawn = render_qr("x" * 5000, 500, 500)
    assert not drawn.fits and drawn.lines == ()


def test_error_correction_m_and_regular_qr_even_for_tiny_text() -> None:
    modules = module_matrix("a")
    assert len(modules) == 21 + 2 * QUIET_ZONE  # version 1, never Micro QR (11-17 modules)
    found = find_code(render_qr("https://bnu.edu.cn/x", 80, 24).lines)
    assert found is not None
    (result,) = zxingcpp.read_barcodes(to_image(found.modules))
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    assert result.ec_level == "M"


def test_renders_are_cached_per_url_and_size() -> None:
    url = url_of_length(64)
    first = render_qr(url, 91, 33)
    hits = render_qr.cache_info().hits
    assert render_qr(url, 91, 33) is first
    assert render_qr.cache_info().hits == hits + 1
    assert render_qr(url, 92, 33) == first  # another size: rendered again, same drawing


def test_screen_text_without_a_whole_code_decodes_to_nothing() -> None:
    lines = render_qr(url_of_length(60), 200, 60).lines
    assert decode_screen(lines[: len(lines) // 2]) is None
    assert decode_screen([line[: len(line) - 8] for line in lines]) is None
    assert decode_screen(["█" * 60] * 30) is None


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=PATH_CHARS, min_size=1, max_size=101))
def test_any_path_round_trips(path: str) -> None:
    url = "https://www.bnu.edu.cn/" + path
    assert decode_screen(render_qr(url, 200, 60).lines) == url

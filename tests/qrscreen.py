"""Find a QR code in the text of a screen and decode it, as a phone would.

Works on plain text — lines from `tmux capture-pane -p` or from `screen_lines(app)` for a running Textual
app — because kiosk/domain/qr.py draws with characters that say by themselves which modules are dark
('█' both, '▀' top, '▄' bottom, ' ' neither; two module rows per cell).

The code is located by its finder patterns, which at two module rows per cell always read
"█▀▀▀▀▀█" / "█ ███ █" / "█ ▀▀▀ █" / "▀▀▀▀▀▀▀" (the quiet zone is 4 modules, so the code starts on a cell
boundary). The top-left and top-right patterns give the size; the bottom-left one must agree. Other block
characters on the screen (banners, bars) cannot be mistaken for a code.

    lines = screen_lines(app)          # or capture-pane output split into lines
    assert decode_screen(lines) == url
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import zxingcpp
from PIL import Image
from rich.cells import get_character_cell_size

if TYPE_CHECKING:
    from textual.app import App
    from textual.strip import Strip

FINDER = ("█▀▀▀▀▀█", "█ ███ █", "█ ▀▀▀ █", "▀▀▀▀▀▀▀")
WIDE_FILLER = "\x00"
"""Stands for the second cell of a wide (CJK) character, so that columns line up with the screen."""


@dataclass(frozen=True)
class FoundCode:
    """A code found on screen: where its modules start (cell row and column) and the modules themselves."""

    row: int
    column: int
    modules: tuple[tuple[bool, ...], ...]
    """Dark is True; quiet zone excluded."""

    @property
    def size(self) -> int:
        return len(self.modules)


def to_cells(line: str) -> str:
    """`line` with one character per terminal cell (wide characters followed by WIDE_FILLER)."""
    return "".join(char + WIDE_FILLER * (get_character_cell_size(char) - 1) for char in line)


def _at(lines: Sequence[str], row: int, column: int) -> str:
    if 0 <= row < len(lines) and 0 <= column < len(lines[row]):
        return lines[row][column]
    return " "


def _finder_at(lines: Sequence[str], row: int, column: int) -> bool:
    return all(
        row + i < len(lines) and lines[row + i][column : column + 7] == part for i, part in enumerate(FINDER)
    )


def find_code(screen: Sequence[str]) -> FoundCode | None:
    """The first whole code on the screen (top to bottom), or None."""
    lines = [to_cells(line) for line in screen]
    for row in range(len(lines) - len(FINDER) + 1):
        starts = [c for c in range(len(lines[row]) - 6) if _finder_at(lines, row, c)]
        for left in starts:
            for right in reversed(starts):
                size = right + 7 - left
                if size < 21 or (size - 21) % 4:
                    continue
                if _finder_at(lines, row + (size - 7) // 2, left):
                    return FoundCode(row, left, _modules(lines, row, left, size))
    return None


def _modules(lines: Sequence[str], row: int, column: int, size: int) -> tuple[tuple[bool, ...], ...]:
    def dark(r: int, c: int) -> bool:
        char = _at(lines, row + r // 2, column + c)
        return char == "█" or char == ("▀" if r % 2 == 0 else "▄")

    return tuple(tuple(dark(r, c) for c in range(size)) for r in range(size))


def quiet_zone_is_clear(screen: Sequence[str], found: FoundCode, modules: int = 4) -> bool:
    """True when `modules` light modules surround the code on the screen (checked by cell, as drawn)."""
    lines = [to_cells(line) for line in screen]
    top, left, size = found.row, found.column, found.size
    last = top + (size - 1) // 2
    cell_rows = range(top - modules // 2, last + modules // 2 + 1)
    for r in cell_rows:
        for c in range(left - modules, left + size + modules):
            inside = top <= r <= last and left <= c < left + size
            if not inside and _at(lines, r, c) != " ":
                return False
    # the code has an odd number of module rows: the bottom half of its last cell row is quiet zone
    return all(_at(lines, last, c) in " ▀" for c in range(left, left + size))


def to_image(modules: Sequence[Sequence[bool]], scale: int = 8, margin: int = 4) -> Image.Image:
    """A black-on-white picture of the modules, `margin` modules of white around, `scale` pixels a module."""
    side = (len(modules) + 2 * margin) * scale
    image = Image.new("L", (side, side), 255)
    for r, row in enumerate(modules):
        for c, is_dark in enumerate(row):
            if is_dark:
                x, y = (c + margin) * scale, (r + margin) * scale
                image.paste(0, (x, y, x + scale, y + scale))
    return image


def decode_modules(modules: Sequence[Sequence[bool]]) -> str | None:
    """What a QR reader finds in the modules, or None."""
    results = zxingcpp.read_barcodes(to_image(modules), formats=zxingcpp.BarcodeFormat.QRCode)
    return results[0].text if results else None


def decode_screen(screen: Sequence[str]) -> str | None:
    """The text of the first code on the screen, or None when there is no whole, readable code."""
    found = find_code(screen)
    return decode_modules(found.modules) if found else None


def screen_strips(app: App) -> list[Strip]:
    """The active screen as Textual draws it, one Strip (segments with styles) per row.

    Uses the screen's compositor (`Screen._compositor.render_strips()`), the same call Textual's own
    screenshot export is built on; modal screens show without the screens beneath them.
    """
    return app.screen._compositor.render_strips()


def screen_lines(app: App) -> list[str]:
    """The active screen's plain text, one string per row (as tmux capture-pane would give it)."""
    return [strip.text for strip in screen_strips(app)]

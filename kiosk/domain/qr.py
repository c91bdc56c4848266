"""QR codes as terminal text: half-block characters, dark on light, with the standard 4-module quiet zone.

Each character cell carries two modules stacked (one column, two module rows), and the character alone says
which are dark: '█' both, '▀' top, '▄' bottom, ' ' neither. So the plain text of the screen (tmux
capture-pane without colours) still determines the code; the widget draws these characters in `QR_STYLE`,
black on white, whatever the terminal theme, because phones read light-on-dark codes badly
(deltachat-desktop #2163). The `qrcode` library makes regular QR codes only (never Micro QR), at the smallest
version that fits. A code is drawn whole or not at all: when the space is too small the result carries
"请放大窗口 / enlarge the window" instead of lines. `qrcode` (which loads Pillow, ~40 ms) is imported when the
first code is made, not when the gate starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from kiosk.domain.i18n import both

QUIET_ZONE = 4
"""Light modules around the code, as ISO/IEC 18004 asks (qrcode's print_tty draws only 1)."""
QR_STYLE = "#000000 on #ffffff"
"""Dark modules on a light background, explicit so that a dark terminal theme cannot invert the code."""
DARK_CHARS = "█▀▄"
"""Characters that hold at least one dark module."""

_CELL = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


@dataclass(frozen=True)
class QRRender:
    """A code drawn for a given space, or the reason it was not drawn."""

    lines: tuple[str, ...]
    """Rows of equal width, quiet zone included; empty when the code does not fit."""
    needed: tuple[int, int]
    """Cells (columns, rows) the whole code needs, quiet zone included; (0, 0) if the text cannot be encoded."""
    message: str | None = None
    """Bilingual text to show instead of the code (the space is too small), or None when drawn."""

    @property
    def fits(self) -> bool:
        return self.message is None


@lru_cache(maxsize=256)
def module_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """The code's modules (True is dark), quiet zone included, at level M; ValueError past version 40."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M
    from qrcode.exceptions import DataOverflowError

    code = qrcode.QRCode(version=None, error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(text)
    try:
        code.make(fit=True)
    except DataOverflowError as exc:
        raise ValueError(str(exc)) from exc
    return tuple(tuple(bool(module) for module in row) for row in code.get_matrix())


def cells_needed(modules: int) -> tuple[int, int]:
    """Columns and rows of character cells for a square of `modules` modules (two module rows per cell)."""
    return modules, (modules + 1) // 2


@lru_cache(maxsize=256)
def render_qr(text: str, width: int, height: int) -> QRRender:
    """The code for `text` in a space of `width` × `height` cells, or the enlarge message. Cached per size."""
    try:
        matrix = module_matrix(text)
    except ValueError:  # past version 40
        return QRRender(lines=(), needed=(0, 0), message=both("qr.enlarge"))
    needed = cells_needed(len(matrix))
    if needed[0] > width or needed[1] > height:
        return QRRender(lines=(), needed=needed, message=both("qr.enlarge"))
    light_row = (False,) * len(matrix)
    rows = [*matrix, light_row] if len(matrix) % 2 else list(matrix)
    lines = tuple(
        "".join(_CELL[top, bottom] for top, bottom in zip(rows[i], rows[i + 1], strict=True))
        for i in range(0, len(rows), 2)
    )
    return QRRender(lines=lines, needed=needed)

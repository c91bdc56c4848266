"""Charts drawn on the server as inline SVG: no script, nothing fetched, readable without JavaScript.

Bars are stacked by verdict (admitted, denied, referred); the colours are classes styled in dashboard.css.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from kiosk.center.schemas import VerdictCounts

PARTS = ("admitted", "denied", "referred")
_ROW = 22
_LABEL = 150
_WIDTH = 560


def bars(rows: Sequence[tuple[str, VerdictCounts]], title: str) -> Markup:
    """One horizontal stacked bar per labelled row, its total written at the end."""
    peak = max((counts.total for _, counts in rows), default=0) or 1
    span = _WIDTH - _LABEL - 60
    height = _ROW * max(len(rows), 1) + 4
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" role="img"'
        f' aria-label="{escape(title)}">'
    ]
    for index, (label, counts) in enumerate(rows):
        y = index * _ROW + 2
        parts.append(f'<text class="label" x="{_LABEL - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        x = float(_LABEL)
        for part in PARTS:
            value = getattr(counts, part)
            if value:
                width = span * value / peak
                parts.append(
                    f'<rect class="{part}" x="{x:.1f}" y="{y}" width="{max(width, 1):.1f}" height="{_ROW - 6}">'
                    f"<title>{part}: {value}</title></rect>"
                )
                x += width
        parts.append(f'<text class="value" x="{x + 4:.1f}" y="{y + 15}">{counts.total}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(rows: Sequence[tuple[str, VerdictCounts]], title: str) -> Markup:
    """Vertical stacked columns (the hours of a day), labelled underneath."""
    peak = max((counts.total for _, counts in rows), default=0) or 1
    width, top, plot, bottom = 24, 14, 120, 22
    total_width = width * len(rows) + 8
    parts = [
        f'<svg class="chart" viewBox="0 -{top} {total_width} {top + plot + bottom}" width="{total_width}"'
        f' height="{top + plot + bottom}" role="img" aria-label="{escape(title)}">'
    ]
    for index, (label, counts) in enumerate(rows):
        x = index * width + 4
        y = float(plot)
        for part in PARTS:
            value = getattr(counts, part)
            if value:
                height = plot * value / peak
                y -= height
                parts.append(
                    f'<rect class="{part}" x="{x}" y="{y:.1f}" width="{width - 4}" height="{height:.1f}">'
                    f"<title>{escape(label)} {part}: {value}</title></rect>"
                )
        if counts.total:
            parts.append(
                f'<text class="value" x="{x + (width - 4) / 2}" y="{y - 2:.1f}" text-anchor="middle">'
                f"{counts.total}</text>"
            )
        parts.append(
            f'<text class="label" x="{x + (width - 4) / 2}" y="{plot + 14}" text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def qr_svg(matrix: Sequence[Sequence[bool]], module: int = 6) -> Markup:
    """A QR code's modules (quiet zone included) as black squares on white, as the gate draws them."""
    size = len(matrix) * module
    parts = [
        f'<svg class="qr" viewBox="0 0 {size} {size}" width="{size}" height="{size}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#ffffff"/><path fill="#000000" d="'
    ]
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                parts.append(f"M{x * module} {y * module}h{module}v{module}h-{module}z")
    parts.append('"/></svg>')
    return Markup("".join(parts))

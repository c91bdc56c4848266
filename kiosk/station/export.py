"""Reports of gate entries for the school's statistics office (CSV, XLSX) and for scripts (JSON lines).

Exports carry full, unmasked data: they are files for the office, never shown at the gate, so every file is
created 0600 and appears under its name only once completely written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

from kiosk.domain.i18n import Language, t
from kiosk.domain.models import Entry, Verdict

Format = Literal["csv", "xlsx", "jsonl"]

COLUMNS = (
    "time",
    "station",
    "direction",
    "person_id",
    "name",
    "role",
    "method",
    "verdict",
    "reasons",
    "temperatures",
    "operator",
    "offline",
    "synced",
)
FEVER_FILL = "FFC7CE"
"""Light red: rows with a high temperature."""
NOT_ADMITTED_FILL = "FFEB9C"
"""Light yellow: denied or referred rows without a fever."""
MAX_WIDTH = 50
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_report(entries: Sequence[Entry], path: Path | None, fmt: Format, language: Language = "zh") -> None:
    """Write `entries` as a report; `path` None writes CSV or JSON lines to standard output."""
    if path is None:
        if fmt == "xlsx":
            raise ValueError("an XLSX report needs a file")
        sys.stdout.flush()
        _write_text(entries, sys.stdout.buffer, fmt, language, bom=False)
        sys.stdout.buffer.flush()
        return
    with _private_file(path) as stream:
        if fmt == "xlsx":
            _write_xlsx(entries, stream, language)
        else:
            # The BOM makes Excel on Chinese Windows read the CSV as UTF-8 rather than GBK.
            _write_text(entries, stream, fmt, language, bom=fmt == "csv")


def report_row(entry: Entry, language: Language = "zh") -> list[Any]:
    """The values of one entry under COLUMNS, readable in `language`."""
    yes, no = t("export.yes", language), t("export.no", language)
    return [
        entry.captured_at,
        entry.station_id,
        t(f"export.direction.{entry.direction}", language),
        entry.person_id,
        entry.name,
        t(f"export.role.{entry.role}", language),
        t(f"export.method.{entry.method}", language),
        t(f"export.verdict.{entry.verdict}", language),
        "; ".join(t(f"reason.{reason}", language) for reason in entry.reasons),
        "; ".join(f"{reading.celsius:.1f}" for reading in entry.readings),
        entry.operator,
        yes if entry.offline else no,
        yes if entry.acked_at is not None else no,
    ]


def _write_text(entries: Sequence[Entry], binary: IO[bytes], fmt: Format, language: Language, bom: bool) -> None:
    text = io.TextIOWrapper(binary, encoding="utf-8-sig" if bom else "utf-8", newline="")
    if fmt == "jsonl":
        for entry in entries:
            text.write(json.dumps(entry.to_dict(), ensure_ascii=False) + "\n")
    else:
        writer = csv.writer(text)
        writer.writerow(_header(language))
        for entry in entries:
            writer.writerow(_defused(value) for value in report_row(entry, language))
    text.flush()
    text.detach()  # leave the binary stream open: it belongs to the caller


def _defused(value: Any) -> Any:
    """A visitor typing "=HYPERLINK(...)" as a name must not become a formula in the office's spreadsheet."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _header(language: Language) -> list[str]:
    return [t(f"export.col.{column}", language) for column in COLUMNS]


def _write_xlsx(entries: Sequence[Entry], stream: IO[bytes], language: Language) -> None:
    from openpyxl import Workbook  # only XLSX exports pay for openpyxl

    # Write-only mode streams rows to the file: a busy canteen's day is tens of thousands of rows.
    book = Workbook(write_only=True)
    rows = [_xlsx_values(entry, language) for entry in entries]
    _table_sheet(book, t("export.sheet.entries", language), _header(language), rows, [_fill(e) for e in entries])
    counts_header, counts = _hour_counts(entries, language)
    _table_sheet(book, t("export.sheet.counts", language), counts_header, counts, [None] * len(counts))
    book.save(stream)


def _xlsx_values(entry: Entry, language: Language) -> list[Any]:
    values = report_row(entry, language)
    values[0] = entry.captured.replace(tzinfo=None)  # Excel has no time zones: the station's wall time
    return values


def _fill(entry: Entry) -> str | None:
    if entry.fever:
        return FEVER_FILL
    if entry.verdict is not Verdict.ADMITTED:
        return NOT_ADMITTED_FILL
    return None


def _table_sheet(book: Any, title: str, header: list[str], rows: list[list[Any]], fills: list[str | None]) -> None:
    """A sheet with a bold frozen header, an auto-filter and columns wide enough for their CJK text."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    # A write-only sheet needs its column widths before its first row.
    for index, name in enumerate(header):
        widest = max([_display_width(name), *(_display_width(_shown(row[index])) for row in rows)])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(widest + 2, MAX_WIDTH)
    bold = Font(bold=True)
    heads = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        heads.append(cell)
    sheet.append(heads)
    styles = {colour: PatternFill(fill_type="solid", start_color=colour, end_color=colour) for colour in set(fills)}
    for row, colour in zip(rows, fills, strict=True):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with "=": never a formula
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            if colour is not None:
                cell.fill = styles[colour]
            cells.append(cell)
        sheet.append(cells)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"


def _hour_counts(entries: Sequence[Entry], language: Language) -> tuple[list[str], list[list[Any]]]:
    """Per hour of capture: entries by verdict, and all."""
    verdicts = list(Verdict)
    table = [[0] * len(verdicts) for _ in range(24)]
    for entry in entries:
        table[entry.hour][verdicts.index(entry.verdict)] += 1
    header = [t("export.hour", language), *(t(f"export.verdict.{v}", language) for v in verdicts)]
    header.append(t("export.total", language))
    rows: list[list[Any]] = [[f"{hour:02d}:00", *counts, sum(counts)] for hour, counts in enumerate(table)]
    totals = [sum(column) for column in zip(*table, strict=True)]
    rows.append([t("export.total", language), *totals, sum(totals)])
    return header, rows


def _shown(value: Any) -> str:
    return "2000-01-01 00:00:00" if isinstance(value, datetime) else str(value)


def _display_width(text: str) -> int:
    """Columns the text takes in a spreadsheet: CJK characters are twice as wide as Latin ones."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


@contextmanager
def _private_file(path: Path) -> Iterator[IO[bytes]]:
    """A new 0600 file beside `path` that replaces it only once completely written and synced."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal

from kiosk.domain.i18n import Language, t
from kiosk.domain.models import Direction, Entry, Method, Reason, Role, Verdict

Format = Literal["csv", "xlsx", "jsonl"]

COLUMNS = (
    "time",
    "local_time",
    "station",
    "direction",
    "person_id",
    "name",
    "role",
    "method",
    "verdict",
    "reasons",
    "temperature",
    "operator",
    "offline",
    "synced",
    "visitor_phone",
    "visitor_host",
    "visitor_reason",
)
"""Report columns; "temperature" stands for one numeric column per reading (at least MIN_READINGS), and
"local_time" is only in CSV (in XLSX, "time" is already a date-time cell Excel can sort and filter)."""
MIN_READINGS = 2
"""Temperature columns always present: the first reading and the re-measure."""
FEVER_FILL = "FFC7CE"
"""Light red: rows with a high temperature."""
NOT_ADMITTED_FILL = "FFEB9C"
"""Light yellow: denied or referred rows without a fever."""
_FILLS = (FEVER_FILL, NOT_ADMITTED_FILL)
MAX_WIDTH = 50
EXCEL_TEXT = 32_767
"""Characters of text one XLSX cell may hold."""
WIDTH_SAMPLE = 2000
"""Rows measured for column widths: enough to size every column, cheap on a 40k-row day."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[int, int], None]
Document = dict[str, Any]
"""An entry as the store keeps it (`Entry.to_dict()`): reports are written from these, without building Entry
objects, which was a fifth of the time of a big day's export."""
_FEVER_REASONS = frozenset((Reason.FEVER_REFERRED, Reason.FEVER_REMEASURE))


def write_report(
    entries: Sequence[Entry],
    path: Path | None,
    fmt: Format,
    language: Language = "zh",
    progress: Progress | None = None,
) -> None:
    """Write `entries` as a report; `path` None writes CSV or JSON lines to standard output."""
    write_documents([entry.to_dict() for entry in entries], path, fmt, language, progress)


def write_documents(
    documents: Sequence[Document],
    path: Path | None,
    fmt: Format,
    language: Language = "zh",
    progress: Progress | None = None,
) -> None:
    """`write_report` of the store's entry documents (`EntryStore.documents_of_day`); do not modify them."""
    if path is None:
        if fmt == "xlsx":
            raise ValueError("an XLSX report needs a file")
        sys.stdout.flush()
        _write_text(documents, sys.stdout.buffer, fmt, language, bom=False, progress=progress)
        sys.stdout.buffer.flush()
        return
    with _private_file(path) as stream:
        if fmt == "xlsx":
            _write_xlsx(documents, stream, language, progress)
        else:
            # The BOM makes Excel on Chinese Windows read the CSV as UTF-8 rather than GBK.
            _write_text(documents, stream, fmt, language, bom=fmt == "csv", progress=progress)


def header(documents: Sequence[Document], language: Language = "zh", fmt: Format = "csv") -> list[str]:
    """The column titles of a report of `documents`."""
    titles: list[str] = []
    for column in _columns(fmt):
        if column == "temperature":
            base = t("export.col.temperature", language)
            titles.extend(f"{base} {n}" for n in range(1, _readings(documents) + 1))
        else:
            titles.append(t(f"export.col.{column}", language))
    return titles


def report_row(
    doc: Document, language: Language = "zh", readings: int = MIN_READINGS, fmt: Format = "csv"
) -> list[Any]:
    """The values of one entry document under `header`, readable in `language`; temperatures as numbers."""
    words = _words(language)
    captured_at = doc["captured_at"]
    values: list[Any] = [
        captured_at if fmt != "xlsx" else datetime.fromisoformat(captured_at).replace(tzinfo=None),  # no zones in Excel
    ]
    if fmt != "xlsx":
        values.append(captured_at[:19].replace("T", " "))  # the station's wall time, as Excel reads times
    values += [
        doc["station_id"],
        words.direction[doc["direction"]],
        doc["person_id"],
        doc["name"],
        words.role[doc["role"]],
        words.method[doc["method"]],
        words.verdict[doc["verdict"]],
        "; ".join([words.reason[reason] for reason in doc["reasons"]]),
    ]
    celsius: list[Any] = [float(reading["celsius"]) for reading in doc.get("readings", ())]
    values += celsius + [None] * (readings - len(celsius))
    visitor = doc.get("visitor") or {}
    values += [
        doc["operator"],
        words.yes if doc.get("offline") else words.no,
        words.yes if doc.get("acked_at") is not None else words.no,
        visitor.get("phone", ""),
        visitor.get("host", ""),
        visitor.get("reason", ""),
    ]
    if fmt == "xlsx":  # Excel holds no longer text in a cell: a pasted essay as a name is cut, not the export
        return [value[:EXCEL_TEXT] if type(value) is str else value for value in values]
    return values


@dataclass(frozen=True)
class _Words:
    """The catalog's words for every value a report shows, by stored value: one dict hit per cell."""

    direction: dict[str, str]
    role: dict[str, str]
    method: dict[str, str]
    verdict: dict[str, str]
    reason: dict[str, str]
    yes: str
    no: str


@cache
def _words(language: Language) -> _Words:
    def of(kind: type[StrEnum], key: str) -> dict[str, str]:
        return {member.value: t(key.format(member), language) for member in kind}

    return _Words(
        of(Direction, "export.direction.{}"),
        of(Role, "export.role.{}"),
        of(Method, "export.method.{}"),
        of(Verdict, "export.verdict.{}"),
        of(Reason, "reason.{}"),
        t("export.yes", language),
        t("export.no", language),
    )


def _columns(fmt: Format) -> tuple[str, ...]:
    return COLUMNS if fmt != "xlsx" else tuple(c for c in COLUMNS if c != "local_time")


def _readings(documents: Sequence[Document]) -> int:
    return max([MIN_READINGS, *(len(doc.get("readings", ())) for doc in documents)])


def _write_text(
    documents: Sequence[Document],
    binary: IO[bytes],
    fmt: Format,
    language: Language,
    bom: bool,
    progress: Progress | None,
) -> None:
    text = io.TextIOWrapper(binary, encoding="utf-8-sig" if bom else "utf-8", newline="")
    total = len(documents)
    step = max(1, total // 100)
    if fmt == "jsonl":
        for done, doc in enumerate(documents, start=1):
            # Through Entry: every field present, in its order, whatever the store's file kept.
            text.write(json.dumps(Entry.from_dict(doc).to_dict(), ensure_ascii=False) + "\n")
            if progress is not None and done % step == 0:
                progress(done, total)
    else:
        writer = csv.writer(text)
        writer.writerow(header(documents, language, fmt))
        readings = _readings(documents)
        for done, doc in enumerate(documents, start=1):
            writer.writerow(["" if v is None else _defused(v) for v in report_row(doc, language, readings, fmt)])
            if progress is not None and done % step == 0:
                progress(done, total)
    if progress is not None:
        progress(total, total)
    text.flush()
    text.detach()  # leave the binary stream open: it belongs to the caller


def _defused(value: Any) -> Any:
    """A visitor typing "=HYPERLINK(...)" as a name must not become a formula in the office's spreadsheet."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_xlsx(
    documents: Sequence[Document], stream: BinaryIO, language: Language, progress: Progress | None
) -> None:
    import rustpy_xlsxwriter as xlsx  # only XLSX exports pay for it

    # rust_xlsxwriter (through this binding) writes the rows as the generator yields them: a 40k-row day in a few
    # tenths of a second, where XlsxWriter's per-cell Python took about 3 s and openpyxl's 10 s or more.
    readings = _readings(documents)
    titles = header(documents, language, "xlsx")
    sample = [report_row(doc, language, readings, "xlsx") for doc in documents[:WIDTH_SAMPLE]]
    fills = {colour: xlsx.Format().set_background_color(f"#{colour}").set_pattern("solid") for colour in _FILLS}
    coloured = {number: fills[colour] for number, doc in enumerate(documents, start=1) if (colour := _fill(doc))}
    total = len(documents)
    step = max(1, total // 100)

    def records() -> Iterator[dict[str, Any]]:
        for number, doc in enumerate(documents, start=1):
            values = sample[number - 1] if number <= len(sample) else report_row(doc, language, readings, "xlsx")
            yield dict(zip(titles, values, strict=True))  # distinct titles: one per reading, each numbered
            if progress is not None and number % step == 0:
                progress(number, total)
        if not documents:
            yield dict.fromkeys(titles)  # the header row comes from the records' keys: an empty day keeps it

    counts_header, counts = _hour_counts(documents, language)
    sheet, counts_sheet = t("export.sheet.entries", language), t("export.sheet.counts", language)
    both = (sheet, counts_sheet)
    xlsx.write_worksheets(
        [(sheet, records()), (counts_sheet, [dict(zip(counts_header, row, strict=True)) for row in counts])],
        stream,
        freeze_panes={name: {"row": 1, "col": 0} for name in both},
        datetime_format="yyyy-mm-dd hh:mm:ss",
        header_format=dict.fromkeys(both, xlsx.Format().set_bold()),
        autofilter=dict.fromkeys(both, True),
        column_widths={sheet: _column_widths(titles, sample), counts_sheet: _column_widths(counts_header, counts)},
        row_formats={sheet: coloured},  # a coloured row: its blank cells too, as Excel shows a row's format
    )
    if progress is not None:
        progress(total, total)


def _column_widths(titles: list[str], rows: list[list[Any]]) -> list[float]:
    """Columns wide enough for their CJK text (measured on the header and a sample of rows)."""
    return [
        min(max([_display_width(name), *(_display_width(_shown(row[index])) for row in rows)]) + 2, MAX_WIDTH)
        for index, name in enumerate(titles)
    ]


def _fill(doc: Document) -> str | None:
    if not _FEVER_REASONS.isdisjoint(doc["reasons"]):
        return FEVER_FILL
    if doc["verdict"] != Verdict.ADMITTED:
        return NOT_ADMITTED_FILL
    return None


def _hour_counts(documents: Sequence[Document], language: Language) -> tuple[list[str], list[list[Any]]]:
    """Per hour of capture: entries by verdict, and all."""
    verdicts = list(Verdict)
    column = {verdict.value: index for index, verdict in enumerate(verdicts)}
    table = [[0] * len(verdicts) for _ in range(24)]
    for doc in documents:
        table[int(doc["captured_at"][11:13])][column[doc["verdict"]]] += 1
    header = [t("export.hour", language), *(t(f"export.verdict.{v}", language) for v in verdicts)]
    header.append(t("export.total", language))
    rows: list[list[Any]] = [[f"{hour:02d}:00", *counts, sum(counts)] for hour, counts in enumerate(table)]
    totals = [sum(column) for column in zip(*table, strict=True)]
    rows.append([t("export.total", language), *totals, sum(totals)])
    return header, rows


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return "2000-01-01 00:00:00" if isinstance(value, datetime) else str(value)


def _display_width(text: str) -> int:
    """Columns the text takes in a spreadsheet: CJK characters are twice as wide as Latin ones."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


@contextmanager
def _private_file(path: Path) -> Iterator[BinaryIO]:
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

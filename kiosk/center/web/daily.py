"""The daily report: on screen, and as one XLSX for the whole school (every station, zero-entry ones included;
the fever and denied lists on their own sheets), the form the office sends upward."""

from __future__ import annotations

import io
import unicodedata
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from kiosk.center import reports
from kiosk.center.schemas import DailyReport
from kiosk.center.web import accounts
from kiosk.center.web.overview import today
from kiosk.center.web.session import PREFIX, Signed, address, database, language, render
from kiosk.center.web.text import Language, translate
from kiosk.domain.i18n import t as gate_text
from kiosk.domain.models import Entry
from kiosk.domain.privacy import mask_id, mask_name

router = APIRouter(prefix=PREFIX)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LISTED = 300
"""Rows of each list on screen; the XLSX has them all."""
Day = Annotated[str, Query(max_length=10, description="YYYY-MM-DD; default today.")]


def lists(db: Any, day: str) -> tuple[list[Entry], list[Entry]]:
    """The day's fever entries and its denied ones (reports.flagged, split)."""
    flagged = [Entry.from_dict(document) for document in reports.flagged(db, day)]
    return [e for e in flagged if e.fever], [e for e in flagged if str(e.verdict) == "denied"]


@router.get("/daily")
def daily_page(request: Request, session: Signed, date: Day = "") -> Response:
    day = date or today()
    if not reports.valid_date(day):
        return render(
            request, "daily.html", session, 422, day=day, error=translate("daily.bad_date", language(request))
        )
    db = database(request)
    fever, denied = lists(db, day)
    report = reports.daily_report(db, day)
    return render(
        request,
        "daily.html",
        session,
        day=day,
        report=report,
        fever=fever[:LISTED],
        denied=denied[:LISTED],
        fever_count=len(fever),
        denied_count=len(denied),
        error=None,
    )


@router.get("/daily.xlsx")
def daily_workbook(request: Request, session: Signed, date: Day = "") -> Response:
    """Names and IDs in full for admins (audited), masked for viewers."""
    day = date or today()
    lang = language(request)
    if not reports.valid_date(day):
        return Response(translate("daily.bad_date", lang), status_code=422)
    db = database(request)
    fever, denied = lists(db, day)
    full = session.user.is_admin
    if full:
        accounts.record(db, session.user.username, "export-daily", day, address(request))
    body = workbook(reports.daily_report(db, day), fever, denied, lang, full)
    headers = {"Content-Disposition": f'attachment; filename="daily-{day}.xlsx"'}
    return Response(body, media_type=XLSX, headers=headers)


ENTRY_COLUMNS = ("time", "station", "direction", "person_id", "name", "role", "verdict", "reasons", "temperatures")
"""Columns of the fever and denied sheets, named by the gate's catalog (export.col.*)."""


def workbook(report: DailyReport, fever: list[Entry], denied: list[Entry], lang: Language, full: bool) -> bytes:
    """The XLSX: stations (with totals), then the fever list, then the denied list."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    header = [
        translate("station.id", lang),
        "ID",
        translate("station.campus", lang),
        *(translate(f"verdict.{name}", lang) for name in ("admitted", "denied", "referred", "total")),
    ]
    rows: list[list[Any]] = [
        [s.name, s.station_id, s.campus, s.admitted, s.denied, s.referred, s.total] for s in report.stations
    ]
    all_ = report.totals
    rows.append([translate("verdict.total", lang), "", "", all_.admitted, all_.denied, all_.referred, all_.total])
    _sheet(book, f"{translate('nav.daily', lang)} {report.date}", header, rows)
    entry_header = [gate_text(f"export.col.{column}", lang) for column in ENTRY_COLUMNS]
    # Each list has its own sheet, so its rows need no colour (filling every cell was a third of the time).
    for title, entries in (("daily.fever", fever), ("daily.denied", denied)):
        _sheet(book, translate(title, lang), entry_header, [_row(entry, lang, full) for entry in entries])
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def _row(entry: Entry, lang: Language, full: bool) -> list[Any]:
    return [
        entry.captured.replace(tzinfo=None),  # Excel has no time zones: the station's wall time
        entry.station_id,
        gate_text(f"export.direction.{entry.direction}", lang),
        entry.person_id if full else mask_id(entry.person_id),
        entry.name if full else mask_name(entry.name),
        gate_text(f"export.role.{entry.role}", lang),
        gate_text(f"export.verdict.{entry.verdict}", lang),
        "; ".join(gate_text(f"reason.{reason}", lang) for reason in entry.reasons),
        "; ".join(f"{reading.celsius:.1f}" for reading in entry.readings),
    ]


def _sheet(book: Any, title: str, header: list[str], rows: list[list[Any]]) -> None:
    """A sheet with a bold frozen header and columns wide enough for CJK text; text is never a formula."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header):  # a write-only sheet needs its widths before its first row
        widest = max([_width(name), *(_width(str(row[index])) for row in rows[:2000])])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(widest + 2, 50)
    heads = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        heads.append(cell)
    sheet.append(heads)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # a visitor's "=HYPERLINK(...)" stays text
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            cells.append(cell)
        sheet.append(cells)


def _width(text: str) -> int:
    """Spreadsheet columns the text takes: CJK characters count twice."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)

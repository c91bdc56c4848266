"""The daily report: on screen, and as one XLSX for the whole school (every station, zero-entry ones included;
the fever and denied lists on their own sheets), the form the office sends upward."""

from __future__ import annotations

import io
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
from kiosk.station.export import COLUMNS, FEVER_FILL, NOT_ADMITTED_FILL, report_row, table_sheet

router = APIRouter(prefix=PREFIX)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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
    return render(request, "daily.html", session, day=day, report=report, fever=fever, denied=denied, error=None)


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
    totals = report.totals
    rows.append(
        [translate("verdict.total", lang), "", "", totals.admitted, totals.denied, totals.referred, totals.total]
    )
    table_sheet(book, f"{translate('nav.daily', lang)} {report.date}", header, rows, [None] * len(rows))
    entry_header = [gate_text(f"export.col.{column}", lang) for column in COLUMNS]
    for title, entries, fill in (("daily.fever", fever, FEVER_FILL), ("daily.denied", denied, NOT_ADMITTED_FILL)):
        values = [_row(entry, lang, full) for entry in entries]
        table_sheet(book, translate(title, lang), entry_header, values, [fill] * len(values))
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def _row(entry: Entry, lang: Language, full: bool) -> list[Any]:
    values = report_row(entry, lang)
    if not full:
        values[COLUMNS.index("person_id")] = mask_id(entry.person_id)
        values[COLUMNS.index("name")] = mask_name(entry.name)
    return values

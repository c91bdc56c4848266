"""Search: a person's passages, contact tracing, who passed a gate between two times; the completeness report
and the audit trail. Names and IDs stay masked unless an admin unmasks them, and every unmasking is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from kiosk.center import damage, reports
from kiosk.center.web import accounts
from kiosk.center.web.overview import station_states, today
from kiosk.center.web.session import PREFIX, Admin, Signed, address, check_csrf, database, language, render
from kiosk.center.web.text import translate

router = APIRouter(prefix=PREFIX)

SHOWN = 2000
"""Rows shown on one page; the rest are counted."""


def _local_time(text: str) -> datetime | None:
    """A datetime-local field (no offset) in the center's zone; None when it is not a time."""
    try:
        return datetime.fromisoformat(text).astimezone()
    except ValueError:
        return None


def _results(
    request: Request, kind: str, person_id: str, window: int, station_id: str, start: str, end: str
) -> dict[str, Any]:
    db = database(request)
    found: dict[str, Any] = {"entries": [], "contacts": [], "error": None, "searched": False}
    if kind in ("person", "trace") and person_id.strip():
        traced = reports.trace(db, person_id.strip(), window if kind == "trace" else 0)
        found.update(entries=traced.entries, contacts=traced.contacts if kind == "trace" else [], searched=True)
    elif kind == "gate" and station_id.strip():
        moments = _local_time(start), _local_time(end)
        if None in moments:
            found["error"] = translate("search.bad_time", language(request))
        else:
            found.update(entries=reports.passages(db, station_id.strip(), *moments), searched=True)  # type: ignore[arg-type]
    found["more"] = max(0, len(found["entries"]) - SHOWN) + max(0, len(found["contacts"]) - SHOWN)
    found["entries"] = found["entries"][:SHOWN]
    found["contacts"] = found["contacts"][:SHOWN]
    return found


def _query(kind: str, person_id: str, window: int, station_id: str, start: str, end: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "person_id": person_id,
        "window": window,
        "station_id": station_id,
        "start": start,
        "end": end,
    }


def _gates(request: Request) -> list[tuple[str, str]]:
    """(station_id, name) of every station, offered in the gate field."""
    return [(s.station_id, s.name) for s in station_states(database(request), 60, language(request))]


Text = Annotated[str, Query(max_length=64)]
Window = Annotated[int, Query(ge=0, le=24 * 60)]


@router.get("/search")
def search_page(
    request: Request,
    session: Signed,
    kind: Text = "person",
    person_id: Text = "",
    window: Window = 30,
    station_id: Text = "",
    start: Text = "",
    end: Text = "",
) -> Response:
    query = {
        "kind": kind,
        "person_id": person_id,
        "window": window,
        "station_id": station_id,
        "start": start,
        "end": end,
    }
    found = _results(request, kind, person_id, window, station_id, start, end)
    gates = _gates(request)
    return render(request, "search.html", session, query=query, unmasked=False, gates=gates, **found)


@router.post("/search/unmask")
def unmask(
    request: Request,
    session: Admin,
    csrf: Annotated[str, Form()] = "",
    kind: Annotated[str, Form(max_length=64)] = "person",
    person_id: Annotated[str, Form(max_length=64)] = "",
    window: Annotated[int, Form(ge=0, le=24 * 60)] = 30,
    station_id: Annotated[str, Form(max_length=64)] = "",
    start: Annotated[str, Form(max_length=64)] = "",
    end: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The same results with names and IDs shown; recorded in the audit trail first."""
    check_csrf(session, csrf)
    query = {
        "kind": kind,
        "person_id": person_id,
        "window": window,
        "station_id": station_id,
        "start": start,
        "end": end,
    }
    detail = " ".join(f"{key}={value}" for key, value in query.items() if value not in ("", None))
    accounts.record(database(request), session.user.username, "unmask", detail, address(request))
    found = _results(request, kind, person_id, window, station_id, start, end)
    gates = _gates(request)
    return render(request, "search.html", session, query=query, unmasked=True, gates=gates, **found)


@router.get("/completeness")
def completeness_page(
    request: Request, session: Signed, silent_minutes: Annotated[int, Query(ge=1, le=100_000)] = 60
) -> Response:
    db = database(request)
    report = damage.annotate(db, reports.completeness(db, silent_minutes))  # as the API answers it
    day = today()
    zero = [station for station in reports.daily_report(db, day).stations if station.total == 0]
    rows = [station.model_dump() for station in report.stations]
    return render(
        request, "completeness.html", session, stations=rows, silent_minutes=silent_minutes, zero=zero, day=day
    )


@router.get("/audit")
def audit_page(request: Request, session: Admin) -> Response:
    return render(request, "audit.html", session, rows=accounts.audit_trail(database(request)))

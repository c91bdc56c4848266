"""The overview: every station's state, today's counts as charts, and the fever and referral cases as they come.

The same queries as the JSON API (kiosk.center.reports); the page gets its live parts over server-sent events.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from kiosk.center import reports
from kiosk.center.db import Database, stations, utc_now
from kiosk.center.entries import FEVER_REASONS
from kiosk.center.schemas import StatsReply
from kiosk.center.web import accounts, charts
from kiosk.center.web.session import PREFIX, SESSION_COOKIE, Signed, check_csrf, database, fragment, language, render
from kiosk.center.web.text import Language, duration, translate

router = APIRouter(prefix=PREFIX)

LIVE_SECONDS = 2.0
"""How often the live overview looks for changes."""
GATES_CHARTED = 24
"""The busiest gates in the overview's chart; the daily report lists them all."""
CASES_SHOWN = 100
"""The newest cases on the overview; the cases page lists them all."""
SilentAfter = Annotated[int, Query(ge=1, le=7 * 24 * 3600, description="No heartbeat for this long: silent.")]


@dataclass(frozen=True, slots=True)
class StationState:
    station_id: str
    name: str
    campus: str
    online: bool
    state: str
    backlog: int | None
    backlog_age: str
    clock_offset: str
    version: str


def today() -> str:
    """The center's local date, the date the office works in."""
    return datetime.now().astimezone().date().isoformat()


def station_states(db: Database, silent_after: int, lang: Language) -> list[StationState]:
    """Every registered station as its last heartbeat left it.

    Read from the stations table alone (a row per station), not from the completeness report, whose sequence
    gaps cost a pass over every entry: the live overview asks every LIVE_SECONDS for each open browser.
    """
    with db.read() as conn:
        rows = conn.execute(select(stations).order_by(stations.c.station_id)).mappings().all()
    now = utc_now()
    states = []
    for row in rows:
        heard = row["last_heartbeat"]
        quiet = None if heard is None else (now - heard).total_seconds()
        online = quiet is not None and quiet <= silent_after
        if quiet is None:
            state = translate("station.never", lang)
        elif online:
            state = translate("station.online", lang)
        else:
            state = translate("station.silent", lang, duration=duration(quiet, lang))
        states.append(
            StationState(
                station_id=row["station_id"],
                name=row["name"],
                campus=row["campus"],
                online=online,
                state=state,
                backlog=row["pending_reported"],
                backlog_age=_age(row["oldest_pending"], lang),
                clock_offset=_offset(row["station_clock"], heard, lang),
                version=row["app_version"] or "",
            )
        )
    return states


def _age(oldest: str | None, lang: Language) -> str:
    if not oldest:
        return ""
    try:
        moment = datetime.fromisoformat(oldest)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return translate("station.backlog_age", lang, duration=duration((datetime.now(UTC) - moment).total_seconds(), lang))


def _offset(station_clock: str | None, heard: datetime | None, lang: Language) -> str:
    """The station's clock minus the center's, at its last heartbeat."""
    if not station_clock or heard is None:
        return ""
    try:
        clock = datetime.fromisoformat(station_clock)
    except ValueError:
        return ""
    clock = clock.replace(tzinfo=UTC) if clock.tzinfo is None else clock
    seconds = round((clock - heard.replace(tzinfo=UTC)).total_seconds())
    return ("−" if seconds < 0 else "±" if seconds == 0 else "+") + duration(abs(seconds), lang)


@dataclass(frozen=True, slots=True)
class Cases:
    """A day's fever and referral cases, newest first (each entry with its "followup", or None)."""

    shown: list[dict[str, Any]]
    total: int
    waiting: int
    """Cases nobody has followed up yet (shown or not)."""


def cases(db: Database, day: str, limit: int | None = CASES_SHOWN, waiting_only: bool = False) -> Cases:
    """The fever and referral entries of `day` (from the flagged list), the newest `limit` of them shown."""
    found = [
        entry
        for entry in reports.flagged(db, day)
        if entry["verdict"] == "referred" or not FEVER_REASONS.isdisjoint(entry["reasons"])
    ]
    found.reverse()
    done = accounts.followups_of(db, {e["station_id"] for e in found}, [e["entry_id"] for e in found])
    for entry in found:
        entry["followup"] = done.get((entry["station_id"], entry["entry_id"]))
        temperatures = [reading["celsius"] for reading in entry.get("readings", [])]
        entry["temperature"] = max(temperatures) if temperatures else None
    waiting = [entry for entry in found if entry["followup"] is None]
    listed = waiting if waiting_only else found
    return Cases(shown=listed[:limit], total=len(found), waiting=len(waiting))


class TodayCache:
    """Today's statistics and cases, computed at most once per LIVE_SECONDS for all open overviews together.

    Both are queries over the whole day (a third of a second at 100k entries a day); every browser showing the
    overview asks every LIVE_SECONDS. A follow-up clears the cache, so that its page shows it at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: tuple[float, str, StatsReply, Cases] | None = None

    def get(self, db: Database) -> tuple[str, StatsReply, Cases]:
        with self._lock:  # one thread computes; the others wait for its result rather than repeat it
            day = today()
            kept = self._kept
            if kept is None or kept[1] != day or time.monotonic() - kept[0] >= LIVE_SECONDS * 0.9:
                kept = (time.monotonic(), day, reports.stats(db, day), cases(db, day))
                self._kept = kept
            return kept[1], kept[2], kept[3]

    def clear(self) -> None:
        with self._lock:
            self._kept = None


def today_cache(request: Request) -> TodayCache:
    cache: TodayCache = request.app.state.web_today  # made by mount_dashboard
    return cache


def overview_parts(request: Request, session: accounts.Session, silent_after: int) -> dict[str, str]:
    """The live parts of the overview, rendered (blocking: runs in the thread pool)."""
    db = database(request)
    lang = language(request)
    day, stats, today_cases = today_cache(request).get(db)
    busiest = sorted(stats.by_station, key=lambda s: (-s.total, s.station_id))[:GATES_CHARTED]
    chart_context = {
        "day": day,
        "totals": stats.totals,
        "by_campus": charts.bars(
            [(c.campus or "—", c) for c in stats.by_campus], translate("overview.by_campus", lang)
        ),
        "by_station": charts.bars(
            [(s.name or s.station_id, s) for s in busiest], translate("overview.by_station", lang)
        ),
        "more_gates": len(stats.by_station) - len(busiest),
        "by_hour": charts.columns([(str(h.hour), h) for h in stats.by_hour], translate("overview.by_hour", lang)),
    }
    return {
        "stations": fragment(request, "_stations.html", session, stations=station_states(db, silent_after, lang)),
        "charts": fragment(request, "_charts.html", session, **chart_context),
        "cases": fragment(request, "_cases.html", session, cases=today_cases, day=day, back=f"{PREFIX}/"),
    }


@router.get("/")
def overview_page(request: Request, session: Signed, silent_after: SilentAfter = 120) -> Any:
    parts = overview_parts(request, session, silent_after)
    return render(request, "overview.html", session, parts=parts, silent_after=silent_after)


@router.get("/live/overview", response_class=EventSourceResponse)
async def overview_live(request: Request, session: Signed, silent_after: SilentAfter = 120) -> AsyncIterator[Any]:
    """The overview's parts whenever one of them changes (checked every LIVE_SECONDS)."""
    sent: dict[str, str] = {}
    token = request.cookies.get(SESSION_COOKIE, "")
    while not await request.is_disconnected():
        if await run_in_threadpool(accounts.session, database(request), token) is None:
            return  # signed out or expired: the page's next request goes to the sign-in
        parts = await run_in_threadpool(overview_parts, request, session, silent_after)
        changed = {}
        for name, html in parts.items():
            digest = hashlib.sha256(html.encode()).hexdigest()
            if sent.get(name) != digest:
                sent[name] = digest
                changed[name] = html
        if changed:
            yield ServerSentEvent(data=changed, event="overview", retry=3000)
        else:
            yield ServerSentEvent(comment="unchanged")
        await asyncio.sleep(LIVE_SECONDS)


@router.get("/cases")
def cases_page(
    request: Request, session: Signed, date: Annotated[str, Query(max_length=10)] = "", waiting: bool = False
) -> Any:
    """Every fever and referral case of a day (or only those waiting for a follow-up), with the follow-up forms."""
    day = date if reports.valid_date(date) else today()
    found = cases(database(request), day, limit=None, waiting_only=waiting)
    back = f"{PREFIX}/cases?date={day}" + ("&waiting=true" if waiting else "")
    return render(request, "cases.html", session, cases=found, day=day, waiting=waiting, back=back)


@router.post("/followup/{station_id}/{entry_id}")
def follow_up(
    request: Request,
    station_id: str,
    entry_id: str,
    session: Signed,
    csrf: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    """Mark a fever or referral case as followed up by the signed-in user; back to the page it was marked on."""
    check_csrf(session, csrf)
    accounts.follow_up(database(request), station_id, entry_id, session.user.username, note)
    today_cache(request).clear()
    page = back if back.startswith(f"{PREFIX}/") and not back.startswith("//") else f"{PREFIX}/"
    return RedirectResponse(f"{page}#case-{entry_id}", status_code=303)

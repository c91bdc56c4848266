"""The center's HTTP API (v1): stations push entries and heartbeats and fetch the roster and notices; the
school's administrators manage them and ask questions. Every reply that acknowledges data follows the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from kiosk.center import damage, entries, errors, notice_board, reports, roster, stations
from kiosk.center.auth import Caller, Identifier
from kiosk.center.checks import Invalid
from kiosk.center.db import Database, iso_utc
from kiosk.center.errors import ErrorBody, documented
from kiosk.center.gate import DEFAULT_MAX_BODY, Gate
from kiosk.center.schemas import (
    CompletenessReply,
    DailyReport,
    DateText,
    EntriesIn,
    EntriesList,
    EntriesReply,
    HeartbeatIn,
    HeartbeatReply,
    NoticeIn,
    NoticeModel,
    NoticesReply,
    QueryMoment,
    RosterChanged,
    RosterIn,
    RosterReply,
    StatsReply,
    TraceReply,
)
from kiosk.center.web.mount import mount_dashboard
from kiosk.domain.models import Notice, Person
from kiosk.domain.notices import NoticeRefused

bearer = HTTPBearer(auto_error=False, description="A station token or an admin token, from `kiosk center add-...`.")


# Dependencies that do no I/O are async: FastAPI would run each sync one in the thread pool, a hop per request.
async def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


Db = Annotated[Database, Depends(database)]


async def caller(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    """Whoever holds the bearer token, as the gate identified and admitted them before the body was read (see
    gate); the bearer dependency puts the token into the OpenAPI document."""
    who: Caller = request.state.caller
    return who


AnyCaller = Annotated[Caller, Depends(caller)]
"""The caller of any /api operation: the gate has checked that the token may use the path (admin, own station)."""

# Every operation can be refused before it runs (see gate and errors): documented once per router.
stations_api = APIRouter(
    prefix="/api/v1/stations/{station_id}", tags=["stations"], responses=documented(401, 403, 413, 422, 500, 503)
)
shared_api = APIRouter(prefix="/api/v1", tags=["stations and admins"], responses=documented(401, 413, 422, 500, 503))
admin_api = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=documented(401, 403, 413, 422, 500, 503))


# The handler reads the body itself (see `receive_entries`); the schema is given here for the OpenAPI page.
_ENTRIES_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": EntriesIn.model_json_schema()}}}
}


@stations_api.post(
    "/entries",
    response_model=EntriesReply,
    openapi_extra=_ENTRIES_BODY,
    responses={
        422: {"model": ErrorBody, "description": 'The body is not `{"entries": [...]}` of objects, or is too long.'}
    },
)
async def push_entries(station_id: str, request: Request, _: AnyCaller) -> Response:
    """Store a batch of entries idempotently by entry_id; reply only after the commit.

    Each entry is checked field by field: a bad one is rejected (the error names the field) and the rest stored.
    A newer revision replaces the stored one; the same or an older one is a duplicate and changes nothing.
    """
    body = await request.body()
    reply = await run_in_threadpool(receive_entries, request.app.state.receiver, station_id, body)
    return Response(reply, media_type="application/json")


def receive_entries(receiver: entries.Receiver, station_id: str, body: bytes) -> bytes:
    """The JSON reply to a push body, once its entries are committed; HTTP 422 for a body of the wrong shape.

    Checked by hand rather than by FastAPI: validating the body and one result model per entry through pydantic
    cost more than storing the entries. Runs in a worker thread, parsing included, to keep the event loop free.
    """
    try:
        items = entries.read_batch(body)
    except Invalid as exc:
        raise HTTPException(422, str(exc)) from None
    results = receiver.push(station_id, items)
    reply = {
        "results": [
            {"entry_id": r.entry_id, "revision": r.revision, "status": r.status, "error": r.error} for r in results
        ]
    }
    return orjson.dumps(reply)


@stations_api.post("/heartbeat", response_model=HeartbeatReply)
def heartbeat(station_id: str, body: HeartbeatIn, db: Db, _: AnyCaller) -> HeartbeatReply:
    """Tell the center the station is alive and how much it has not sent yet."""
    now = stations.heartbeat(
        db, station_id, body.clock, body.pending, body.oldest_pending, body.version, body.refused_notices
    )
    return HeartbeatReply(server_time=iso_utc(now) or "")


@shared_api.get("/roster", response_model=RosterReply, responses={304: {"description": "Unchanged (If-None-Match)"}})
def get_roster(
    db: Db,
    _: AnyCaller,
    since: Annotated[int, Query(ge=0, description="The version the station has; 0: send everything.")] = 0,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response | RosterReply:
    """The roster changes since `since` (the whole roster for 0), with the version as ETag."""
    if if_none_match is not None and if_none_match.strip() == f'"{roster.current_version(db)}"':
        return Response(status_code=304, headers={"ETag": if_none_match.strip()})
    change = roster.changes_since(db, since)
    reply = {
        "version": change.version,
        "full": change.full,
        "people": [person.to_dict() for person in change.people],  # already valid: checked on the way in
        "removed": change.removed,
    }
    return JSONResponse(reply, headers={"ETag": f'"{change.version}"'})


@shared_api.get("/notices", response_model=NoticesReply)
def get_notices(db: Db, _: AnyCaller) -> NoticesReply:
    """Notices for the gates, newest first."""
    return NoticesReply(notices=[_notice_model(notice) for notice in notice_board.newest_first(db)])


@admin_api.put("/roster", response_model=RosterChanged)
def put_roster(body: RosterIn, db: Db, _: AnyCaller) -> RosterChanged:
    """Add or change people; with `replace`, also remove everyone not listed."""
    people = [Person.from_dict(person.model_dump(mode="json")) for person in body.people]
    version, changed = roster.update(db, people, body.replace)
    return RosterChanged(version=version, changed=changed)


@admin_api.post(
    "/notices",
    response_model=NoticeModel,
    status_code=201,
    responses={422: {"model": ErrorBody, "description": "Not valid, or the URL is refused"}},
)
def post_notice(body: NoticeIn, request: Request, db: Db, _: AnyCaller) -> NoticeModel:
    """Publish a notice; its URL must be https on an allowed domain."""
    try:
        notice = notice_board.publish(
            db, request.app.state.allowed_domains, body.title, body.url, body.title_en, body.source, body.published_at
        )
    except NoticeRefused as exc:
        raise HTTPException(422, str(exc)) from None
    return _notice_model(notice)


def _notice_model(notice: Notice) -> NoticeModel:
    data = notice.to_dict()
    del data["received_at"]
    return NoticeModel.model_validate(data)


Day = Annotated[DateText, Query(description="Station-local date of capture, YYYY-MM-DD.")]


@admin_api.get("/completeness", response_model=CompletenessReply)
def get_completeness(
    db: Db,
    _: AnyCaller,
    silent_minutes: Annotated[int, Query(ge=1, le=100_000, description="Quiet this long counts as silent.")] = 60,
    clock_tolerance_seconds: Annotated[
        int, Query(ge=1, le=10**8, description="A station clock further off than this is listed as off.")
    ] = reports.CLOCK_TOLERANCE_SECONDS,
) -> CompletenessReply:
    """Per station: entries received, highest seq, missing seq ranges, last heartbeat, silence, clock offset,
    backlog and its age, version; and the stations whose clock is off."""
    return damage.annotate(db, reports.completeness(db, silent_minutes, clock_tolerance_seconds))


@admin_api.get("/report/daily", response_model=DailyReport)
def get_daily_report(db: Db, _: AnyCaller, date: Day) -> DailyReport:
    """Counts by verdict for every registered station on `date` (stations with no entries included)."""
    return reports.daily_report(db, date)


@admin_api.get("/stats", response_model=StatsReply)
def get_stats(db: Db, _: AnyCaller, date: Day) -> StatsReply:
    """Counts on `date` by campus, station and hour, split by verdict."""
    return reports.stats(db, date)


@admin_api.get("/flagged", response_model=EntriesList)
def get_flagged(db: Db, _: AnyCaller, date: Day) -> EntriesList:
    """Entries on `date` with a fever, a denial or a referral."""
    return EntriesList(entries=reports.flagged(db, date))


@admin_api.get("/passages", response_model=EntriesList)
def get_passages(
    db: Db,
    _: AnyCaller,
    station_id: Annotated[str, Query(max_length=64)],
    start: Annotated[QueryMoment, Query(description="RFC 3339, inclusive; without offset: UTC.")],
    end: Annotated[QueryMoment, Query(description="RFC 3339, exclusive; without offset: UTC.")],
) -> EntriesList:
    """Who passed the gate of `station_id` in [start, end), in time order."""
    return EntriesList(entries=reports.passages(db, station_id, start, end))


@admin_api.get("/trace", response_model=TraceReply)
def get_trace(
    db: Db,
    _: AnyCaller,
    person_id: Annotated[str, Query(max_length=64)],
    window_minutes: Annotated[int, Query(ge=0, le=24 * 60)] = 30,
) -> TraceReply:
    """Everyone who passed the same gate within ±window_minutes of each of the person's entries."""
    return reports.trace(db, person_id, window_minutes)


def create_app(
    db_url: str,
    allowed_domains: Sequence[str] = ("bnu.edu.cn",),
    connections: int = 40,
    max_body: int = DEFAULT_MAX_BODY,
) -> FastAPI:
    """The center's application on the database at `db_url` (schema created or checked now), holding at most
    `connections` open to PostgreSQL and taking request bodies of at most `max_body` bytes.

    /docs and /redoc are served with their scripts from the center itself (fastapi-offline's copies of Swagger
    UI and ReDoc): campus networks often have no internet.
    """
    app = FastAPIOffline(
        title="Campus kiosk center",
        version="1",
        description="Receives entries from every gate station; serves the roster and notices; answers the school."
        ' Every error is `{"error": code, "message": "中文 / English"}`.',
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.db = Database(db_url, connections)
    app.state.receiver = entries.Receiver(app.state.db)
    app.state.identifier = Identifier(app.state.db)
    app.state.allowed_domains = tuple(allowed_domains)
    for router in (stations_api, shared_api, admin_api):
        app.include_router(router)
    # The gate admits only the station's own token; the caller dependency documents the bearer token.
    app.include_router(
        damage.api, dependencies=[Depends(caller)], responses=errors.documented(401, 403, 413, 422, 500, 503)
    )
    mount_dashboard(app)
    errors.install(app)
    app.add_middleware(Gate, identifier=app.state.identifier, max_body=max_body)
    return app

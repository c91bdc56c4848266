"""The bodies of the center's HTTP API (v1), documented for the OpenAPI page at /docs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WithJsonSchema

from kiosk.center.checks import (
    DATE_PATTERN,
    LOCAL_MOMENT_PATTERN,
    MOMENT_PATTERN,
    TEXT_PATTERN,
    Invalid,
    check_date,
    check_moment,
    check_text,
)
from kiosk.center.entries import MAX_BATCH
from kiosk.domain.models import Role

MAX_INT = 2**31 - 1
"""The largest count the database's integer columns hold."""


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):  # from Python callers; what comes over HTTP is text
        return value
    try:
        return check_moment(value)
    except Invalid as exc:
        raise ValueError(str(exc)) from None


def _moment_or_utc(value: Any) -> datetime:
    try:
        return check_moment(value, naive_is_utc=True)
    except Invalid as exc:
        raise ValueError(str(exc)) from None


def _date(value: Any) -> str:
    try:
        return check_date(value)
    except Invalid as exc:
        raise ValueError(str(exc)) from None


def _plain(value: str) -> str:
    try:
        return check_text(value, len(value), required=False)
    except Invalid as exc:
        raise ValueError(str(exc)) from None


Moment = Annotated[
    datetime,
    BeforeValidator(_moment),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": MOMENT_PATTERN}),
]
"""An RFC 3339 time with an offset, in 1970-2199 (see checks.check_moment)."""
QueryMoment = Annotated[
    datetime,
    BeforeValidator(_moment_or_utc),
    WithJsonSchema({"type": "string", "pattern": LOCAL_MOMENT_PATTERN}),
]
"""An RFC 3339 time in 1970-2199, the offset optional (UTC without)."""
DateText = Annotated[
    str, AfterValidator(_date), WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN})
]
"""A date YYYY-MM-DD in 1970-2199."""
Plain = Annotated[str, AfterValidator(_plain), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
"""Text without control characters."""


class EntriesIn(BaseModel):
    entries: list[dict[str, Any]] = Field(
        max_length=MAX_BATCH, description=f"Entries as `Entry.to_dict()` gives them, at most {MAX_BATCH}."
    )


class EntryResult(BaseModel):
    entry_id: str = Field(description="The entry's id as sent (empty when it had none).")
    revision: int = Field(description="The revision this result is about.")
    status: Literal["stored", "duplicate", "rejected"] = Field(
        description="stored and duplicate both mean committed; rejected entries were not stored and must be fixed."
    )
    error: str | None = Field(default=None, description="For rejected entries: the field and what is wrong with it.")


class EntriesReply(BaseModel):
    results: list[EntryResult] = Field(description="One result per entry sent, in the same order.")


class HeartbeatIn(BaseModel):
    clock: Moment = Field(description="The station's wall clock (RFC 3339), to spot stations whose clock is off.")
    pending: int = Field(ge=0, le=MAX_INT, strict=True, description="Entries waiting at the station to be synced.")
    oldest_pending: Moment | None = Field(default=None, description="Capture time of the oldest waiting entry.")
    version: Plain = Field(max_length=64, description="The station's software version.")
    refused_notices: list[Annotated[Plain, Field(max_length=64)]] = Field(
        default_factory=list, max_length=50, description="Ids of notices the station's own allowlist refuses."
    )


class HeartbeatReply(BaseModel):
    server_time: str = Field(description="The center's clock, UTC, ISO 8601.")


CardNumber = Annotated[str, Field(pattern=r"^[0-9]{1,25}$")]


class PersonModel(BaseModel):
    person_id: Plain = Field(min_length=1, max_length=64)
    name: Plain = Field(max_length=200)
    role: Role
    campus: Plain = Field(default="", max_length=200)
    dorm: Plain = Field(default="", max_length=200)
    return_approved: bool = Field(default=False, strict=True, description="May return to a dormitory.")
    observation: bool = Field(
        default=False, strict=True, description="Under medical observation: referred at the gate."
    )
    card_nos: list[CardNumber] = Field(
        default=[], max_length=16, description="Campus card numbers: canonical decimal UIDs (kiosk/domain/cards.py)."
    )
    lost_cards: list[CardNumber] = Field(
        default=[], max_length=64, description="Card numbers reported lost or replaced: denied at every gate."
    )


class RosterReply(BaseModel):
    version: int = Field(description="The roster version the station now has; send it back as `since`.")
    full: bool = Field(description="True: `people` is the whole roster and replaces the station's copy.")
    people: list[PersonModel] = Field(description="People added or changed since `since` (everyone when full).")
    removed: list[str] = Field(description="Ids of people removed since `since` (empty when full).")


class RosterIn(BaseModel):
    people: list[PersonModel]
    replace: bool = Field(default=False, strict=True, description="True: anyone not listed is removed from the roster.")


class RosterChanged(BaseModel):
    version: int = Field(description="The roster version after the change (unchanged when nothing changed).")
    changed: int = Field(description="People added, changed or removed.")


class NoticeIn(BaseModel):
    title: Plain = Field(min_length=1, max_length=200, description="Chinese title shown at the gate.")
    url: Plain = Field(max_length=2000, description="https link on an allowed domain, shown as a QR code.")
    title_en: Plain = Field(default="", max_length=200)
    source: Plain = Field(default="", max_length=200, description="Who published it, e.g. 校医院 / Hospital.")
    published_at: Moment | None = Field(default=None, description="Default: now.")


class NoticeModel(BaseModel):
    notice_id: str
    title: str
    url: str
    published_at: str
    source: str
    title_en: str = ""


class NoticesReply(BaseModel):
    notices: list[NoticeModel] = Field(description="Newest first.")


class StationCompleteness(BaseModel):
    station_id: str
    name: str
    campus: str
    received: int = Field(description="Entries stored for this station.")
    max_seq: int = Field(description="Highest sequence number received (0: none).")
    gaps: list[tuple[int, int]] = Field(description="Missing sequence ranges [first, last] between 1 and max_seq.")
    damaged: list[tuple[int, int]] = Field(
        default_factory=list, description="Ranges lost at the station: damaged file (reported by the station)."
    )
    last_heartbeat: str | None
    pending_reported: int | None = Field(description="Entries waiting at the station, per its last heartbeat.")
    refused_notices: list[str] = Field(
        default_factory=list, description="Notices the station refuses to show (its allowlist), per its last heartbeat."
    )
    silent: bool = Field(description="No heartbeat and no entries received within silent_minutes.")
    oldest_pending: str | None = Field(
        default=None, description="Capture time (station clock) of the oldest entry waiting, per its last heartbeat."
    )
    pending_age_seconds: float | None = Field(
        default=None, description="How long that entry has waited by now, corrected for the station's clock."
    )
    clock_offset_seconds: float | None = Field(
        default=None, description="The station's clock minus the center's at its last heartbeat (positive: ahead)."
    )
    clock_off: bool = Field(default=False, description="The clock offset is beyond clock_tolerance_seconds.")
    version: str | None = Field(default=None, description="The station's software version, per its last heartbeat.")


class CompletenessReply(BaseModel):
    stations: list[StationCompleteness]
    clock_tolerance_seconds: int = Field(default=120, description="A station clock further off than this is listed.")
    clock_off: list[str] = Field(default_factory=list, description="Ids of the stations whose clock is off.")


class VerdictCounts(BaseModel):
    admitted: int = 0
    denied: int = 0
    referred: int = 0
    total: int = 0


class StationDay(VerdictCounts):
    station_id: str
    name: str
    campus: str


class DailyReport(BaseModel):
    date: str
    stations: list[StationDay] = Field(description="Every registered station, with zeros where nothing came in.")
    totals: VerdictCounts


class CampusCounts(VerdictCounts):
    campus: str


class HourCounts(VerdictCounts):
    hour: int = Field(description="Station-local hour of capture, 0-23.")


class StatsReply(BaseModel):
    date: str
    by_campus: list[CampusCounts]
    by_station: list[StationDay]
    by_hour: list[HourCounts] = Field(description="24 rows, hour 0 to 23.")
    totals: VerdictCounts


class EntriesList(BaseModel):
    entries: list[dict[str, Any]] = Field(description="Entries as stations sent them (newest revision).")


class Contact(BaseModel):
    person_id: str
    name: str
    role: str
    station_id: str
    captured_at: str
    entry_id: str
    near_entry_id: str = Field(description="The traced person's entry this passage was close to.")
    minutes_apart: float


class TraceReply(BaseModel):
    person_id: str
    window_minutes: int
    entries: list[dict[str, Any]] = Field(description="The traced person's own entries, oldest first.")
    contacts: list[Contact] = Field(description="Others at the same gate within the window, by time.")

"""The bodies of the center's HTTP API (v1), documented for the OpenAPI page at /docs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from kiosk.center.entries import MAX_BATCH
from kiosk.domain.models import Role


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
    clock: datetime = Field(description="The station's wall clock (ISO 8601), to spot stations whose clock is off.")
    pending: int = Field(ge=0, description="Entries waiting at the station to be synced.")
    oldest_pending: datetime | None = Field(default=None, description="Capture time of the oldest waiting entry.")
    version: str = Field(max_length=64, description="The station's software version.")


class HeartbeatReply(BaseModel):
    server_time: str = Field(description="The center's clock, UTC, ISO 8601.")


CardNumber = Annotated[str, Field(pattern=r"^[0-9]{1,25}$")]


class PersonModel(BaseModel):
    person_id: str = Field(min_length=1, max_length=64)
    name: str = Field(max_length=200)
    role: Role
    campus: str = ""
    dorm: str = ""
    return_approved: bool = Field(default=False, description="May return to a dormitory.")
    observation: bool = Field(default=False, description="Under medical observation: referred at the gate.")
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
    replace: bool = Field(default=False, description="True: anyone not listed is removed from the roster.")


class RosterChanged(BaseModel):
    version: int = Field(description="The roster version after the change (unchanged when nothing changed).")
    changed: int = Field(description="People added, changed or removed.")


class NoticeIn(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="Chinese title shown at the gate.")
    url: str = Field(max_length=2000, description="https link on an allowed domain, shown as a QR code.")
    title_en: str = Field(default="", max_length=200)
    source: str = Field(default="", max_length=200, description="Who published it, e.g. 校医院 / Hospital.")
    published_at: datetime | None = Field(default=None, description="Default: now.")


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
    last_heartbeat: str | None
    pending_reported: int | None = Field(description="Entries waiting at the station, per its last heartbeat.")
    silent: bool = Field(description="No heartbeat and no entries received within silent_minutes.")


class CompletenessReply(BaseModel):
    stations: list[StationCompleteness]


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

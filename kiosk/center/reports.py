"""The school's questions: is every entry in, how many passed each gate, who had a fever, who met whom."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from kiosk.center import summaries
from kiosk.center.db import Database, entries, iso_utc, stations, utc_now
from kiosk.center.schemas import (
    CampusCounts,
    CompletenessReply,
    Contact,
    DailyReport,
    HourCounts,
    StationCompleteness,
    StationDay,
    StatsReply,
    TraceReply,
    VerdictCounts,
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
VERDICTS = ("admitted", "denied", "referred")
MAX_ROWS = 100_000
"""Bound on entries returned by one question, so that a careless query cannot exhaust the center's memory."""


def valid_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def as_utc(moment: datetime) -> datetime:
    """The naive-UTC form stored in the database; a time without offset is taken as UTC."""
    return moment.replace(tzinfo=None) if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


CLOCK_TOLERANCE_SECONDS = 120
"""A station clock further off than this (at its last heartbeat) is listed as off by default."""


def completeness(
    db: Database, silent_minutes: int, clock_tolerance_seconds: int = CLOCK_TOLERANCE_SECONDS
) -> CompletenessReply:
    """Per registered station: what arrived, the missing sequence ranges, whether it has gone quiet, its clock,
    its backlog and its version; and the list of stations whose clock is off by more than the tolerance.

    Reads the summaries kept as entries arrive (see summaries), never the entries themselves.
    """
    with db.read() as conn:
        received = summaries.read(conn)
        known = conn.execute(select(stations).order_by(stations.c.station_id)).mappings().all()
    now = utc_now()
    quiet_since = now - timedelta(minutes=silent_minutes)
    reply = []
    for station in known:
        summary = received.get(station["station_id"]) or summaries.StationSummary()
        contacts = [moment for moment in (station["last_heartbeat"], summary.last_received) if moment is not None]
        offset = station["clock_offset"]
        reply.append(
            StationCompleteness(
                station_id=station["station_id"],
                name=station["name"],
                campus=station["campus"],
                received=summary.received,
                max_seq=summary.max_seq,
                gaps=summary.gaps,
                last_heartbeat=iso_utc(station["last_heartbeat"]),
                pending_reported=station["pending_reported"],
                refused_notices=json.loads(station["refused_notices"] or "[]"),
                silent=not contacts or max(contacts) < quiet_since,
                oldest_pending=station["oldest_pending"],
                pending_age_seconds=_waited(station["oldest_pending"], offset, now),
                clock_offset_seconds=offset,
                clock_off=offset is not None and abs(offset) > clock_tolerance_seconds,
                version=station["app_version"],
            )
        )
    return CompletenessReply(
        stations=reply,
        clock_tolerance_seconds=clock_tolerance_seconds,
        clock_off=[station.station_id for station in reply if station.clock_off],
    )


def _waited(oldest_pending: str | None, clock_offset: float | None, now: datetime) -> float | None:
    """Seconds the oldest waiting entry has waited by the center's clock (its capture time is the station's)."""
    if oldest_pending is None:
        return None
    try:
        captured = datetime.fromisoformat(oldest_pending)
        captured = as_utc(captured) - timedelta(seconds=clock_offset or 0)
        return round((now - captured).total_seconds(), 1)
    except (ValueError, OverflowError):  # stored before times were range-checked
        return None


def _counts_by(db: Database, day: str) -> list[tuple[str, str, int, str, int]]:
    """(station_id, campus, hour, verdict, count) for one station-local date."""
    query = (
        select(entries.c.station_id, stations.c.campus, entries.c.hour, entries.c.verdict, func.count())
        .select_from(entries.join(stations, stations.c.station_id == entries.c.station_id))
        .where(entries.c.day == day)
        .group_by(entries.c.station_id, stations.c.campus, entries.c.hour, entries.c.verdict)
    )
    with db.read() as conn:
        return [tuple(row) for row in conn.execute(query)]


def _add(counts: VerdictCounts, verdict: str, count: int) -> None:
    setattr(counts, verdict, getattr(counts, verdict) + count)
    counts.total += count


def _station_days(db: Database) -> dict[str, StationDay]:
    with db.read() as conn:
        rows = conn.execute(select(stations.c.station_id, stations.c.name, stations.c.campus)).all()
    return {row[0]: StationDay(station_id=row[0], name=row[1], campus=row[2]) for row in rows}


def daily_report(db: Database, day: str) -> DailyReport:
    """Counts by verdict for every registered station on `day`, stations with nothing included."""
    by_station = _station_days(db)
    totals = VerdictCounts()
    for station_id, _campus, _hour, verdict, count in _counts_by(db, day):
        _add(by_station[station_id], verdict, count)
        _add(totals, verdict, count)
    return DailyReport(date=day, stations=sorted(by_station.values(), key=lambda s: s.station_id), totals=totals)


def stats(db: Database, day: str) -> StatsReply:
    """Counts on `day` by campus, station and hour, each split by verdict."""
    by_station = _station_days(db)
    by_campus: dict[str, CampusCounts] = {}
    by_hour = [HourCounts(hour=hour) for hour in range(24)]
    totals = VerdictCounts()
    for station_id, campus, hour, verdict, count in _counts_by(db, day):
        for counts in (
            by_station[station_id],
            by_campus.setdefault(campus, CampusCounts(campus=campus)),
            by_hour[hour],
            totals,
        ):
            _add(counts, verdict, count)
    return StatsReply(
        date=day,
        by_campus=sorted(by_campus.values(), key=lambda c: c.campus),
        by_station=sorted(by_station.values(), key=lambda s: s.station_id),
        by_hour=by_hour,
        totals=totals,
    )


def flagged(db: Database, day: str) -> list[dict[str, Any]]:
    """Entries on `day` with a fever, a denial or a referral, in time order."""
    query = (
        select(entries.c.data)
        .where(entries.c.day == day, or_(entries.c.fever.is_(True), entries.c.verdict.in_(("denied", "referred"))))
        .order_by(entries.c.captured_utc, entries.c.station_id, entries.c.seq)
        .limit(MAX_ROWS)
    )
    with db.read() as conn:
        return [json.loads(data) for data in conn.execute(query).scalars()]


def passages(db: Database, station_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Who passed `station_id` in [start, end), in time order."""
    query = (
        select(entries.c.data)
        .where(
            entries.c.station_id == station_id,
            entries.c.captured_utc >= as_utc(start),
            entries.c.captured_utc < as_utc(end),
        )
        .order_by(entries.c.captured_utc, entries.c.seq)
        .limit(MAX_ROWS)
    )
    with db.read() as conn:
        return [json.loads(data) for data in conn.execute(query).scalars()]


def _shifted(moment: datetime, by: timedelta) -> datetime:
    """`moment + by`, held at the ends of the calendar: an entry stored before times were range-checked may sit
    in year 1 or 9999."""
    try:
        return moment + by
    except OverflowError:
        return datetime.max if by > timedelta(0) else datetime.min


def trace(db: Database, person_id: str, window_minutes: int) -> TraceReply:
    """Everyone who passed the same gate within ±window of each of the person's entries."""
    window = timedelta(minutes=window_minutes)
    own_query = (
        select(entries.c.entry_id, entries.c.station_id, entries.c.captured_utc, entries.c.data)
        .where(entries.c.person_id == person_id)
        .order_by(entries.c.captured_utc)
        .limit(MAX_ROWS)
    )
    nearest: dict[tuple[str, str], tuple[timedelta, Contact]] = {}
    with db.read() as conn:
        own = conn.execute(own_query).all()
        # One indexed range query per own entry (station, time): a person has few entries, a gate many.
        for own_id, station_id, moment, _ in own:
            others = conn.execute(
                select(entries.c.entry_id, entries.c.captured_utc, entries.c.captured_at)
                .add_columns(entries.c.person_id, entries.c.data)
                .where(
                    entries.c.station_id == station_id,
                    entries.c.captured_utc >= _shifted(moment, -window),
                    entries.c.captured_utc <= _shifted(moment, window),
                    entries.c.person_id != person_id,
                )
                .limit(MAX_ROWS)
            )
            for entry_id, when, captured_at, other_id, data in others:
                apart = abs(when - moment)
                if (station_id, entry_id) in nearest and nearest[station_id, entry_id][0] <= apart:
                    continue
                document = json.loads(data)
                contact = Contact(
                    person_id=other_id,
                    name=document.get("name", ""),
                    role=document.get("role", ""),
                    station_id=station_id,
                    captured_at=captured_at,
                    entry_id=entry_id,
                    near_entry_id=own_id,
                    minutes_apart=round(apart.total_seconds() / 60, 1),
                )
                nearest[station_id, entry_id] = (apart, contact)
    ordered = sorted(nearest.values(), key=lambda pair: (pair[1].captured_at, pair[1].station_id, pair[1].entry_id))
    return TraceReply(
        person_id=person_id,
        window_minutes=window_minutes,
        entries=[json.loads(row[3]) for row in own],
        contacts=[contact for _, contact in ordered],
    )

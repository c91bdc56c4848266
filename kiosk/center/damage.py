"""Entries a station lost to a damaged file: it fetches back those the center holds, and reports the others.

A station whose store was damaged knows the sequence numbers of the entries it lost. It asks for them back
(`/entries/by-seq`: the center holds every entry it acknowledged), then reports the numbers the center does not
hold (`/damaged`). The completeness report lists those as "lost at the station: damaged file" instead of gaps.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from kiosk.center.db import Database, damaged_seqs, entries, utc_now
from kiosk.center.schemas import CompletenessReply

MAX_SEQS = 5000
"""Sequence numbers per request, like a push batch."""


class SeqsIn(BaseModel):
    seqs: list[Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]] = Field(max_length=MAX_SEQS)


class EntriesBySeq(BaseModel):
    entries: list[dict[str, Any]] = Field(description="The stored entries of those numbers that the center holds.")


class DamagedReply(BaseModel):
    recorded: list[int] = Field(description="Numbers now recorded as lost at the station.")
    held: list[int] = Field(description="Numbers the center holds an entry for: fetch them back instead.")


def held_entries(db: Database, station_id: str, seqs: list[int]) -> list[dict[str, Any]]:
    """The station's own stored entries with these sequence numbers."""
    query = select(entries.c.data).where(entries.c.station_id == station_id, entries.c.seq.in_(sorted(set(seqs))))
    with db.read() as conn:
        return [json.loads(data) for data in conn.execute(query).scalars()]


def record_damaged(db: Database, station_id: str, seqs: list[int]) -> DamagedReply:
    """Record numbers lost at the station, except those the center holds an entry for; idempotent."""
    wanted = sorted(set(seqs))
    with db.write() as conn:
        held = set(
            conn.execute(
                select(entries.c.seq).where(entries.c.station_id == station_id, entries.c.seq.in_(wanted))
            ).scalars()
        )
        mine = damaged_seqs.c.station_id == station_id
        known = set(conn.execute(select(damaged_seqs.c.seq).where(mine, damaged_seqs.c.seq.in_(wanted))).scalars())
        new = [seq for seq in wanted if seq not in held and seq not in known]
        if new:
            now = utc_now()
            conn.execute(damaged_seqs.insert(), [{"station_id": station_id, "seq": s, "reported_at": now} for s in new])
    return DamagedReply(recorded=[s for s in wanted if s not in held], held=sorted(held))


def annotate(db: Database, reply: CompletenessReply) -> CompletenessReply:
    """Move the numbers stations reported as lost out of their gaps into `damaged`."""
    by_station: dict[str, set[int]] = {}
    held = (entries.c.station_id == damaged_seqs.c.station_id) & (entries.c.seq == damaged_seqs.c.seq)
    still_lost = (
        select(damaged_seqs.c.station_id, damaged_seqs.c.seq)
        .select_from(damaged_seqs.outerjoin(entries, held))
        .where(entries.c.entry_id.is_(None))  # an entry that arrived after all is not lost
    )
    with db.read() as conn:
        for station_id, seq in conn.execute(still_lost):
            by_station.setdefault(station_id, set()).add(int(seq))
    for station in reply.stations:
        lost = by_station.get(station.station_id)
        if not lost:
            continue
        station.damaged = _runs(lost)
        gaps = {seq for first, last in station.gaps for seq in range(first, last + 1)}
        station.gaps = _runs(gaps - lost)
    return reply


def _runs(numbers: set[int]) -> list[tuple[int, int]]:
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return [(first, last) for first, last in runs]


async def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


Db = Annotated[Database, Depends(_database)]

api = APIRouter(prefix="/api/v1/stations/{station_id}", tags=["stations"])
"""The station endpoints; api.py includes them behind its check that the token is the station's own."""


@api.post("/entries/by-seq", response_model=EntriesBySeq)
def fetch_back(station_id: str, body: SeqsIn, db: Db) -> EntriesBySeq:
    """This station's stored entries with these sequence numbers (to restore entries it lost)."""
    return EntriesBySeq(entries=held_entries(db, station_id, body.seqs))


@api.post("/damaged", response_model=DamagedReply)
def report_damaged(station_id: str, body: SeqsIn, db: Db) -> DamagedReply:
    """Record sequence numbers this station lost to a damaged file before the center had them."""
    return record_damaged(db, station_id, body.seqs)

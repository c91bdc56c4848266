"""A whole campus's traffic for the center: many stations, days of entries as gates record them, heartbeats.

For the dashboard's screenshots (docs/dashboard.py) and its benchmark (bench/dashboard.py); deterministic for
a seed. Entries go in through the center's own Receiver, as stations' pushes do.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone

from kiosk.demo.data import CAMPUSES
from kiosk.domain.models import Direction, Entry, Method, Person, Reading, Reason, Verdict, new_entry_id

ZONE = timezone(timedelta(hours=8))
_BUILDINGS = (
    "学五食堂",
    "学一食堂",
    "西北楼 宿舍",
    "京师大厦",
    "图书馆",
    "主楼",
    "G区1号楼",
    "励耘楼",
    "体育馆",
    "校医院",
)
_GATES = ("东门", "西门", "南门", "北门")
_HOUR_WEIGHTS = (0, 0, 0, 0, 0, 1, 4, 14, 9, 5, 4, 10, 14, 6, 4, 4, 6, 12, 10, 6, 5, 4, 3, 1)
"""Entries per hour of a day: the meal times and the evening return to the dormitories stand out."""


def campus_stations(count: int) -> list[tuple[str, str, str]]:
    """(station_id, name, campus) for `count` gates."""
    stations = []
    for index in range(count):
        building = _BUILDINGS[index // len(_GATES) % len(_BUILDINGS)]
        name = f"{building} {_GATES[index % len(_GATES)]}"
        if index >= len(_BUILDINGS) * len(_GATES):
            name += f" {index // (len(_BUILDINGS) * len(_GATES)) + 1}"
        stations.append((f"gate-{index + 1:03d}", name, CAMPUSES[index % len(CAMPUSES)]))
    return stations


def day_entries(
    station_id: str, first_seq: int, count: int, day: date, people: Sequence[Person], rng: random.Random
) -> Iterator[dict[str, object]]:
    """`count` entries of one station on `day` (its wall clock, UTC+8), in capture order, as pushed."""
    hours = rng.choices(range(24), weights=_HOUR_WEIGHTS, k=count)
    moments = sorted(
        datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=ZONE)
        for hour in hours
    )
    for offset, moment in enumerate(moments):
        person = rng.choice(people)
        roll = rng.random()
        readings: tuple[Reading, ...] = ()
        if roll < 0.004:
            verdict, reasons = Verdict.REFERRED, (Reason.FEVER_REFERRED,)
            readings = (Reading(round(rng.uniform(37.3, 39.2), 1), moment.isoformat(), "T1001"),)
        elif roll < 0.01:
            verdict, reasons = Verdict.REFERRED, (Reason.MEDICAL_OBSERVATION,)
        elif roll < 0.05:
            verdict = Verdict.DENIED
            reasons = (Reason.NO_RETURN_APPROVAL,) if rng.random() < 0.7 else (Reason.NOT_ON_ROSTER,)
        else:
            verdict, reasons = Verdict.ADMITTED, (Reason.ON_ROSTER,)
        yield Entry(
            entry_id=new_entry_id(),
            station_id=station_id,
            seq=first_seq + offset,
            person_id=person.person_id,
            role=person.role,
            name=person.name,
            method=Method.SERIAL_SCAN,
            direction=Direction.IN if rng.random() < 0.6 else Direction.OUT,
            captured_at=moment.isoformat(),
            monotonic=time.monotonic(),
            verdict=verdict,
            reasons=reasons,
            rules_version="demo",
            operator="T1001",
            readings=readings,
        ).to_dict()


def fill_center(
    db_url: str,
    stations: int,
    days: Sequence[date],
    per_station_day: int,
    people: Sequence[Person],
    silent: int = 0,
    seed: int = 2020,
) -> list[tuple[str, str, str]]:
    """Register `stations` gates and store their entries for `days`; all but the last `silent` send a heartbeat
    now. Returns the stations. Blocking; minutes for a million entries on SQLite."""
    from kiosk.center.auth import add_station
    from kiosk.center.db import Database
    from kiosk.center.entries import MAX_BATCH, Receiver
    from kiosk.center.stations import heartbeat

    rng = random.Random(seed)
    gates = campus_stations(stations)
    db = Database(db_url)
    try:
        receiver = Receiver(db)
        for station_id, name, campus in gates:
            add_station(db, station_id, name, campus)
            seq = 1
            for day in days:
                batch = list(day_entries(station_id, seq, per_station_day, day, people, rng))
                seq += len(batch)
                for start in range(0, len(batch), MAX_BATCH):
                    receiver.push(station_id, batch[start : start + MAX_BATCH])
        now = datetime.now(ZONE)
        for index, (station_id, _, _) in enumerate(gates):
            if index < len(gates) - silent:
                pending = rng.choice((0, 0, 0, 3, 12))
                oldest = now - timedelta(minutes=rng.randrange(1, 20)) if pending else None
                clock = now + timedelta(seconds=rng.choice((0, 0, 1, -2, 95)))
                heartbeat(db, station_id, clock, pending, oldest, "0.1.0")
    finally:
        db.close()
    return gates

"""A center database of schema 1 (entries keyed by entry_id alone) opens as schema 2, on SQLite and PostgreSQL:
entries kept, the completeness summaries built from them, tokens still valid, ids now per station."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    text,
)

from kiosk.center import summaries
from kiosk.center.auth import identify, token_hash
from kiosk.center.db import SCHEMA_VERSION, Database
from kiosk.center.entries import Receiver, entry_row, parse_entry
from kiosk.center.roster import current_people
from kiosk.domain.models import Entry, Person, Role

V1 = MetaData()
Table("schema_version", V1, Column("version", Integer, nullable=False))
V1_STATIONS = Table(
    "stations",
    V1,
    Column("station_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("campus", Text, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_heartbeat", DateTime),
    Column("station_clock", Text),
    Column("pending_reported", Integer),
    Column("oldest_pending", Text),
    Column("app_version", Text),
)
Table(
    "admins",
    V1,
    Column("admin_id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
)
V1_ENTRIES = Table(
    "entries",
    V1,
    Column("entry_id", String(64), primary_key=True),
    Column("station_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("captured_utc", DateTime, nullable=False),
    Column("captured_at", String(40), nullable=False),
    Column("day", String(10), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("fever", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("data", Text, nullable=False),
    Index("entries_station_seq", "station_id", "seq"),
    Index("entries_station_time", "station_id", "captured_utc"),
    Index("entries_person_time", "person_id", "captured_utc"),
    Index("entries_day", "day"),
)
V1_PEOPLE = Table(
    "people",
    V1,
    Column("person_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("campus", Text, nullable=False),
    Column("dorm", Text, nullable=False),
    Column("return_approved", Boolean, nullable=False),
    Column("observation", Boolean, nullable=False),
    Column("removed", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Index("people_version", "version"),
)


def test_a_schema_1_database_is_migrated(center_db_url: str, make_entry: Callable[..., Entry]) -> None:
    old = create_engine(center_db_url.replace("postgresql://", "postgresql+psycopg://"))
    V1.create_all(old)
    seqs = {"gate-01": [1, 2, 3, 5, 6, 9], "gate-02": [2, 3]}
    sent = {station: [make_entry(station_id=station, seq=seq) for seq in numbers] for station, numbers in seqs.items()}
    with old.begin() as conn:
        conn.execute(text("INSERT INTO schema_version (version) VALUES (1)"))
        for station in seqs:
            conn.execute(
                insert(V1_STATIONS).values(
                    station_id=station,
                    name=station,
                    campus="",
                    token_hash=token_hash(f"token-{station}"),
                    created_at=datetime(2026, 11, 1),
                )
            )
        for entries in sent.values():
            for entry in entries:
                row = entry_row(parse_entry(entry.to_dict(), entry.station_id), "2026-11-28 00:00:00.000000")
                values = dict(
                    zip(
                        (
                            "station_id",
                            "entry_id",
                            "seq",
                            "person_id",
                            "captured_utc",
                            "captured_at",
                            "day",
                            "hour",
                            "verdict",
                            "fever",
                            "revision",
                            "received_at",
                            "data",
                        ),
                        row,
                        strict=True,
                    )
                )
                values["captured_utc"] = datetime.fromisoformat(values["captured_utc"])
                values["received_at"] = datetime.fromisoformat(values["received_at"])
                conn.execute(insert(V1_ENTRIES).values(**values))
        conn.execute(
            insert(V1_PEOPLE).values(
                person_id="2023000101",
                name="张三",
                role="student",
                campus="",
                dorm="",
                return_approved=True,
                observation=False,
                removed=False,
                version=1,
            )
        )
    old.dispose()

    db = Database(center_db_url)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT version FROM schema_version").scalar() == SCHEMA_VERSION
        assert conn.exec_driver_sql("SELECT count(*) FROM entries").scalar() == 8
        kept = summaries.read(conn)
    assert (kept["gate-01"].received, kept["gate-01"].max_seq, kept["gate-01"].gaps) == (6, 9, [(4, 4), (7, 8)])
    assert (kept["gate-02"].received, kept["gate-02"].gaps) == (2, [(1, 1)])
    assert identify(db, "token-gate-01") is not None
    assert current_people(db)["2023000101"] == Person("2023000101", "张三", Role.STUDENT, return_approved=True)
    clone = dict(sent["gate-01"][0].to_dict(), station_id="gate-02", seq=1)
    assert [r.status for r in Receiver(db).push("gate-02", [clone])] == ["stored"]
    with db.read() as conn:
        assert summaries.read(conn)["gate-02"].gaps == []
    db.close()

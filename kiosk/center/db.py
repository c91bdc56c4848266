"""The center's database: one schema for SQLite (embedded) and PostgreSQL (campus), created and versioned on start.

SQLAlchemy Core only. Every entry keeps its full JSON beside the columns the school's questions need.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

SCHEMA_VERSION = 2
"""Raise with every change to the tables below (and teach `_ensure_schema` to migrate).

2: entries are identified by (station_id, entry_id); per-station totals and received seq runs kept as entries
arrive (the completeness report reads only those); token revocation and the audit log; the station's clock offset.
"""
REVOKED = "revoked:"
"""Prefix of the token_hash of a revoked token: no sha256 hex digest starts with it, so nothing matches."""

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

stations = Table(
    "stations",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("name", Text, nullable=False, default=""),
    Column("campus", Text, nullable=False, default=""),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_heartbeat", DateTime),
    Column("station_clock", Text),
    Column("pending_reported", Integer),
    Column("oldest_pending", Text),
    Column("app_version", Text),
    Column("refused_notices", Text),  # JSON list of notice ids the station's allowlist refuses (version 2)
    Column("clock_offset", Float),  # the station's clock minus the center's, in seconds, at its last heartbeat
    Column("revoked_at", DateTime),
)

admins = Table(
    "admins",
    metadata,
    Column("admin_id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

entries = Table(
    "entries",
    metadata,
    # Two stations may use the same entry id (a cloned image, a bug, a hostile station): each keeps its own.
    Column("station_id", String(64), primary_key=True),
    Column("entry_id", String(64), primary_key=True),
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

station_totals = Table(
    "station_totals",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("received", Integer, nullable=False),
    Column("max_seq", Integer, nullable=False),
    Column("last_received", DateTime, nullable=False),
)
"""Per station, kept in the transaction that stores its entries: entries received, highest seq, last arrival."""

seq_runs = Table(
    "seq_runs",
    metadata,
    Column("station_id", String(64), primary_key=True),
    # Keyed by the run's end: a station appends at its end, so the run it extends is found first.
    Column("last_seq", Integer, primary_key=True),
    Column("first_seq", Integer, nullable=False),
)
"""Per station, the maximal runs [first_seq, last_seq] of seqs received; the gaps are what lies between."""

audit = Table(
    "audit",
    metadata,
    Column("audit_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", Text, nullable=False),
    Column("detail", Text, nullable=False, default=""),
)
"""Who changed access to the center, and when. Token caches drop what they hold when this table grows."""

people = Table(
    "people",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("campus", Text, nullable=False),
    Column("dorm", Text, nullable=False),
    Column("return_approved", Boolean, nullable=False),
    Column("observation", Boolean, nullable=False),
    # Canonical card numbers (kiosk/domain/cards.py), separated by spaces; added in schema version 2.
    Column("card_nos", Text, nullable=False, server_default=""),
    Column("lost_cards", Text, nullable=False, server_default=""),
    Column("removed", Boolean, nullable=False),
    # The roster version in which this row last changed: stations ask for everything newer than theirs.
    Column("version", Integer, nullable=False),
    Index("people_version", "version"),
)

notices = Table(
    "notices",
    metadata,
    Column("notice_id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("published_at", String(40), nullable=False),
    Column("created_at", DateTime, nullable=False),
)


damaged_seqs = Table(
    "damaged_seqs",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("reported_at", DateTime, nullable=False),
)
"""Sequence numbers a station lost to a damaged file before the center had them (kiosk/center/damage.py)."""


class DatabaseError(Exception):
    """The database cannot be used; the message says why in Chinese and English."""


def utc_now() -> datetime:
    """Naive UTC, the form every DateTime column holds (SQLite keeps no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso_utc(moment: datetime | None) -> str | None:
    """A stored naive-UTC time as ISO 8601 with its offset."""
    return None if moment is None else moment.replace(tzinfo=UTC).isoformat()


def normalise_url(url: str) -> str:
    """Plain postgresql:// means psycopg 3 (the only PostgreSQL driver installed)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    """An engine on a schema of the current version, and a write transaction that serialises SQLite writers."""

    def __init__(self, url: str, connections: int = 40) -> None:
        """`connections`: the most this process holds open to PostgreSQL, all kept in the pool once opened."""
        try:
            parsed = make_url(normalise_url(url))
        except ArgumentError as exc:
            raise DatabaseError(f"数据库地址无效 / not a database URL: {url!r}") from exc
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise DatabaseError(f"只支持 SQLite 和 PostgreSQL / only SQLite and PostgreSQL are supported: {url!r}")
        try:
            if self.is_sqlite:
                _create_private(parsed.database)
                self.engine = create_engine(
                    parsed,
                    connect_args={"timeout": 30, "check_same_thread": False},
                    pool_size=10,
                    max_overflow=40,
                )
                event.listen(self.engine, "connect", _sqlite_pragmas)
            else:
                # No overflow: a connection beyond the pool is closed on return, and PostgreSQL forks a backend
                # (milliseconds of CPU) for each new one; under load that was most of the server's work.
                self.engine = create_engine(parsed, pool_size=connections, max_overflow=0, pool_pre_ping=True)
            _ensure_schema(self.engine)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"无法打开数据库 / cannot open the database {parsed!r}: {_first_line(exc)}") from exc
        # SQLite has one writer at a time; queueing threads here beats them spinning on SQLITE_BUSY.
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits when the block ends without error (and only then)."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()


def _create_private(database: str | None) -> None:
    """Create the SQLite file readable by its owner only (SQLite gives its -wal and -shm files the same mode)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise DatabaseError(f"无法创建数据库文件 / cannot create the database file {database}: {exc.strerror}") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: in WAL mode NORMAL may lose the last commits on power loss, and we acknowledge on commit.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _ensure_schema(engine: Engine) -> None:
    with engine.begin() as conn:
        if not engine.dialect.has_table(conn, "schema_version"):
            metadata.create_all(conn)
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            return
        found = conn.execute(select(schema_version.c.version)).scalar()
    if found is None:
        with engine.begin() as conn:
            metadata.create_all(conn)
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
    elif found == 1:
        with engine.begin() as conn:
            _migrate_from_1(conn)
    elif found > SCHEMA_VERSION:
        raise DatabaseError(
            f"数据库结构版本 {found} 比本程序支持的 {SCHEMA_VERSION} 新,请升级中心程序"
            f" / the database schema is version {found}, newer than this program's {SCHEMA_VERSION}: upgrade the center"
        )


def _migrate_from_1(conn: Connection) -> None:
    """Version 1 to 2, in one transaction: the entries' key becomes (station_id, entry_id), new columns and tables,
    and the summaries built once from the entries already stored."""
    for table, column in (
        ("stations", "refused_notices TEXT"),
        ("stations", "clock_offset FLOAT"),
        ("stations", "revoked_at TIMESTAMP"),
        ("admins", "revoked_at TIMESTAMP"),
        ("people", "card_nos TEXT NOT NULL DEFAULT ''"),
        ("people", "lost_cards TEXT NOT NULL DEFAULT ''"),
    ):
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column}")
    if conn.dialect.name == "sqlite":
        # SQLite cannot change a primary key in place: copy into a table made with the new one.
        for index in entries.indexes:
            conn.exec_driver_sql(f"DROP INDEX {index.name}")
        conn.exec_driver_sql("ALTER TABLE entries RENAME TO entries_v1")
        entries.create(conn)
        names = ", ".join(column.name for column in entries.columns)
        conn.exec_driver_sql(f"INSERT INTO entries ({names}) SELECT {names} FROM entries_v1")
        conn.exec_driver_sql("DROP TABLE entries_v1")
    else:
        conn.exec_driver_sql("ALTER TABLE entries DROP CONSTRAINT entries_pkey, ADD PRIMARY KEY (station_id, entry_id)")
    metadata.create_all(conn)
    rebuild_summaries(conn)
    conn.execute(schema_version.update().values(version=SCHEMA_VERSION))


def rebuild_summaries(conn: Connection) -> None:
    """Recompute station_totals and seq_runs from every stored entry (a migration, a bulk load, a repair)."""
    conn.execute(station_totals.delete())
    conn.execute(seq_runs.delete())
    conn.exec_driver_sql(
        "INSERT INTO station_totals (station_id, received, max_seq, last_received)"
        " SELECT station_id, count(*), max(seq), max(received_at) FROM entries GROUP BY station_id"
    )
    # Within a run of consecutive seqs, seq minus its rank is the same number: group by it (gaps and islands).
    conn.exec_driver_sql(
        "INSERT INTO seq_runs (station_id, last_seq, first_seq)"
        " SELECT station_id, max(seq), min(seq) FROM"
        " (SELECT station_id, seq, seq - dense_rank() OVER (PARTITION BY station_id ORDER BY seq) AS run"
        " FROM entries) AS numbered GROUP BY station_id, run"
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

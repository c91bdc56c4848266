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
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

SCHEMA_VERSION = 2
"""Raise with every change to the tables below (and teach `_ensure_schema` to migrate)."""

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
)

admins = Table(
    "admins",
    metadata,
    Column("admin_id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
)

entries = Table(
    "entries",
    metadata,
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
            for column in ("card_nos", "lost_cards"):
                conn.execute(text(f"ALTER TABLE people ADD COLUMN {column} TEXT NOT NULL DEFAULT ''"))
            conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
    elif found > SCHEMA_VERSION:
        raise DatabaseError(
            f"数据库结构版本 {found} 比本程序支持的 {SCHEMA_VERSION} 新,请升级中心程序"
            f" / the database schema is version {found}, newer than this program's {SCHEMA_VERSION}: upgrade the center"
        )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

"""Bearer tokens for stations and administrators: printed once, stored only as sha256 hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kiosk.center.db import Database, DatabaseError, admins, stations, utc_now

STATION_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a token belongs to: a station (with its id) or an administrator (station_id None)."""

    station_id: str | None

    @property
    def is_admin(self) -> bool:
        return self.station_id is None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def add_station(db: Database, station_id: str, name: str = "", campus: str = "") -> str:
    """Register a station and return its token (the only time it exists in plain text)."""
    if not STATION_ID_PATTERN.match(station_id):
        raise DatabaseError(
            f"站点编号只能含字母、数字和 . _ -(最多 64 个) / a station id is letters, digits, . _ - (at most 64):"
            f" {station_id!r}"
        )
    token = new_token()
    row = {
        "station_id": station_id,
        "name": name,
        "campus": campus,
        "token_hash": token_hash(token),
        "created_at": utc_now(),
    }
    try:
        with db.write() as conn:
            conn.execute(stations.insert().values(**row))
    except IntegrityError as exc:
        raise DatabaseError(f"站点 {station_id} 已存在 / station {station_id} already exists") from exc
    return token


def add_admin(db: Database) -> str:
    """Create an administrator token and return it."""
    token = new_token()
    with db.write() as conn:
        conn.execute(admins.insert().values(token_hash=token_hash(token), created_at=utc_now()))
    return token


def identify(db: Database, token: str) -> Caller | None:
    """The owner of `token`, or None when nobody has it."""
    digest = token_hash(token)
    with db.read() as conn:
        station_id = conn.execute(select(stations.c.station_id).where(stations.c.token_hash == digest)).scalar()
        if station_id is not None:
            return Caller(station_id=station_id)
        admin = conn.execute(select(admins.c.admin_id).where(admins.c.token_hash == digest)).scalar()
    return Caller(station_id=None) if admin is not None else None


class Identifier:
    """Token lookups remembered for `ttl` seconds: every request needs one, and tokens rarely change.

    Only known tokens are remembered, so a station added a moment ago (by another process) is found at once.
    """

    def __init__(self, db: Database, ttl: float = 60.0) -> None:
        self._db = db
        self._ttl = ttl
        self._known: dict[str, tuple[float, Caller]] = {}

    def remembered(self, token: str) -> Caller | None:
        found = self._known.get(token_hash(token))
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def look_up(self, token: str) -> Caller | None:
        """Ask the database (blocking)."""
        who = identify(self._db, token)
        if who is not None:
            self._known[token_hash(token)] = (time.monotonic() + self._ttl, who)
        return who

"""Bearer tokens for stations and administrators: printed once, stored only as sha256 hashes; revoked or
rotated at once (a stolen terminal stops within seconds), every change written to the audit log."""

from __future__ import annotations

import getpass
import hashlib
import re
import secrets
import socket
import time
from dataclasses import dataclass

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from kiosk.center.db import REVOKED, Database, DatabaseError, admins, audit, stations, utc_now

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


def local_actor() -> str:
    """Who runs this command: user@host, for the audit log."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"{user}@{socket.gethostname()}"


def record(conn: Connection, actor: str, action: str, subject: str, detail: str = "") -> None:
    """Add a line to the audit log, in the transaction that makes the change."""
    conn.execute(audit.insert().values(at=utc_now(), actor=actor, action=action, subject=subject, detail=detail))


def add_station(db: Database, station_id: str, name: str = "", campus: str = "", actor: str = "") -> str:
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
            record(conn, actor or local_actor(), "add_station", station_id, f"name={name} campus={campus}")
    except IntegrityError as exc:
        raise DatabaseError(f"站点 {station_id} 已存在 / station {station_id} already exists") from exc
    return token


def add_admin(db: Database, actor: str = "") -> str:
    """Create an administrator token and return it."""
    return create_admin(db, actor)[1]


def create_admin(db: Database, actor: str = "") -> tuple[int, str]:
    """Create an administrator token; returns its admin id (to revoke or rotate it by) and the token."""
    token = new_token()
    with db.write() as conn:
        admin_id = conn.execute(
            admins.insert().values(token_hash=token_hash(token), created_at=utc_now()).returning(admins.c.admin_id)
        ).scalar_one()
        record(conn, actor or local_actor(), "add_admin", str(admin_id))
    return admin_id, token


def revoke_station(db: Database, station_id: str, actor: str = "") -> None:
    """Stop the station's token from working (within Identifier.RECHECK seconds on a running center)."""
    _change_station(db, station_id, REVOKED + new_token(), "revoke_station", actor)


def rotate_station_token(db: Database, station_id: str, actor: str = "") -> str:
    """Give the station a new token (a revoked station is admitted again with it); the old one stops working."""
    token = new_token()
    _change_station(db, station_id, token_hash(token), "rotate_station_token", actor)
    return token


def revoke_admin(db: Database, admin_id: int, actor: str = "") -> None:
    _change_admin(db, admin_id, REVOKED + new_token(), "revoke_admin", actor)


def rotate_admin_token(db: Database, admin_id: int, actor: str = "") -> str:
    token = new_token()
    _change_admin(db, admin_id, token_hash(token), "rotate_admin_token", actor)
    return token


def _change_station(db: Database, station_id: str, digest: str, action: str, actor: str) -> None:
    revoked_at = utc_now() if digest.startswith(REVOKED) else None
    with db.write() as conn:
        changed = conn.execute(
            stations.update()
            .where(stations.c.station_id == station_id)
            .values(token_hash=digest, revoked_at=revoked_at)
        ).rowcount
        if not changed:
            raise DatabaseError(f"没有站点 {station_id} / there is no station {station_id}")
        record(conn, actor or local_actor(), action, station_id)


def _change_admin(db: Database, admin_id: int, digest: str, action: str, actor: str) -> None:
    revoked_at = utc_now() if digest.startswith(REVOKED) else None
    with db.write() as conn:
        changed = conn.execute(
            admins.update().where(admins.c.admin_id == admin_id).values(token_hash=digest, revoked_at=revoked_at)
        ).rowcount
        if not changed:
            raise DatabaseError(f"没有管理员 {admin_id} / there is no admin {admin_id}")
        record(conn, actor or local_actor(), action, str(admin_id))


def audit_log(db: Database, limit: int = 100) -> list[tuple[str, str, str, str, str]]:
    """The latest audit lines, newest first: (at, actor, action, subject, detail)."""
    query = select(audit.c.at, audit.c.actor, audit.c.action, audit.c.subject, audit.c.detail)
    with db.read() as conn:
        rows = conn.execute(query.order_by(audit.c.audit_id.desc()).limit(limit)).all()
    return [(at.isoformat(sep=" ", timespec="seconds"), *rest) for at, *rest in rows]


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
    Every token change is audited: every `recheck` seconds the audit log's last line is read, and when it has
    moved everything remembered is forgotten, so that a revoked or rotated token stops within seconds.
    """

    def __init__(self, db: Database, ttl: float = 60.0, recheck: float = 2.0) -> None:
        self._db = db
        self._ttl = ttl
        self._recheck = recheck
        self._known: dict[str, tuple[float, Caller]] = {}
        self._check_at = 0.0
        self._last_change: int | None = None

    def remembered(self, token: str) -> Caller | None:
        """The caller of `token` if remembered and no recheck is due (no I/O: for the event loop)."""
        now = time.monotonic()
        found = self._known.get(token_hash(token))
        if found is None or found[0] < now or now >= self._check_at:
            return None
        return found[1]

    def look_up(self, token: str) -> Caller | None:
        """Ask the database (blocking)."""
        if time.monotonic() >= self._check_at:
            self._forget_if_changed()
        who = identify(self._db, token)
        if who is not None:
            self._known[token_hash(token)] = (time.monotonic() + self._ttl, who)
        return who

    def _forget_if_changed(self) -> None:
        with self._db.read() as conn:
            last = conn.execute(select(func.max(audit.c.audit_id))).scalar()
        if last != self._last_change:
            self._known.clear()
            self._last_change = last
        self._check_at = time.monotonic() + self._recheck

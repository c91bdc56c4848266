"""The dashboard's own records: office accounts, their sessions, the audit trail, fever follow-ups and rosters
waiting for confirmation. Plain functions over the center's database; no HTTP here.

The tables live in their own MetaData and are created when missing (`ensure_tables`), so the station-facing
schema and its version stay as they are.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

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
    delete,
    func,
    select,
    update,
)

from kiosk.center.auth import token_hash
from kiosk.center.db import Database, utc_now
from kiosk.domain.models import Person
from kiosk.domain.pins import hash_pin, verify_pin

Role = Literal["viewer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "admin")
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 10
LOCK_AFTER = 10
"""Wrong passwords in a row that lock an account."""
LOCK_FOR = timedelta(minutes=15)
ADDRESS_LIMIT = 50
"""Failed sign-ins from one address within LOCK_FOR (any names) after which that address is refused."""
SESSION_FOR = timedelta(hours=12)
STAGED_FOR = timedelta(hours=1)

web_metadata = MetaData()

users = Table(
    "web_users",
    web_metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(8), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", DateTime),
)

sessions = Table(
    "web_sessions",
    web_metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

audit = Table(
    "web_audit",
    web_metadata,
    Column("audit_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("address", String(64), nullable=False),
    Index("web_audit_address", "address", "at"),
)

followups = Table(
    "web_followups",
    web_metadata,
    Column("station_id", String(64), primary_key=True),
    Column("entry_id", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("note", Text, nullable=False),
)

staged_rosters = Table(
    "web_staged_rosters",
    web_metadata,
    Column("staged_id", String(32), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("replace", Boolean, nullable=False),
    Column("people", Text, nullable=False),
)


class AccountError(ValueError):
    """An account cannot be made as asked; the message says why in Chinese and English."""


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf: str


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of a sign-in attempt: a session token, or why not."""

    token: str | None
    locked_until: datetime | None = None


@cache
def _unknown_user_hash() -> str:
    return hash_pin(secrets.token_urlsafe(16))


def ensure_tables(db: Database) -> None:
    with db.write() as conn:
        web_metadata.create_all(conn, checkfirst=True)


def add_user(db: Database, username: str, role: str, password: str) -> User:
    """Create an office account (or give an existing one a new role and password)."""
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            f"用户名只能含字母、数字和 . _ @ -(最多 64 个) / a user name is letters, digits, . _ @ - (at most 64):"
            f" {username!r}"
        )
    if role not in ROLES:
        raise AccountError(f"角色应为 viewer 或 admin / the role must be viewer or admin: {role!r}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符 / the password needs at least {MIN_PASSWORD} characters")
    row = {"role": role, "password_hash": hash_pin(password), "failed_attempts": 0, "locked_until": None}
    with db.write() as conn:
        changed = conn.execute(update(users).where(users.c.username == username).values(**row)).rowcount
        if not changed:
            conn.execute(users.insert().values(username=username, created_at=utc_now(), **row))
        conn.execute(delete(sessions).where(sessions.c.username == username))
    return User(username, role)


def sign_in(db: Database, username: str, password: str, address: str) -> SignIn:
    """Check the password (scrypt, blocking ~50 ms); LOCK_AFTER wrong ones in a row lock the account for LOCK_FOR.

    Every attempt is audited. An unknown name and a wrong password look the same to the caller. An address with
    ADDRESS_LIMIT failures within LOCK_FOR (trying many names) is refused as a locked account would be.
    """
    now = utc_now()
    recent_failures = (
        select(func.count())
        .select_from(audit)
        .where(audit.c.address == address, audit.c.action == "sign-in-failed", audit.c.at > now - LOCK_FOR)
    )
    with db.read() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
        from_address = conn.execute(recent_failures).scalar_one()
    if from_address >= ADDRESS_LIMIT:
        record(db, username[:64], "sign-in-address-locked", "", address)
        return SignIn(None, now + LOCK_FOR)
    if row is not None and row["locked_until"] is not None and row["locked_until"] > now:
        record(db, username, "sign-in-locked", "", address)
        return SignIn(None, row["locked_until"])
    # An unknown name costs the same scrypt as a known one: the time of the answer says nothing either.
    if not verify_pin(password, row["password_hash"] if row is not None else _unknown_user_hash()) or row is None:
        locked_until = None
        if row is not None:
            failed = row["failed_attempts"] + 1
            locked_until = now + LOCK_FOR if failed >= LOCK_AFTER else None
            with db.write() as conn:
                conn.execute(
                    update(users)
                    .where(users.c.username == username)
                    .values(failed_attempts=0 if locked_until else failed, locked_until=locked_until)
                )
        record(db, username[:64], "sign-in-failed", "locked" if locked_until else "", address)
        return SignIn(None, locked_until)
    token = secrets.token_urlsafe(32)
    with db.write() as conn:
        conn.execute(update(users).where(users.c.username == username).values(failed_attempts=0, locked_until=None))
        conn.execute(delete(sessions).where(sessions.c.expires_at < now))
        conn.execute(
            sessions.insert().values(
                token_hash=token_hash(token),
                username=username,
                csrf=secrets.token_urlsafe(32),
                expires_at=now + SESSION_FOR,
            )
        )
    record(db, username, "sign-in", "", address)
    return SignIn(token)


def session(db: Database, token: str) -> Session | None:
    """The live session of a cookie's token, or None."""
    query = (
        select(users.c.username, users.c.role, sessions.c.csrf)
        .select_from(sessions.join(users, users.c.username == sessions.c.username))
        .where(sessions.c.token_hash == token_hash(token), sessions.c.expires_at > utc_now())
    )
    with db.read() as conn:
        row = conn.execute(query).first()
    return None if row is None else Session(User(row[0], row[1]), row[2])


def sign_out(db: Database, token: str) -> None:
    with db.write() as conn:
        conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash(token)))


def record(db: Database, username: str, action: str, detail: str, address: str) -> None:
    """Append to the audit trail (sign-ins, unmasking, publishing, roster changes)."""
    with db.write() as conn:
        conn.execute(
            audit.insert().values(at=utc_now(), username=username, action=action, detail=detail, address=address)
        )


def audit_trail(db: Database, limit: int = 200) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(select(audit).order_by(audit.c.audit_id.desc()).limit(limit)).mappings().all()
    return [dict(row) for row in rows]


def follow_up(db: Database, station_id: str, entry_id: str, username: str, note: str) -> None:
    """Mark a fever or referral case as handled (the latest follow-up wins)."""
    values = {"username": username, "at": utc_now(), "note": note.strip()[:500]}
    case = (followups.c.station_id == station_id) & (followups.c.entry_id == entry_id)
    with db.write() as conn:
        if not conn.execute(update(followups).where(case).values(**values)).rowcount:
            conn.execute(followups.insert().values(station_id=station_id, entry_id=entry_id, **values))


def followups_of(db: Database, station_ids: set[str], entry_ids: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """The follow-ups of these entries, by (station_id, entry_id)."""
    if not entry_ids:
        return {}
    query = select(followups).where(followups.c.entry_id.in_(entry_ids), followups.c.station_id.in_(station_ids))
    with db.read() as conn:
        rows = conn.execute(query).mappings().all()
    return {(row["station_id"], row["entry_id"]): dict(row) for row in rows}


def stage_roster(db: Database, username: str, people: list[Person], replace: bool) -> str:
    """Keep an uploaded roster until its uploader confirms it; returns its id."""
    staged_id = secrets.token_hex(16)
    data = json.dumps([person.to_dict() for person in people], ensure_ascii=False)
    now = utc_now()
    with db.write() as conn:
        conn.execute(delete(staged_rosters).where(staged_rosters.c.created_at < now - STAGED_FOR))
        conn.execute(
            staged_rosters.insert().values(
                staged_id=staged_id, username=username, created_at=now, replace=replace, people=data
            )
        )
    return staged_id


def take_staged_roster(db: Database, staged_id: str, username: str) -> tuple[list[Person], bool] | None:
    """The roster `username` staged (removed from the stage), or None when it is unknown or too old."""
    with db.write() as conn:
        row = (
            conn.execute(
                select(staged_rosters).where(
                    staged_rosters.c.staged_id == staged_id,
                    staged_rosters.c.username == username,
                    staged_rosters.c.created_at >= utc_now() - STAGED_FOR,
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        conn.execute(delete(staged_rosters).where(staged_rosters.c.staged_id == staged_id))
    return [Person.from_dict(data) for data in json.loads(row["people"])], bool(row["replace"])

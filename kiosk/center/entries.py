"""Receiving entries: each one checked field by field, the batch stored in one transaction, idempotently.

An entry is identified by `entry_id`; a newer revision replaces the stored one, the same or an older one changes
nothing. Results are produced only after the commit, so "stored" and "duplicate" both mean durable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite

from kiosk.center.db import Database, entries, utc_now
from kiosk.center.group_commit import GroupCommit
from kiosk.models import Direction, Method, Reason, Role, Verdict

MAX_BATCH = 5000

Status = Literal["stored", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class PushResult:
    entry_id: str
    revision: int
    status: Status
    error: str | None = None


class Invalid(ValueError):
    """One field of an entry is wrong; the message names it, in Chinese and English."""


def _text(limit: int, required: bool = True) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not isinstance(value, str):
            raise Invalid("应为字符串 / must be a string")
        if required and not value.strip():
            raise Invalid("不能为空 / must not be empty")
        if len(value) > limit:
            raise Invalid(f"超过 {limit} 个字符 / longer than {limit} characters")

    return check


def _integer(minimum: int) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value >= 2**31:
            raise Invalid(f"应为不小于 {minimum} 的整数 / must be an integer of at least {minimum}")

    return check


def _choice(enum: type) -> Callable[[Any], None]:
    allowed = [str(member) for member in enum]
    members = frozenset(allowed)

    def check(value: Any) -> None:
        if not isinstance(value, str) or value not in members:
            raise Invalid(f"应为 {'/'.join(allowed)} 之一 / must be one of {', '.join(allowed)}")

    return check


def _number(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid("应为数字 / must be a number")


def _flag(value: Any) -> None:
    if not isinstance(value, bool):
        raise Invalid("应为 true 或 false / must be true or false")


_short_text = _text(40)


def _moment(value: Any) -> None:
    _short_text(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("不是 ISO 8601 时间 / not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise Invalid("缺少时区(如 +08:00) / has no UTC offset (e.g. +08:00)")


_reason = _choice(Reason)


def _reasons(value: Any) -> None:
    if not isinstance(value, list):
        raise Invalid("应为列表 / must be a list")
    for reason in value:
        _reason(reason)


def _record(fields: dict[str, Callable[[Any], None]]) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not isinstance(value, dict):
            raise Invalid("应为对象 / must be an object")
        for name, field_check in fields.items():
            if name not in value:
                raise Invalid(f"{name}: 缺少 / is missing")
            try:
                field_check(value[name])
            except Invalid as exc:
                raise Invalid(f"{name}: {exc}") from None

    return check


_reading = _record({"celsius": _number, "taken_at": _moment, "operator": _text(64, required=False)})


def _readings(value: Any) -> None:
    if not isinstance(value, list):
        raise Invalid("应为列表 / must be a list")
    for index, reading in enumerate(value):
        try:
            _reading(reading)
        except Invalid as exc:
            raise Invalid(f"[{index}].{exc}") from None


def _visitor(value: Any) -> None:
    if value is not None:
        _record({"phone": _text(32, False), "host": _text(200, False), "reason": _text(500, False)})(value)


REQUIRED: dict[str, Callable[[Any], None]] = {
    "entry_id": _text(64),
    "station_id": _text(64),
    "seq": _integer(1),
    "person_id": _text(64),
    "role": _choice(Role),
    "name": _text(200, required=False),
    "method": _choice(Method),
    "direction": _choice(Direction),
    "captured_at": _moment,
    "monotonic": _number,
    "verdict": _choice(Verdict),
    "reasons": _reasons,
    "rules_version": _text(64, required=False),
    "operator": _text(64, required=False),
}
OPTIONAL: dict[str, Callable[[Any], None]] = {
    "offline": _flag,
    "readings": _readings,
    "visitor": _visitor,
    "revision": _integer(0),
}


OPTIONAL_DEFAULTS: dict[str, Any] = {"offline": False, "readings": [], "visitor": None, "revision": 0}
FEVER_REASONS = frozenset({str(Reason.FEVER_REFERRED), str(Reason.FEVER_REMEASURE)})


def parse_entry(data: Any, station_id: str) -> dict[str, Any]:
    """The entry in `data` (as `Entry.to_dict` gives it, without `acked_at`), sent by `station_id`.

    Raises Invalid naming the first wrong field. Works on plain dicts: building `Entry` objects would cost more
    than the rest of a push.
    """
    if not isinstance(data, dict):
        raise Invalid("条目应为对象 / an entry must be an object")
    for name, check in REQUIRED.items():
        if name not in data:
            raise Invalid(f"{name}: 缺少 / is missing")
        try:
            check(data[name])
        except Invalid as exc:
            raise Invalid(f"{name}: {exc}") from None
    for name, check in OPTIONAL.items():
        if name in data:
            try:
                check(data[name])
            except Invalid as exc:
                raise Invalid(f"{name}: {exc}") from None
    if data["station_id"] != station_id:
        raise Invalid(
            f"station_id: 与上传站点 {station_id} 不符 / {data['station_id']!r} differs from the sending station"
            f" {station_id!r}"
        )
    document = {name: data[name] for name in REQUIRED}
    for name, default in OPTIONAL_DEFAULTS.items():
        document[name] = data.get(name, default)
    document["readings"] = [
        {"celsius": r["celsius"], "taken_at": r["taken_at"], "operator": r["operator"]} for r in document["readings"]
    ]
    if document["visitor"] is not None:
        document["visitor"] = {key: document["visitor"][key] for key in ("phone", "host", "reason")}
    return document


def entry_row(document: dict[str, Any], received_at: datetime) -> dict[str, Any]:
    """The columns stored for one checked entry: its JSON and what the school's queries filter on."""
    captured = datetime.fromisoformat(document["captured_at"])
    return {
        "entry_id": document["entry_id"],
        "station_id": document["station_id"],
        "seq": document["seq"],
        "person_id": document["person_id"],
        "captured_utc": captured.astimezone(UTC).replace(tzinfo=None),
        "captured_at": document["captured_at"],
        "day": document["captured_at"][:10],
        "hour": captured.hour,
        "verdict": document["verdict"],
        "fever": not FEVER_REASONS.isdisjoint(document["reasons"]),
        "revision": document["revision"],
        "received_at": received_at,
        "data": json.dumps(document, ensure_ascii=False, separators=(",", ":")),
    }


COLUMNS = [column.name for column in entries.columns]
_REPLACED = ", ".join(f"{name} = excluded.{name}" for name in COLUMNS if name != "entry_id")
_NAMES = ", ".join(COLUMNS)
# Only a newer revision from the same station replaces; a replay or a stray id changes nothing.
_ON_CONFLICT = (
    f"ON CONFLICT (entry_id) DO UPDATE SET {_REPLACED}"
    " WHERE entries.revision < excluded.revision AND entries.station_id = excluded.station_id RETURNING entry_id"
)


def _store_sqlite(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    statement = sqlite.insert(entries)
    upsert = statement.on_conflict_do_update(
        index_elements=[entries.c.entry_id],
        set_={name: statement.excluded[name] for name in COLUMNS if name != "entry_id"},
        where=(entries.c.revision < statement.excluded.revision)
        & (entries.c.station_id == statement.excluded.station_id),
    ).returning(entries.c.entry_id)
    return set(conn.execute(upsert, rows).scalars())


def _store_postgresql(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    # COPY into a scratch table, then one upsert from it: several times faster than a multi-row INSERT,
    # whose thousands of parameters PostgreSQL must parse and plan on every batch.
    conn.exec_driver_sql("CREATE TEMPORARY TABLE incoming (LIKE entries) ON COMMIT DROP")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY incoming ({_NAMES}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in COLUMNS])
    stored = conn.exec_driver_sql(f"INSERT INTO entries ({_NAMES}) SELECT {_NAMES} FROM incoming {_ON_CONFLICT}")
    return set(stored.scalars())


class Receiver:
    """Receives stations' batches; on SQLite, concurrent batches share transactions (see group_commit)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._group = GroupCommit(self._write) if db.is_sqlite else None

    def push(self, station_id: str, items: Sequence[Any]) -> list[PushResult]:
        """Store a station's batch; one result per item, in order, after the commit."""
        received_at = utc_now()
        results: list[PushResult | None] = [None] * len(items)
        chosen: dict[str, tuple[int, dict[str, Any]]] = {}
        for index, item in enumerate(items):
            try:
                entry = entry_row(parse_entry(item, station_id), received_at)
            except Invalid as exc:
                results[index] = _rejected(item, str(exc))
                continue
            entry_id = entry["entry_id"]
            earlier = chosen.get(entry_id)
            # One statement may not touch a row twice: keep the newest copy; the others are covered by it.
            if earlier is not None and earlier[1]["revision"] >= entry["revision"]:
                results[index] = PushResult(entry_id, entry["revision"], "duplicate")
                continue
            if earlier is not None:
                results[earlier[0]] = PushResult(entry_id, earlier[1]["revision"], "duplicate")
            chosen[entry_id] = (index, entry)
        written: set[str] = set()
        if chosen:
            rows = [row for _, row in chosen.values()]
            written = self._group.write(rows) if self._group is not None else self._write(rows)
        for entry_id, (index, row) in chosen.items():
            results[index] = PushResult(entry_id, row["revision"], "stored" if entry_id in written else "duplicate")
        return [result for result in results if result is not None]

    def _write(self, rows: list[dict[str, Any]]) -> set[str]:
        store = _store_sqlite if self.db.is_sqlite else _store_postgresql
        with self.db.write() as conn:
            return store(conn, rows)


def _rejected(item: Any, error: str) -> PushResult:
    entry_id = item.get("entry_id") if isinstance(item, dict) else None
    revision = item.get("revision") if isinstance(item, dict) else None
    return PushResult(
        entry_id=entry_id if isinstance(entry_id, str) else "",
        revision=revision if isinstance(revision, int) and not isinstance(revision, bool) else 0,
        status="rejected",
        error=error,
    )

"""Receiving entries: each one checked field by field, the batch stored in one transaction, idempotently.

An entry is identified by its station and `entry_id`; a newer revision replaces the stored one, the same or an
older one changes nothing. Results are produced only after the commit, so "stored" and "duplicate" both mean
durable. Nothing a station sends can fail another station's push: entries are checked in full before they join
a shared transaction, and a batch the database still refuses is split until the refused entry stands alone.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any, Literal

import orjson
import psycopg
from sqlalchemy.exc import DBAPIError

from kiosk.center import summaries
from kiosk.center.checks import Invalid, check_moment, check_text
from kiosk.center.db import Database, DatabaseError
from kiosk.center.group_commit import GroupCommit, Key, Row
from kiosk.domain.models import Direction, Method, Reason, Role, Verdict

MAX_BATCH = 5000
MAX_LIST = 32
"""Most reasons or readings one entry may carry (a real one has a few)."""
MAX_NUMBER = 1e12
"""Bound on numbers (seconds since boot, degrees): far beyond any real value, safely inside a float."""

Status = Literal["stored", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class PushResult:
    entry_id: str
    revision: int
    status: Status
    error: str | None = None


def _text(limit: int, required: bool = True) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        # The common case in one expression (every entry has six texts); check_text says what is wrong.
        if (
            type(value) is not str
            or len(value) > limit
            or (required and not value.strip())
            or not (value.isascii() and value.isprintable())
        ):
            check_text(value, limit, required)

    return check


def _integer(minimum: int) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value >= 2**31:
            raise Invalid(f"应为不小于 {minimum} 的整数 / must be an integer of at least {minimum}")

    return check


def _choice(enum: type[StrEnum]) -> Callable[[Any], None]:
    allowed = [str(member) for member in enum]
    members = frozenset(allowed)

    def check(value: Any) -> None:
        if not isinstance(value, str) or value not in members:
            raise Invalid(f"应为 {'/'.join(allowed)} 之一 / must be one of {', '.join(allowed)}")

    return check


def _number(value: Any) -> None:
    kind = type(value)  # bool is a subclass of int, and is refused here
    # isfinite only on floats: it overflows on a huge integer (10**400 is valid JSON).
    if not (kind is float and math.isfinite(value) or kind is int):
        raise Invalid("应为数字 / must be a number")
    if not -MAX_NUMBER <= value <= MAX_NUMBER:
        raise Invalid(f"绝对值应不超过 {MAX_NUMBER:g} / must be at most {MAX_NUMBER:g} either way")


def _flag(value: Any) -> None:
    if not isinstance(value, bool):
        raise Invalid("应为 true 或 false / must be true or false")


def _moment(value: Any) -> None:
    check_moment(value)


_reason = _choice(Reason)


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise Invalid("应为列表 / must be a list")
    if len(value) > MAX_LIST:
        raise Invalid(f"最多 {MAX_LIST} 项 / at most {MAX_LIST} items")
    return value


def _reasons(value: Any) -> None:
    _list(value)
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
    for index, reading in enumerate(_list(value)):
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
_REQUIRED_CHECKS = tuple(REQUIRED.items())
_OPTIONAL_CHECKS = tuple((name, check, OPTIONAL_DEFAULTS[name]) for name, check in OPTIONAL.items())


def parse_entry(data: Any, station_id: str) -> dict[str, Any]:
    """The entry in `data` (as `Entry.to_dict` gives it, without `acked_at`), sent by `station_id`.

    Raises Invalid naming the first wrong field. Works on plain dicts in one pass over the checks: building
    `Entry` objects (or pydantic models) would cost more than the rest of a push.
    """
    if not isinstance(data, dict):
        raise Invalid("条目应为对象 / an entry must be an object")
    document: dict[str, Any] = {}
    for name, check in _REQUIRED_CHECKS:
        try:
            value = data[name]
            check(value)
        except KeyError:
            raise Invalid(f"{name}: 缺少 / is missing") from None
        except Invalid as exc:
            raise Invalid(f"{name}: {exc}") from None
        document[name] = value
    for name, check, default in _OPTIONAL_CHECKS:
        if name not in data:
            document[name] = default
            continue
        value = data[name]
        try:
            check(value)
        except Invalid as exc:
            raise Invalid(f"{name}: {exc}") from None
        document[name] = value
    if document["station_id"] != station_id:
        raise Invalid(
            f"station_id: 与上传站点 {station_id} 不符 / {document['station_id']!r} differs from the sending station"
            f" {station_id!r}"
        )
    document["readings"] = [
        {"celsius": r["celsius"], "taken_at": r["taken_at"], "operator": r["operator"]} for r in document["readings"]
    ]
    if document["visitor"] is not None:
        document["visitor"] = {key: document["visitor"][key] for key in ("phone", "host", "reason")}
    return document


def read_batch(body: bytes) -> list[dict[str, Any]]:
    """The entries of a push body `{"entries": [...]}`; Invalid when the body itself has the wrong shape.

    Only the shape is checked here; each entry is checked on its own by `parse_entry`, so that one bad entry
    does not refuse the others.
    """
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = _loads_leniently(body)
    items = parsed.get("entries") if isinstance(parsed, dict) else None
    if not isinstance(items, list):
        raise Invalid('请求体应为 {"entries": [...]} / the body must be {"entries": [...]}')
    if len(items) > MAX_BATCH:
        raise Invalid(f"一次最多 {MAX_BATCH} 条 / at most {MAX_BATCH} entries per push")
    if not all(isinstance(item, dict) for item in items):
        raise Invalid("entries: 每一项都应为对象 / every entry must be an object")
    return items


def _loads_leniently(body: bytes) -> Any:
    """What the standard library makes of a body orjson refuses (NaN, a UTF-16 or BOM-prefixed body, a lone
    surrogate, deep nesting): a strict parser must not turn away what the center has always read."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("请求体不是 JSON / the body is not JSON") from None
    except RecursionError:
        raise Invalid("JSON 嵌套过深 / the JSON is nested too deeply") from None


ROW_COLUMNS = (
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
)
"""The columns of `entries`, in the order of the tuples `entry_row` gives: the entry's key first."""
_REVISION = ROW_COLUMNS.index("revision")
_RECEIVED_AT = ROW_COLUMNS.index("received_at")


def _encode(document: dict[str, Any]) -> str:
    """A checked entry's stored JSON: compact UTF-8 (orjson: four times the standard library's speed)."""
    return orjson.dumps(document).decode()


def db_time(moment: datetime) -> str:
    """An aware time as stored: naive UTC text, the form SQLAlchemy gives SQLite and PostgreSQL's COPY reads."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def entry_row(document: dict[str, Any], received_at: str) -> tuple[Any, ...]:
    """The values stored for one checked entry (in ROW_COLUMNS order): its JSON and what the queries filter on."""
    captured_at = document["captured_at"]
    captured = datetime.fromisoformat(captured_at)
    return (
        document["station_id"],
        document["entry_id"],
        document["seq"],
        document["person_id"],
        db_time(captured),
        captured_at,
        captured_at[:10],
        captured.hour,
        document["verdict"],
        not FEVER_REASONS.isdisjoint(document["reasons"]),
        document["revision"],
        received_at,
        _encode(document),
    )


_NAMES = ", ".join(ROW_COLUMNS)
_KEY = "station_id, entry_id"
_REPLACED = ", ".join(f"{name} = excluded.{name}" for name in ROW_COLUMNS[2:])
# Only a newer revision replaces; a replay changes nothing. Another station's entry of the same id is another entry.
_NEWER = f"ON CONFLICT ({_KEY}) DO UPDATE SET {_REPLACED} WHERE entries.revision < excluded.revision"
SMALL_BATCH = 50
"""Up to this many rows, PostgreSQL takes a multi-row INSERT: its scratch table for COPY costs ~4 ms of server
CPU per transaction (catalog rows made and dropped), ten times a small INSERT's. Above it, COPY is faster."""


@cache
def _multirow(rows: int, placeholder: str, conflict: str) -> str:
    values = "(" + ", ".join([placeholder] * len(ROW_COLUMNS)) + ")"
    return f"INSERT INTO entries ({_NAMES}) VALUES {', '.join([values] * rows)} {conflict}"


Arrival = tuple[str, str, int]
"""(station_id, entry_id, seq) of an entry stored for the first time."""
_RETURNING = f"RETURNING {_KEY}, seq"


def _store_sqlite(cursor: Any, rows: list[Row]) -> tuple[list[Arrival], list[Key]]:
    """(entries stored for the first time, keys replaced by a newer revision).

    Multi-row INSERTs with the values already in stored form: SQLAlchemy's per-value type processing cost as
    much as SQLite's own work. SQLite cannot tell an insert from an update in RETURNING, so new rows go first
    (DO NOTHING) and only the rest are offered as revisions; a batch of new entries costs one statement.
    """
    per_statement = cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(ROW_COLUMNS)
    inserted = _run_chunks(cursor, rows, per_statement, f"ON CONFLICT ({_KEY}) DO NOTHING {_RETURNING}")
    if len(inserted) == len(rows):
        return inserted, []
    new = {(station_id, entry_id) for station_id, entry_id, _ in inserted}
    rest = [row for row in rows if row[:2] not in new]
    replaced = _run_chunks(cursor, rest, per_statement, f"{_NEWER} {_RETURNING}")
    return inserted, [(station_id, entry_id) for station_id, entry_id, _ in replaced]


def _run_chunks(cursor: Any, rows: list[Row], per_statement: int, conflict: str) -> list[Arrival]:
    returned: list[Arrival] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        cursor.execute(_multirow(len(chunk), "?", conflict), [value for row in chunk for value in row])
        returned += cursor.fetchall()
    return returned


# xmax is 0 on a row version that was inserted, the updating transaction's id on one that was updated.
_RETURNING_PG = f"{_RETURNING}, xmax = 0"


def _store_postgresql(cursor: Any, rows: list[Row]) -> tuple[list[Arrival], list[Key]]:
    """(entries stored for the first time, keys replaced by a newer revision)."""
    if len(rows) <= SMALL_BATCH:
        cursor.execute(_multirow(len(rows), "%s", f"{_NEWER} {_RETURNING_PG}"), [v for row in rows for v in row])
    else:
        # COPY into a scratch table, then one upsert from it: several times faster than a multi-row INSERT,
        # whose thousands of parameters PostgreSQL must parse and plan on every batch.
        cursor.execute("CREATE TEMPORARY TABLE incoming (LIKE entries) ON COMMIT DROP")
        with cursor.copy(f"COPY incoming ({_NAMES}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO entries ({_NAMES}) SELECT {_NAMES} FROM incoming {_NEWER} {_RETURNING_PG}")
    inserted: list[Arrival] = []
    replaced: list[Key] = []
    for station_id, entry_id, seq, new in cursor.fetchall():
        if new:
            inserted.append((station_id, entry_id, seq))
        else:
            replaced.append((station_id, entry_id))
    return inserted, replaced


def _caused_by_the_rows(exc: BaseException) -> bool:
    """Whether a failed write may be the fault of a row it held (a value the database refused), rather than of
    the database (disk full, connection lost, locked), where writing the rows one by one cannot help."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    return not isinstance(cause, sqlite3.OperationalError | psycopg.OperationalError | OSError | DatabaseError)


class Receiver:
    """Receives stations' batches; on SQLite, concurrent batches share transactions (see group_commit)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._group = GroupCommit(self._write) if db.is_sqlite else None

    def push(self, station_id: str, items: Sequence[Any]) -> list[PushResult]:
        """Store a station's batch; one result per item, in order, after the commit."""
        received_at = db_time(datetime.now(UTC))
        results: list[PushResult | None] = [None] * len(items)
        chosen: dict[str, tuple[int, Row]] = {}
        for index, item in enumerate(items):
            try:
                row = entry_row(parse_entry(item, station_id), received_at)
            except Invalid as exc:
                results[index] = _rejected(item, str(exc))
                continue
            entry_id, revision = row[1], row[_REVISION]
            earlier = chosen.get(entry_id)
            # One statement may not touch a row twice: keep the newest copy; the others are covered by it.
            if earlier is not None and earlier[1][_REVISION] >= revision:
                results[index] = PushResult(entry_id, revision, "duplicate")
                continue
            if earlier is not None:
                results[earlier[0]] = PushResult(entry_id, earlier[1][_REVISION], "duplicate")
            chosen[entry_id] = (index, row)
        written: set[Key] = set()
        failed: dict[Key, str] = {}
        if chosen:
            written, failed = self._store([row for _, row in chosen.values()])
        for entry_id, (index, row) in chosen.items():
            key = (station_id, entry_id)
            if key in failed:
                results[index] = _rejected(items[index], failed[key])
            else:
                results[index] = PushResult(entry_id, row[_REVISION], "stored" if key in written else "duplicate")
        return [result for result in results if result is not None]

    def _store(self, rows: list[Row]) -> tuple[set[Key], dict[Key, str]]:
        """(keys written, {key: why it could not be stored}); a row the database refuses is isolated by
        splitting the batch, so that the rest is still stored. Raises when the database itself fails."""
        try:
            return (self._group.write(rows) if self._group is not None else self._write(rows)), {}
        except Exception as exc:
            if not _caused_by_the_rows(exc):
                raise
            if len(rows) == 1:
                return set(), {
                    rows[0][:2]: f"中心无法保存此条目 / the center could not store this entry: {_first_line(exc)}"
                }
        half = len(rows) // 2
        written, failed = self._store(rows[:half])
        more_written, more_failed = self._store(rows[half:])
        return written | more_written, failed | more_failed

    def _write(self, rows: list[Row]) -> set[Key]:
        postgresql = not self.db.is_sqlite
        with self.db.write() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            inserted, replaced = (_store_postgresql if postgresql else _store_sqlite)(cursor, rows)
            if inserted or replaced:
                arrived = [(station_id, seq) for station_id, _, seq in inserted]
                touched = {station_id for station_id, _ in replaced}
                summaries.record(cursor, postgresql, arrived, touched, max(row[_RECEIVED_AT] for row in rows))
        return {(station_id, entry_id) for station_id, entry_id, _ in inserted}.union(replaced)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _rejected(item: Any, error: str) -> PushResult:
    entry_id = item.get("entry_id") if isinstance(item, dict) else None
    revision = item.get("revision") if isinstance(item, dict) else None
    try:
        echoed = check_text(entry_id, 64)
    except Invalid:  # not echoed: it may not even be encodable in the reply
        echoed = ""
    return PushResult(
        entry_id=echoed,
        revision=revision if type(revision) is int and 0 <= revision < 2**31 else 0,  # only one that can be
        status="rejected",
        error=error,
    )

"""The center's entry checks, field by field, and a batch stored in a real SQLite file."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy")

from sqlalchemy import DateTime  # noqa: E402
from sqlalchemy.dialects import sqlite  # noqa: E402

from kiosk.center.auth import add_station  # noqa: E402
from kiosk.center.db import Database, entries  # noqa: E402
from kiosk.center.entries import ROW_COLUMNS, Invalid, Receiver, db_time, parse_entry, read_batch  # noqa: E402
from kiosk.center.group_commit import GroupCommit  # noqa: E402
from kiosk.domain.models import Entry, Reading  # noqa: E402


@pytest.fixture
def sent(make_entry: Callable[..., Entry]) -> dict[str, Any]:
    return make_entry(seq=7, readings=(Reading(37.5, "2026-11-28T07:30:05+08:00", "T1001"),)).to_dict()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"entry_id": ""}, "entry_id"),
        ({"entry_id": 5}, "entry_id"),
        ({"seq": 0}, "seq"),
        ({"seq": True}, "seq"),
        ({"seq": "7"}, "seq"),
        ({"role": "dean"}, "role"),
        ({"method": None}, "method"),
        ({"direction": "up"}, "direction"),
        ({"captured_at": "yesterday"}, "captured_at"),
        ({"captured_at": "2026-11-28T07:30:00"}, "captured_at"),
        ({"monotonic": "fast"}, "monotonic"),
        ({"verdict": "maybe"}, "verdict"),
        ({"reasons": ["on_roster", "bribe"]}, "reasons"),
        ({"reasons": "on_roster"}, "reasons"),
        ({"offline": "no"}, "offline"),
        ({"revision": -1}, "revision"),
        ({"readings": [{"celsius": "hot", "taken_at": "2026-11-28T07:30:05+08:00", "operator": "x"}]}, "readings"),
        ({"readings": [{"celsius": 37.0, "operator": "x"}]}, "readings"),
        ({"visitor": {"phone": "1"}}, "visitor"),
        ({"station_id": "test-02"}, "station_id"),
        ({"person_id": "x" * 65}, "person_id"),
        ({"person_id": "  "}, "person_id"),
        ({"station_id": None}, "station_id"),
        ({"seq": 2**31}, "seq"),
        ({"seq": 1.0}, "seq"),
        ({"role": "Student"}, "role"),
        ({"name": None}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"captured_at": 20261128}, "captured_at"),
        ({"captured_at": "2026-11-28T07:30:00+08:00" + " " * 20}, "captured_at"),
        ({"monotonic": True}, "monotonic"),
        ({"monotonic": float("nan")}, "monotonic"),
        ({"monotonic": float("inf")}, "monotonic"),
        ({"verdict": ["admitted"]}, "verdict"),
        ({"reasons": [1]}, "reasons"),
        ({"reasons": None}, "reasons"),
        ({"rules_version": 3}, "rules_version"),
        ({"operator": "x" * 65}, "operator"),
        ({"offline": 0}, "offline"),
        ({"offline": None}, "offline"),
        ({"readings": None}, "readings"),
        ({"readings": [None]}, "readings"),
        ({"readings": [{"celsius": True, "taken_at": "2026-11-28T07:30:05+08:00", "operator": "x"}]}, "readings"),
        ({"readings": [{"celsius": 37.0, "taken_at": "2026-11-28T07:30:05", "operator": "x"}]}, "readings"),
        ({"readings": [{"celsius": 37.0, "taken_at": "2026-11-28T07:30:05+08:00", "operator": 1}]}, "readings"),
        ({"visitor": "a visitor"}, "visitor"),
        ({"visitor": {"phone": "1", "host": "h", "reason": 5}}, "visitor"),
        ({"visitor": {"phone": "1" * 33, "host": "h", "reason": "r"}}, "visitor"),
        ({"revision": 1.5}, "revision"),
        ({"revision": False}, "revision"),
        ({"revision": None}, "revision"),
    ],
)
def test_a_wrong_field_is_named(sent: dict[str, Any], change: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as raised:
        parse_entry(sent | change, "test-01")
    assert str(raised.value).startswith(f"{field}:")
    assert " / " in str(raised.value)


@pytest.mark.parametrize("field", ["entry_id", "seq", "captured_at", "verdict", "reasons", "operator"])
def test_a_missing_field_is_named(sent: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid, match=f"^{field}: "):
        parse_entry({key: value for key, value in sent.items() if key != field}, "test-01")


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 2**31 - 1},
        {"name": ""},
        {"rules_version": ""},
        {"operator": ""},
        {"monotonic": 3},
        {"monotonic": -1.5},
        {"reasons": []},
        {"captured_at": "2026-11-28T07:30:00Z"},
        {"captured_at": "2026-11-28 07:30:00.123456+08:00"},
        {"readings": [{"celsius": 37, "taken_at": "2026-11-28T07:30:05+08:00", "operator": ""}]},
        {"visitor": None},
        {"visitor": {"phone": "", "host": "", "reason": ""}},
        {"revision": 0},
        {"offline": True},
    ],
)
def test_an_unusual_but_valid_field_is_accepted(sent: dict[str, Any], change: dict[str, Any]) -> None:
    assert parse_entry(sent | change, "test-01")[next(iter(change))] == next(iter(change.values()))


@pytest.mark.parametrize("field", ["offline", "readings", "visitor", "revision"])
def test_an_optional_field_may_be_left_out(sent: dict[str, Any], field: str) -> None:
    document = parse_entry({key: value for key, value in sent.items() if key != field}, "test-01")
    assert document[field] == {"offline": False, "readings": [], "visitor": None, "revision": 0}[field]


@pytest.mark.parametrize("item", [None, "entry", 5, ["entry_id", "x"]])
def test_an_entry_that_is_not_an_object_is_rejected(item: object) -> None:
    with pytest.raises(Invalid, match=" / "):
        parse_entry(item, "test-01")


def test_unknown_keys_in_readings_and_visitor_are_dropped(sent: dict[str, Any]) -> None:
    reading = sent["readings"][0]
    document = parse_entry(
        sent | {"readings": [reading | {"more": 1}], "visitor": {"phone": "1", "host": "h", "reason": "r", "more": 1}},
        "test-01",
    )
    assert document["readings"] == [reading]
    assert document["visitor"] == {"phone": "1", "host": "h", "reason": "r"}


def test_a_good_entry_reads_back_as_sent(sent: dict[str, Any]) -> None:
    document = parse_entry(sent | {"acked_at": "2026-11-28T07:31:00+08:00", "extra": 1}, "test-01")
    assert Entry.from_dict(document) == Entry.from_dict(sent)
    assert "acked_at" not in document and "extra" not in document


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b"\xff", "not JSON"),
        (b"[]", "must be"),
        (b"{}", "must be"),
        (b'{"entries": "x"}', "must be"),
        (b'{"entries": {"a": 1}}', "must be"),
        (b'{"entries": [1, 2]}', "object"),
        (b'{"entries": [{}, null]}', "object"),
        (json.dumps({"entries": [{}] * 5001}).encode(), "at most 5000"),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_whole(body: bytes, problem: str) -> None:
    with pytest.raises(Invalid, match=problem):
        read_batch(body)


def test_a_body_gives_its_entries_unchecked() -> None:
    assert read_batch(b'{"entries": [{}, {"seq": 1}], "other": 1}') == [{}, {"seq": 1}]
    assert read_batch(json.dumps({"entries": [{}] * 5000}).encode()) == [{}] * 5000


def test_rows_hold_every_column_and_times_in_the_form_sqlalchemy_stores() -> None:
    assert sorted(ROW_COLUMNS) == sorted(column.name for column in entries.columns)
    moment = datetime(2026, 11, 28, 7, 30, 5, tzinfo=timezone(timedelta(hours=8)))
    dialect = sqlite.dialect()
    stored_by_sqlalchemy = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert stored_by_sqlalchemy is not None
    for shown in (moment, moment.replace(microsecond=120)):
        assert db_time(shown) == stored_by_sqlalchemy(shown.astimezone(UTC).replace(tzinfo=None))


def test_one_batch_with_several_revisions_of_an_entry(tmp_path: Path, make_entry: Callable[..., Entry]) -> None:
    db = Database(f"sqlite:///{tmp_path / 'center.db'}")
    add_station(db, "test-01")
    first = make_entry(seq=1)
    second = first.amended(operator="T2")
    batch = [first.to_dict(), second.to_dict(), first.to_dict(), "not an entry"]
    receiver = Receiver(db)
    assert [(r.status, r.revision) for r in receiver.push("test-01", batch)] == [
        ("duplicate", 0),
        ("stored", 1),
        ("duplicate", 0),
        ("rejected", 0),
    ]
    assert [r.status for r in receiver.push("test-01", [second.to_dict()])] == ["duplicate"]
    db.close()


def test_concurrent_pushes_share_commits_and_each_hears_its_outcome(
    tmp_path: Path, make_entry: Callable[..., Entry]
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'center.db'}")
    receiver = Receiver(db)
    batches = [[make_entry(station_id=f"s{n}", seq=seq).to_dict() for seq in range(1, 51)] for n in range(8)]
    replayed = batches[0]  # pushed by two callers at once, as a station retrying after a timeout would
    with ThreadPoolExecutor(max_workers=9) as pool:
        outcomes = list(pool.map(lambda n: receiver.push(f"s{n % 8}", batches[n % 8]), range(9)))
    for n, results in enumerate(outcomes):
        assert [r.entry_id for r in results] == [entry["entry_id"] for entry in batches[n % 8]]
        assert {r.status for r in results} <= ({"stored", "duplicate"} if n % 8 == 0 else {"stored"})
    first_two = [r.status for r in outcomes[0]] + [r.status for r in outcomes[8]]
    assert first_two.count("stored") >= len(replayed)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM entries").scalar() == 8 * 50
    db.close()


def test_a_failed_group_fails_every_caller_in_it() -> None:
    started, release = threading.Event(), threading.Event()

    def write(rows: list[tuple[Any, ...]]) -> set[str]:
        started.set()
        release.wait(5)
        raise OSError(28, "No space left on device")

    group = GroupCommit(write)
    with ThreadPoolExecutor(max_workers=3) as pool:
        leader = pool.submit(group.write, [("a",)])
        assert started.wait(5)
        followers = [pool.submit(group.write, [(name,)]) for name in ("b", "c")]
        release.set()
        for future in (leader, *followers):
            with pytest.raises(OSError):
                future.result(timeout=5)

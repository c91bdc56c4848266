"""The center's entry checks, field by field, and a batch stored in a real SQLite file."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("sqlalchemy")

from sqlalchemy import DateTime, event  # noqa: E402
from sqlalchemy.dialects import sqlite  # noqa: E402

from kiosk.center.api import receive_entries  # noqa: E402
from kiosk.center.auth import add_station  # noqa: E402
from kiosk.center.checks import DATE_PATTERN, MOMENT_PATTERN, check_moment  # noqa: E402
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
        # Found by an attack on the center (issue 12): each once failed a whole batch, or was stored as is.
        ({"name": "\ud800"}, "name"),
        ({"name": "张\x1b[2J三"}, "name"),
        ({"person_id": "2023\x00001"}, "person_id"),
        ({"entry_id": "a\u0085b"}, "entry_id"),
        ({"operator": "T1\ndrop"}, "operator"),
        ({"captured_at": "0001-01-01T00:00:00+08:00"}, "captured_at"),
        ({"captured_at": "9999-12-31T23:59:59-14:00"}, "captured_at"),
        ({"captured_at": "1969-12-31T23:59:59+00:00"}, "captured_at"),
        ({"captured_at": "2100-02-29T08:00:00+08:00"}, "captured_at"),
        ({"captured_at": "2026-11-28T24:00:00+08:00"}, "captured_at"),
        ({"captured_at": "2026-11-28T07:30:60+08:00"}, "captured_at"),
        ({"captured_at": "2026-11-28T07:30:00+14:01"}, "captured_at"),
        ({"captured_at": "2026-11-28t07:30:00z"}, "captured_at"),
        ({"captured_at": "2026-11-28 07:30:00+08:00"}, "captured_at"),
        ({"captured_at": "2026-11-28T07:30:00+08:00\n"}, "captured_at"),
        ({"captured_at": "20200214T080000+0800"}, "captured_at"),
        ({"captured_at": "2026-11-28T07:30:00+15:00"}, "captured_at"),
        ({"captured_at": "2026-11-28T07:30:00+08"}, "captured_at"),
        ({"captured_at": "2026-11-28"}, "captured_at"),
        ({"captured_at": "2026-02-30T07:30:00+08:00"}, "captured_at"),
        ({"captured_at": "2026-11-28T07:30:00.1234567+08:00"}, "captured_at"),
        ({"captured_at": "２０２６-11-28T07:30:00+08:00"}, "captured_at"),
        ({"monotonic": 10**30}, "monotonic"),
        ({"monotonic": 10**400}, "monotonic"),
        ({"monotonic": -1e300}, "monotonic"),
        ({"reasons": ["on_roster"] * 33}, "reasons"),
        ({"readings": [{"celsius": 10**400, "taken_at": "2026-11-28T07:30:05+08:00", "operator": ""}]}, "readings"),
        ({"readings": [{"celsius": 37.0, "taken_at": "0001-01-01T00:00:00+14:00", "operator": ""}]}, "readings"),
        ({"visitor": {"phone": "1", "host": "h\x07", "reason": "r"}}, "visitor"),
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
        {"captured_at": "1970-01-01T00:00:00+00:00"},
        {"captured_at": "1970-01-01T08:00:00+14:00"},
        {"captured_at": "2096-02-29T08:00:00-14:00"},
        {"captured_at": "2000-02-29T08:00:00Z"},
        {"captured_at": "2199-12-31T23:59:59.999999+14:00"},
        {"captured_at": "2026-11-28T07:30:00-12:00"},
        {"name": "Zoë O'Brien-李 (访客)"},
        {"captured_at": "2026-11-28T07:30:00.123456+08:00"},
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
        (b'{"entries": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_whole(body: bytes, problem: str) -> None:
    with pytest.raises(Invalid, match=problem):
        read_batch(body)


def test_a_body_gives_its_entries_unchecked() -> None:
    assert read_batch(b'{"entries": [{}, {"seq": 1}], "other": 1}') == [{}, {"seq": 1}]
    assert read_batch(json.dumps({"entries": [{}] * 5000}).encode()) == [{}] * 5000


def test_a_body_only_the_standard_parser_reads_is_answered_entry_by_entry(
    tmp_path: Path, make_entry: Callable[..., Entry]
) -> None:
    """NaN and integers past 64 bits are not strict JSON: the entries holding them are refused, the others
    stored, and the reply is still JSON (it echoes no revision that cannot be one)."""
    good, nan, huge = (make_entry(seq=seq).to_dict() for seq in (1, 2, 3))
    body = json.dumps({"entries": [good, nan | {"monotonic": float("nan")}, huge | {"revision": 10**30}]}).encode()
    db = Database(f"sqlite:///{tmp_path / 'center.db'}")

    reply = json.loads(receive_entries(Receiver(db), "test-01", body))["results"]

    assert [(r["status"], r["revision"]) for r in reply] == [("stored", 0), ("rejected", 0), ("rejected", 0)]
    assert reply[1]["error"].startswith("monotonic:") and reply[2]["error"].startswith("revision:")
    db.close()


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


def _refuse_person(db: Database, person_id: str) -> None:
    """Make the database itself refuse one entry, as a value no check foresaw would."""
    with db.write() as conn:
        conn.exec_driver_sql(
            f"CREATE TRIGGER refuse BEFORE INSERT ON entries WHEN NEW.person_id = '{person_id}'"
            " BEGIN SELECT RAISE(ABORT, 'refused by the database'); END"
        )


def test_an_entry_the_database_refuses_costs_no_other_entry(tmp_path: Path, make_entry: Callable[..., Entry]) -> None:
    db = Database(f"sqlite:///{tmp_path / 'center.db'}")
    _refuse_person(db, "poison")
    batch = [make_entry(seq=seq, person_id="poison" if seq == 5 else f"p{seq}").to_dict() for seq in range(1, 11)]
    results = Receiver(db).push("test-01", batch)
    assert [r.status for r in results] == ["stored"] * 4 + ["rejected"] + ["stored"] * 5
    assert results[4].entry_id == batch[4]["entry_id"] and "refused by the database" in (results[4].error or "")
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM entries").scalar() == 9
    db.close()


def test_a_poisoned_group_commit_fails_no_other_caller(tmp_path: Path, make_entry: Callable[..., Entry]) -> None:
    """Pushes share transactions: one station's refused entry must not fail the others' pushes in its group."""
    db = Database(f"sqlite:///{tmp_path / 'center.db'}")
    _refuse_person(db, "poison")
    receiver = Receiver(db)

    def push(n: int) -> list[str]:
        station = f"s{n}"
        batch = [make_entry(station_id=station, seq=seq).to_dict() for seq in range(1, 21)]
        if n % 2:
            batch[7] = make_entry(station_id=station, seq=8, person_id="poison").to_dict()
        return [r.status for r in receiver.push(station, batch)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(push, range(16)))
    for n, statuses in enumerate(outcomes):
        assert statuses == (["stored"] * 7 + ["rejected"] + ["stored"] * 12 if n % 2 else ["stored"] * 20)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM entries").scalar() == 16 * 20 - 8
    db.close()


def test_a_failing_database_still_fails_every_caller(tmp_path: Path, make_entry: Callable[..., Entry]) -> None:
    """Splitting is for refused rows only: when the database itself fails, nothing is acknowledged."""
    db = Database(f"sqlite:///{tmp_path / 'center.db'}")
    # A full disk: the file may not grow by a page (SQLite answers SQLITE_FULL, an OperationalError).
    event.listen(db.engine, "connect", lambda connection, _: connection.execute("PRAGMA max_page_count = 1"))
    db.engine.dispose()
    receiver = Receiver(db)
    with pytest.raises(sqlite3.OperationalError, match="full"):
        receiver.push("test-01", [make_entry(seq=seq).to_dict() for seq in range(1, 201)])
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM entries").scalar() == 0
    db.close()


def test_an_entry_id_of_another_station_is_another_entry(tmp_path: Path, make_entry: Callable[..., Entry]) -> None:
    db = Database(f"sqlite:///{tmp_path / 'center.db'}")
    receiver = Receiver(db)
    mine = make_entry(station_id="s1", seq=1)
    theirs = dict(mine.to_dict(), station_id="s2", person_id="someone-else")
    assert [r.status for r in receiver.push("s1", [mine.to_dict()])] == ["stored"]
    assert [r.status for r in receiver.push("s2", [theirs])] == ["stored"]
    assert [r.status for r in receiver.push("s2", [theirs])] == ["duplicate"]
    with db.read() as conn:
        rows = conn.exec_driver_sql("SELECT station_id, person_id FROM entries ORDER BY station_id").all()
    assert [tuple(row) for row in rows] == [("s1", mine.person_id), ("s2", "someone-else")]
    db.close()


def test_the_date_pattern_takes_exactly_the_real_dates_of_1970_to_2199() -> None:
    """The OpenAPI document gives the pattern; it must agree with the calendar on every day, leap days included."""
    for year in (1969, 1970, 1972, 2000, 2024, 2100, 2104, 2199, 2200):
        for month in range(0, 14):
            for day in range(0, 33):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    real = 1970 <= datetime(year, month, day).year <= 2199
                except ValueError:
                    real = False
                assert (re.fullmatch(DATE_PATTERN[1:-1], text) is not None) == real, text


@settings(max_examples=300, deadline=None)
@given(
    moment=st.one_of(
        st.from_regex(MOMENT_PATTERN, fullmatch=True),
        st.from_regex(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?(Z|[+-]\d\d:\d\d)?", fullmatch=True),
        st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([+-][0-9]{2}:[0-9]{2})", fullmatch=True),
        st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
    )
)
def test_times_are_taken_exactly_when_the_documented_pattern_matches(moment: str) -> None:
    """The OpenAPI document gives MOMENT_PATTERN; the center's faster check must agree with it on every text."""
    try:
        check_moment(moment)
        taken = True
    except Invalid:
        taken = False
    assert taken == (re.fullmatch(MOMENT_PATTERN[1:-1], moment) is not None), moment

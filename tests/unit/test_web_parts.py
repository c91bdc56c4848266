"""The dashboard's parts without a browser: accounts and lock-out, the roster dry run, charts, the XLSX."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from kiosk.center.db import Database, utc_now
from kiosk.center.schemas import DailyReport, StationDay, VerdictCounts
from kiosk.center.web import accounts, charts
from kiosk.center.web.daily import workbook
from kiosk.center.web.roster_page import changed_fields
from kiosk.center.web.text import duration
from kiosk.domain.models import Entry, Person, Reason, Role, Verdict


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'center.db'}")
    accounts.ensure_tables(database)
    yield database
    database.close()


def test_passwords_are_stored_as_scrypt_hashes(db: Database) -> None:
    accounts.add_user(db, "wang", "admin", "a-long-password")
    with db.read() as conn:
        stored = conn.execute(accounts.users.select()).mappings().one()["password_hash"]
    assert stored.startswith("scrypt$") and "a-long-password" not in stored
    assert accounts.sign_in(db, "wang", "a-long-password", "t").token is not None
    assert accounts.sign_in(db, "wang", "A-long-password", "t").token is None


@pytest.mark.parametrize(
    ("name", "role", "password"),
    [("wang", "owner", "a-long-password"), ("wang li", "viewer", "a-long-password"), ("wang", "viewer", "short")],
)
def test_bad_accounts_are_refused_bilingually(db: Database, name: str, role: str, password: str) -> None:
    with pytest.raises(accounts.AccountError, match=" / "):
        accounts.add_user(db, name, role, password)


def test_the_lock_lasts_a_while_then_the_right_password_works_again(db: Database) -> None:
    accounts.add_user(db, "li", "viewer", "the-right-password")
    for _ in range(accounts.LOCK_AFTER - 1):
        assert accounts.sign_in(db, "li", "wrong", "t").locked_until is None
    locked = accounts.sign_in(db, "li", "wrong", "t").locked_until
    assert locked is not None and locked - utc_now() > accounts.LOCK_FOR - timedelta(minutes=1)
    assert accounts.sign_in(db, "li", "the-right-password", "t").token is None
    with db.write() as conn:  # the lock's time has passed
        conn.execute(update(accounts.users).values(locked_until=utc_now() - timedelta(seconds=1)))
    outcome = accounts.sign_in(db, "li", "the-right-password", "t")
    assert outcome.token is not None and accounts.session(db, outcome.token).user.username == "li"


def test_one_address_trying_many_names_is_refused_a_while(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "ADDRESS_LIMIT", 5)  # each attempt costs a real scrypt
    accounts.add_user(db, "sun", "viewer", "the-right-password")
    for attempt in range(accounts.ADDRESS_LIMIT):
        assert accounts.sign_in(db, f"guess{attempt}", "wrong", "10.0.0.9").token is None
    assert accounts.sign_in(db, "sun", "the-right-password", "10.0.0.9").locked_until is not None
    assert accounts.sign_in(db, "sun", "the-right-password", "10.0.0.10").token is not None


def test_a_new_password_ends_the_old_sessions(db: Database) -> None:
    accounts.add_user(db, "zhao", "viewer", "first-password")
    token = accounts.sign_in(db, "zhao", "first-password", "t").token
    assert token is not None and accounts.session(db, token) is not None
    accounts.add_user(db, "zhao", "admin", "second-password")
    assert accounts.session(db, token) is None


def test_changed_fields_name_what_an_import_changes() -> None:
    before = Person("1", "张三", Role.STUDENT, "海淀校园")
    assert changed_fields(before, Person("1", "张三", Role.STUDENT, "昌平校园")) == ["campus"]
    assert changed_fields(before, before) == []


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (5, "5 秒", "5 s"),
        (125, "2 分钟", "2 min"),
        (3 * 3600 + 300, "3 小时 5 分", "3 h 5 min"),
        (3 * 86400, "3 天", "3 d"),
    ],
)
def test_durations(seconds: int, zh: str, en: str) -> None:
    assert (duration(seconds, "zh"), duration(seconds, "en")) == (zh, en)


def test_chart_labels_are_escaped() -> None:
    svg = charts.bars([("<script>alert(1)</script>", VerdictCounts(admitted=3, denied=1, total=4))], "t")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and 'class="denied"' in svg


def test_daily_workbook_has_every_station_and_masks_for_viewers() -> None:
    report = DailyReport(
        date="2026-11-28",
        stations=[
            StationDay(station_id="gate-01", name="东门", campus="海淀校园", admitted=1, referred=1, total=2),
            StationDay(station_id="gate-02", name="西门", campus="昌平校园"),
        ],
        totals=VerdictCounts(admitted=1, referred=1, total=2),
    )
    fever = Entry.from_dict(
        {
            "entry_id": "e1", "station_id": "gate-01", "seq": 1, "person_id": "2023000101", "role": "student",
            "name": "张小三", "method": "serial_scan", "direction": "in", "captured_at": "2026-11-28T07:30:00+08:00",
            "monotonic": 1.0, "verdict": str(Verdict.REFERRED), "reasons": [str(Reason.FEVER_REFERRED)],
            "rules_version": "t", "operator": "T1",
        }
    )  # fmt: skip
    for full, shown in ((False, "2023****01"), (True, "2023000101")):
        book = load_workbook(io.BytesIO(workbook(report, [fever], [], "zh", full)), read_only=True)
        daily, fever_sheet, denied_sheet = (list(s.iter_rows(values_only=True)) for s in book.worksheets)
        assert [row[1] for row in daily[1:]] == ["gate-01", "gate-02", None]
        assert daily[2][3:] == (0, 0, 0, 0) and daily[-1][3:] == (1, 0, 1, 2)
        assert shown in fever_sheet[1] and len(denied_sheet) == 1

"""The gate screen through Pilot: scans typed at the gate, verdicts, lockdown, duty dialogs, store failures."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from gatekit import PIN, STAFF_ID, START, make_app, scan, screen_text, type_as_person, with_duty
from textual.widgets import Input

from kiosk.app import KioskApp
from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config
from kiosk.domain.models import Direction, Entry, Method, Person, Verdict
from kiosk.station.shift import Shift
from kiosk.station.station import Station
from screens.duty import DutyLoginDialog, DutyMenuDialog, ExitDialog
from screens.gate import GateScreen
from storage.entries import EntryStore
from storage.files import StoreFullError
from storage.notices import NoticeStore
from storage.roster import RosterStore

SIZE = (100, 30)
TODAY = "2026-11-28"


def stored(config: Config) -> list[Entry]:
    store = EntryStore(config.data_dir)
    try:
        return store.entries_of_day(TODAY)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("person_id", "verdict", "shown", "name"),
    [
        ("2023000101", Verdict.ADMITTED, "✔  准予通行", "张*"),
        ("2023000102", Verdict.ADMITTED, "✔  准予通行", "欧**娜"),
        ("2023000103", Verdict.REFERRED, "✚  请到隔离等候区", "李*明"),
        ("99999999", Verdict.DENIED, "✘  禁止通行", ""),
    ],
)
async def test_a_typed_scan_shows_the_recorded_verdict_masked(
    config: Config, people: tuple[Person, ...], person_id: str, verdict: Verdict, shown: str, name: str
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, person_id)
        text = screen_text(app)
        assert shown in text
        assert name in text
        assert f"{person_id[:4]}{'*' * (len(person_id) - 6)}{person_id[-2:]}" in text
        assert person_id not in text, "the full ID must never be on screen"
        assert app.gate.query_one("#verdict").has_class(f"-{verdict}")
    entries = stored(config)
    assert [(e.person_id, e.verdict) for e in entries] == [(person_id, verdict)]
    assert entries[0].method is Method.KEYBOARD_SCAN


async def test_both_languages_and_the_reason_are_shown(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "99999999")
        text = screen_text(app)
        assert "不在名单中" in text and "Denied · Not on the roster" in text
        await pilot.press("f10")
        await pilot.pause()
        text = screen_text(app)
        assert "✘  Denied" in text and "禁止通行 · 不在名单中" in text
        assert "F10 中文" in text
        assert "Today  in 0  out 0  denied 1  referred 0" in text


async def test_a_second_scan_is_already_scanned_and_not_recorded(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "2023000101")
        await scan(pilot, "2023000101")
        assert "已刷卡" in screen_text(app)
        assert app.gate.query_one("#verdict").has_class("-duplicate")
    assert len(stored(config)) == 1


async def test_the_newest_entries_are_listed_first(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        for number in range(7):
            await scan(pilot, f"8888{number:04d}")
        listed = [e.person_id for e in app.gate.recent]
        assert listed == [f"8888{number:04d}" for number in (6, 5, 4, 3, 2)]
        assert "8888**06" in screen_text(app).split("最近通行")[1].splitlines()[1]


async def test_todays_counts_and_last_entries_come_back_after_a_restart(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "2023000101")
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [e.person_id for e in app.gate.recent] == ["2023000101"]
        assert "今日  进 1  出 0" in screen_text(app)


async def test_garbage_is_rejected_visibly_and_audited(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "12;DROP")
        text = screen_text(app)
        assert "无法识别的卡号" in text and "Unreadable card" in text
        assert app.is_running
    store = EntryStore(config.data_dir)
    try:
        audit = store.audit_of_day(TODAY)
        assert store.entries_of_day(TODAY) == []
    finally:
        store.close()
    assert [r["kind"] for r in audit] == ["scan_rejected"]


async def test_f9_switches_the_direction_that_scans_record(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "方向:进" in screen_text(app)
        await pilot.press("f9")
        await scan(pilot, "2023000101")
        assert "方向:出" in screen_text(app)
        assert app.station.direction is Direction.OUT
    assert stored(config)[0].direction is Direction.OUT


class SlowRoster(RosterStore):
    """A roster that is read only when the test releases it, as a 50k roster takes its time."""

    def __init__(self, config: Config, release: threading.Event) -> None:
        super().__init__(config.data_dir, load=False)
        self.release = release

    def load(self) -> None:
        self.release.wait(30)
        super().load()


async def test_a_scan_during_the_roster_load_waits_and_is_then_decided(
    config: Config, people: tuple[Person, ...]
) -> None:
    RosterStore(config.data_dir).replace_all(people)
    release = threading.Event()
    clock = FrozenClock(START)
    station = Station(with_duty(config), EntryStore(config.data_dir), SlowRoster(config, release), clock)
    app = KioskApp(station.config, station, NoticeStore(config.data_dir), clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "请刷卡" in screen_text(app) and "名单加载中" in screen_text(app), "drawn before the roster is in"
        await scan(pilot, "2023000101")
        text = screen_text(app)
        assert "名单加载中,请稍候" in text and "禁止通行" not in text and "不在名单中" not in text
        assert app.station.store.last_seq == 0, "nothing recorded yet"
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "准予通行" in text and "名单加载中" not in text
    assert [(e.person_id, e.verdict) for e in stored(config)] == [("2023000101", Verdict.ADMITTED)]


async def test_the_clock_stops_with_the_gate_screen(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        gate = app.gate
    assert not gate.is_running
    gate.tick()  # a tick during teardown draws nothing (it used to raise NoMatches('#clock'))


class FullDiskStore(EntryStore):
    """A store on a full disk: every new entry is refused as the journal would refuse it (ENOSPC)."""

    def record(self, entry: Entry) -> Entry:
        raise StoreFullError(self.root / "journal.jsonl")


async def test_a_full_disk_shows_an_alarm_and_no_verdict(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people, store=FullDiskStore(config.data_dir))
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "2023000101")
        text = screen_text(app)
        assert "磁盘已满" in text and "Disk full" in text and "NOT recorded" in text
        assert "准予通行" not in text
        assert app.gate.query_one("#banner").has_class("-alarm")
        assert app.is_running


LOCKDOWN_KEYS = ["ctrl+q", "ctrl+c", "ctrl+p", "ctrl+z", "ctrl+backslash", "escape", "f1", "f11"]


async def test_no_key_leaves_the_app(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        for key in LOCKDOWN_KEYS:
            await pilot.press(key)
            await pilot.pause()
            assert app.is_running and isinstance(app.screen, GateScreen), key
        for key in [f"f{n}" for n in range(1, 13)]:
            await pilot.press(key)
            await pilot.pause()
            assert app.is_running, key
            while not isinstance(app.screen, GateScreen):  # F2-F8 and F12 open a dialog: close it
                await pilot.press("escape")
                await pilot.pause()
        assert app.return_code is None


async def exit_dialog(pilot) -> ExitDialog:
    await pilot.press("f12")
    await pilot.pause()
    assert isinstance(pilot.app.screen, DutyMenuDialog)
    await pilot.click("#exit")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, ExitDialog)
    return dialog


async def test_leaving_needs_a_right_duty_pin(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await exit_dialog(pilot)
        await type_as_person(pilot, *"0000", "enter")
        assert app.is_running and app.screen is dialog
        assert "PIN 不正确" in screen_text(app)
        assert dialog.query_one("#pin", Input).value == ""
        await type_as_person(pilot, *PIN, "enter")
    assert app.return_code == 0
    audit = EntryStore(config.data_dir).audit_of_day(TODAY)
    assert [(r["kind"], r["detail"]) for r in audit] == [("pin_refused", "action=exit")], "a wrong PIN is audited"


async def test_staff_screens_need_a_shift_and_a_wrong_pin_is_refused(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, DutyLoginDialog)
        await type_as_person(pilot, *STAFF_ID, "enter", *"1111", "enter")
        assert "工号或 PIN 不正确" in screen_text(app)
        assert app.station.shift is None
        app.screen.query_one("#staff-id", Input).focus()
        await type_as_person(pilot, "enter", *PIN, "enter")
        assert isinstance(app.station.shift, Shift)
        assert type(app.screen).__name__ == "ManualEntryScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert "值班:王*师" in screen_text(app)
        await pilot.press("f12")
        await pilot.pause()
        await pilot.click("#close")
        await pilot.pause()
        assert app.station.shift is None and "无人值班" in screen_text(app)
    kinds = [r["kind"] for r in EntryStore(config.data_dir).audit_of_day(TODAY)]
    assert kinds[:3] == ["login_refused", "shift_opened", "shift_closed"]


def test_kiosk_run_refuses_to_start_with_textual_allow_signals(tmp_path: Path) -> None:
    (tmp_path / "kiosk.toml").write_text('[storage]\ndata_dir = "data"\n', encoding="utf-8")
    kiosk = Path(sys.executable).with_name("kiosk")
    result = subprocess.run(
        [str(kiosk), "run", "--config", str(tmp_path / "kiosk.toml")],
        env={**os.environ, "TEXTUAL_ALLOW_SIGNALS": "1"},
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "TEXTUAL_ALLOW_SIGNALS" in result.stderr and "ctrl+c would kill the kiosk" in result.stderr
    assert not (tmp_path / "data").exists(), "nothing is opened before the refusal"

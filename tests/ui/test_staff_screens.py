"""Pilot flows through the duty officer's screens, each hosted by a tiny app over a real store and roster."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from gatekit import PIN as GATE_PIN
from gatekit import STAFF_ID, make_app, scan, screen_text
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, OptionList, Static

from kiosk.clock import FrozenClock
from kiosk.config import Config, DutyStaff, SecurityConfig
from kiosk.models import Direction, Entry, Method, Person, Reason, Verdict
from kiosk.pins import hash_pin
from kiosk.station import Handover, Station
from screens.duty import DutyLoginDialog
from screens.handover import HandoverScreen
from screens.log import PAGE, EntryLogScreen
from screens.manual import ManualEntryScreen
from screens.stats import StatsScreen
from screens.temperature import TemperatureDialog
from screens.unmask import UnmaskDialog
from screens.visitor import VisitorScreen
from storage.entries import EntryStore
from storage.roster import RosterStore

PIN = "2468"
START = datetime(2026, 11, 28, 7, 30, tzinfo=timezone(timedelta(hours=8)))
SIZE = (110, 40)


class Host(App[None]):
    """Pushes one screen and keeps what it is dismissed with."""

    def __init__(self, make: Callable[[], Screen]) -> None:
        super().__init__()
        self.make = make
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.make(), self.results.append)


@pytest.fixture(scope="session")
def pin_hash() -> str:
    return hash_pin(PIN)


@pytest.fixture
def station(config: Config, people: tuple[Person, ...], pin_hash: str) -> Station:
    config = replace(config, security=SecurityConfig(duty=(DutyStaff("D01", "赵值班", pin_hash),)))
    roster = RosterStore(config.data_dir)
    roster.replace_all(people)
    station = Station(config, EntryStore(config.data_dir), roster, FrozenClock(START))
    station.open_shift("D01", PIN)
    return station


def shown(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)


async def clear_input(pilot: Pilot) -> None:
    await pilot.press("end", "shift+home", "backspace")


# -- temperature ------------------------------------------------------------------------------------------


async def test_high_reading_twice_refers_the_person_just_scanned(station: Station) -> None:
    station.scan("2023000101")
    app = Host(lambda: TemperatureDialog(station, "zh"))
    async with app.run_test(size=SIZE) as pilot:
        assert "张*" in shown(app, "#target") and "2023****01" in shown(app, "#target")
        await type_text(pilot, "38.0")
        await pilot.press("enter")
        assert isinstance(app.screen, TemperatureDialog)
        assert "复测" in shown(app, "#message")
        await type_text(pilot, "38.2")
        await pilot.press("enter")
        assert "发热门诊" in shown(app, "#message") and "fever clinic" in shown(app, "#message")
        await pilot.press("escape")
        await pilot.pause()
    [entry] = station.store.entries_of_day("2026-11-28")
    assert entry.verdict is Verdict.REFERRED
    assert [r.celsius for r in entry.readings] == [38.0, 38.2]
    assert {r.operator for r in entry.readings} == {"D01"}
    assert Reason.FEVER_REFERRED in entry.reasons
    assert app.results[-1].entry == entry


async def test_bad_reading_is_refused_and_nothing_recorded(station: Station) -> None:
    station.scan("2023000101")
    app = Host(lambda: TemperatureDialog(station, "en"))
    async with app.run_test(size=SIZE) as pilot:
        for bad in ("3", "44.0", "36.55", "abc"):
            await type_text(pilot, bad)
            await pilot.press("enter")
            assert "34.0" in shown(app, "#message") and "nothing was recorded" in shown(app, "#message")
            await clear_input(pilot)
        await pilot.press("escape")
        await pilot.pause()
    [entry] = station.store.entries_of_day("2026-11-28")
    assert entry.readings == () and entry.revision == 0
    assert app.results == [None]


async def test_normal_reading_closes_with_the_outcome(station: Station) -> None:
    station.scan("2023000101")
    app = Host(lambda: TemperatureDialog(station, "zh"))
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "36.5")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, TemperatureDialog)
    [entry] = station.store.entries_of_day("2026-11-28")
    assert [r.celsius for r in entry.readings] == [36.5] and entry.verdict is Verdict.ADMITTED
    assert app.results[0].entry == entry


async def test_reading_before_any_scan_waits_for_the_next_person(station: Station) -> None:
    app = Host(lambda: TemperatureDialog(station, "en"))
    async with app.run_test(size=SIZE) as pilot:
        assert "next person" in shown(app, "#target")
        await type_text(pilot, "36.8")
        await pilot.press("enter")
        await pilot.pause()
    assert station.store.entries_of_day("2026-11-28") == []
    assert station.pending_reading is not None and station.pending_reading.celsius == 36.8
    entry = station.scan("2023000101").entry
    assert entry is not None and [r.celsius for r in entry.readings] == [36.8]
    assert entry.method is Method.KEYBOARD_SCAN


# -- manual entry -----------------------------------------------------------------------------------------


def options(app: App) -> list[str]:
    people = app.screen.query_one("#people", OptionList)
    return [str(people.get_option_at_index(i).prompt) for i in range(people.option_count)]


async def test_manual_entry_finds_a_partial_chinese_name_and_records_typed(station: Station) -> None:
    app = Host(lambda: ManualEntryScreen(station, "zh"))
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "娜娜")
        await pilot.pause()
        assert options(app) == ["欧**娜  2023****02  学生  海淀校园  西北楼"]
        await pilot.click("#people", offset=(4, 1))
        await pilot.pause()
        assert not isinstance(app.screen, ManualEntryScreen)
    [entry] = station.store.entries_of_day("2026-11-28")
    assert (entry.person_id, entry.name) == ("2023000102", "欧阳娜娜")
    assert (entry.method, entry.operator) == (Method.TYPED, "D01")
    assert app.results[0].entry == entry


async def test_manual_entry_by_id_prefix_with_the_keyboard_and_unmasked(station: Station) -> None:
    app = Host(lambda: ManualEntryScreen(station, "en"))
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "2023")
        await pilot.pause()
        assert len(options(app)) == 3 and all("2023****" in o for o in options(app))
        await pilot.press("ctrl+u")
        await pilot.pause()
        assert isinstance(app.screen, UnmaskDialog)
        await type_text(pilot, "1111")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, UnmaskDialog) and "Wrong PIN" in shown(app, "#message")
        await type_text(pilot, PIN)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ManualEntryScreen)
        assert options(app)[2] == "李小明  2023000103  Student  昌平校园  G区1号楼"
        await pilot.press("enter", "down", "down", "enter")
        await pilot.pause()
    [entry] = station.store.entries_of_day("2026-11-28")
    assert entry.person_id == "2023000103" and entry.method is Method.TYPED and entry.verdict is Verdict.REFERRED


async def test_manual_entry_without_a_match_records_nothing(station: Station) -> None:
    app = Host(lambda: ManualEntryScreen(station, "en"))
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "钱")
        await pilot.press("enter")
        await pilot.pause()
        assert options(app) == [] and "No one matches" in shown(app, "#status")
        await pilot.press("escape")
        await pilot.pause()
    assert station.store.entries_of_day("2026-11-28") == []
    assert app.results == [None]


# -- visitor ----------------------------------------------------------------------------------------------


async def fill_visitor_form(pilot: Pilot, values: tuple[str, ...]) -> None:
    await pilot.click("#name")
    for value in values:
        await type_text(pilot, value)
        await pilot.press("enter")
    await pilot.pause()


async def test_visitor_registered_with_the_phone_masked_on_screen(station: Station) -> None:
    app = Host(lambda: VisitorScreen(station, "zh"))
    async with app.run_test(size=SIZE) as pilot:
        await fill_visitor_form(pilot, ("Li Lei", "110101199001011234", "138 1234 5678", "王老师", "送材料"))
        summary = shown(app, "#summary")
        assert "138****5678" in summary and "13812345678" not in summary
        assert "L* L**" in summary and "1101************34" in summary
        assert app.screen.query_one("#phone", Input).password
        await pilot.click("#register")
        await pilot.pause()
        assert not isinstance(app.screen, VisitorScreen)
    [entry] = station.store.entries_of_day("2026-11-28")
    assert entry.verdict is Verdict.ADMITTED and entry.reasons == (Reason.VISITOR_REGISTERED,)
    assert entry.method is Method.VISITOR_FORM and entry.name == "Li Lei" and entry.visitor is not None
    assert (entry.visitor.phone, entry.visitor.host, entry.visitor.reason) == ("13812345678", "王老师", "送材料")
    assert app.results[0].entry == entry


async def test_incomplete_visitor_is_denied_with_the_reason(station: Station) -> None:
    app = Host(lambda: VisitorScreen(station, "en"))
    async with app.run_test(size=SIZE) as pilot:
        await fill_visitor_form(pilot, ("Li Lei", "110101199001011234", "", "", "meeting"))
        assert "Missing: Phone, Host" in shown(app, "#missing")
        await pilot.click("#register")
        await pilot.pause()
    [entry] = station.store.entries_of_day("2026-11-28")
    assert entry.verdict is Verdict.DENIED and Reason.VISITOR_INCOMPLETE in entry.reasons
    assert app.results[0].decision.verdict is Verdict.DENIED


async def test_malformed_phone_is_refused_and_the_form_kept(station: Station) -> None:
    app = Host(lambda: VisitorScreen(station, "en"))
    async with app.run_test(size=SIZE) as pilot:
        await fill_visitor_form(pilot, ("Li Lei", "110101199001011234", "12ab", "Wang", "meeting"))
        assert "7 to 15 digits" in shown(app, "#problem")
        assert not app.screen.query_one("#confirm").display
        assert app.screen.query_one("#host", Input).value == "Wang"
        await pilot.press("escape")
        await pilot.pause()
    assert station.store.entries_of_day("2026-11-28") == []
    assert app.results == [None]


# -- entry log --------------------------------------------------------------------------------------------


@pytest.fixture
def busy_day(station: Station, make_entry: Callable[..., Entry]) -> Station:
    """250 entries today: every 10th denied, every 4th leaving, 欧阳娜娜 among them."""
    for i in range(250):
        changes: dict[str, Any] = {"captured_at": f"2026-11-28T{8 + i // 60:02d}:{i % 60:02d}:00+08:00"}
        if i % 10 == 3:
            changes.update(verdict=Verdict.DENIED, reasons=(Reason.NO_RETURN_APPROVAL,))
        if i % 4 == 1:
            changes.update(direction=Direction.OUT, reasons=(Reason.LEAVING,))
        if i == 249:
            changes.update(name="欧阳娜娜")
        station.store.record(make_entry(f"2023{i:06d}", **changes))
    return station


def table_rows(app: App) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_log_pages_through_more_than_a_page(busy_day: Station) -> None:
    app = Host(lambda: EntryLogScreen(busy_day, "en"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert len(table_rows(app)) == PAGE and "Page 1 of 3, 250 entries" in shown(app, "#page")
        assert table_rows(app)[0][:3] == ["12:09:00", "2023****49", "欧**娜"]
        await pilot.press("pagedown")
        assert table_rows(app)[0][0] == "10:29:00" and len(table_rows(app)) == PAGE
        await pilot.click("#next")
        await pilot.press("pagedown")
        assert len(table_rows(app)) == 50 and "Page 3 of 3" in shown(app, "#page")
        assert table_rows(app)[-1][0] == "08:00:00"
        await pilot.press("pageup")
        assert "Page 2 of 3" in shown(app, "#page")


async def test_log_filters_by_verdict_direction_and_search(busy_day: Station) -> None:
    app = Host(lambda: EntryLogScreen(busy_day, "en"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#verdict")
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert "25 entries" in shown(app, "#page")
        assert {row[5] for row in table_rows(app)} == {"Denied"}
        await pilot.click("#direction")
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        rows = table_rows(app)
        assert rows and {(row[4], row[5]) for row in rows} == {("Out", "Denied")}
        await pilot.click("#verdict")
        await pilot.press("up", "up", "enter")
        await pilot.click("#direction")
        await pilot.press("up", "up", "enter")
        await pilot.click("#search")
        await type_text(pilot, "娜娜")
        await pilot.pause()
        assert [row[2] for row in table_rows(app)] == ["欧**娜"]
        await clear_input(pilot)
        await type_text(pilot, "00024")
        await pilot.pause()
        assert [row[0] for row in table_rows(app)] == ["12:09:00", "12:08:00", "12:07:00", "12:06:00", "12:05:00",
                                                       "12:04:00", "12:03:00", "12:02:00", "12:01:00", "12:00:00",
                                                       "08:24:00"]


async def test_log_stays_masked_until_the_right_pin(busy_day: Station) -> None:
    app = Host(lambda: EntryLogScreen(busy_day, "zh"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#unmask")
        await pilot.pause()
        await type_text(pilot, "0000")
        await pilot.press("enter")
        await pilot.pause()
        assert "PIN 不正确" in shown(app, "#message")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, EntryLogScreen)
        assert table_rows(app)[0][1:3] == ["2023****49", "欧**娜"]
        await pilot.press("ctrl+u")
        await pilot.pause()
        await type_text(pilot, PIN)
        await pilot.press("enter")
        await pilot.pause()
        assert table_rows(app)[0][1:3] == ["2023000249", "欧阳娜娜"]
        assert app.screen.query_one(DataTable).columns["name"].content_width == 8  # four wide characters


# -- stats ------------------------------------------------------------------------------------------------


async def test_stats_show_the_day_by_verdict_direction_and_hour(busy_day: Station) -> None:
    app = Host(lambda: StatsScreen(busy_day, "en"))
    async with app.run_test(size=SIZE) as pilot:
        counts = shown(app, "#counts")
        assert "Admitted 225   Denied 25   Referred 0   Total 250" in counts
        assert "Entered 174   Left 51" in counts
        chart = shown(app, "#chart").splitlines()
        assert len(chart) == 24 and chart[7].split() == ["07", "0"]
        assert chart[8] == "08 " + "█" * 60 + "    60"
        assert chart[12] == "12 " + "█" * 10 + " " * 50 + "    10"
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


# -- handover ---------------------------------------------------------------------------------------------


@pytest.fixture
def eventful_shift(station: Station) -> Station:
    """Admitted, a fever waiting for its re-measure, someone not on the roster, someone under observation."""
    station.scan("T1001")
    station.clock.advance(60)
    station.scan("2023000101")
    station.add_reading(38.1)
    station.clock.advance(60)
    station.scan("20239999")
    station.clock.advance(60)
    station.scan("2023000103")
    return station


async def test_handover_shows_the_shift_and_exports_it(eventful_shift: Station, tmp_path: Path) -> None:
    export_dir = tmp_path / "data" / "handover"
    app = Host(lambda: HandoverScreen(eventful_shift, "en", export_dir))
    async with app.run_test(size=SIZE) as pilot:
        summary = shown(app, "#summary")
        assert "赵值班 (D01), 07:30 to 07:33" in summary
        assert "Admitted 1   Denied 2   Referred 1   Total 4" in summary and "Entered 1   Left 0" in summary
        flagged = shown(app, "#flagged").splitlines()
        assert [line.split("  ")[:4] for line in flagged] == [
            ["07:31:00", "张*", "2023****01", "Denied"],
            ["07:32:00", "2023**99", "Denied", "Not on the roster: see the duty officer"],
            ["07:33:00", "李*明", "2023****03", "Referred"],
        ]
        assert "38.1  Temperature high: measure again" in flagged[0]
        assert shown(app, "#open").split("  ")[:3] == ["07:31:00", "张*", "2023****01"]
        await pilot.click("#export")
        await pilot.pause()
        [path] = export_dir.iterdir()
        assert path.name == "2026-11-28-D01-073300.csv"
        assert str(path) in shown(app, "#status")
        assert path.stat().st_mode & 0o777 == 0o600
        with path.open(encoding="utf-8-sig", newline="") as stream:
            rows = list(csv.reader(stream))
        assert len(rows) == 5
        assert {"T1001", "2023000101", "20239999", "2023000103"} <= {cell for row in rows for cell in row}
        assert isinstance(app.screen, HandoverScreen) and eventful_shift.shift is not None


async def test_handover_closes_the_shift(eventful_shift: Station, tmp_path: Path) -> None:
    app = Host(lambda: HandoverScreen(eventful_shift, "zh", tmp_path / "handover"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#close-shift")
        await pilot.pause()
        assert not isinstance(app.screen, HandoverScreen)
    assert eventful_shift.shift is None
    [handover] = app.results
    assert isinstance(handover, Handover) and len(handover.entries) == 4
    assert [a["kind"] for a in eventful_shift.store.audit_of_day("2026-11-28")][-1] == "shift_closed"
    assert not (tmp_path / "handover").exists()


async def test_handover_without_a_shift_says_so(station: Station, tmp_path: Path) -> None:
    station.close_shift()
    app = Host(lambda: HandoverScreen(station, "en", tmp_path / "handover"))
    async with app.run_test(size=SIZE) as pilot:
        assert "No open shift" in shown(app, "#summary")
        await pilot.click("#export")
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None] and not (tmp_path / "handover").exists()


# -- through the real kiosk app ---------------------------------------------------------------------------


async def test_f2_after_a_scan_logs_in_then_records_two_high_readings(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "2023000101")
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, DutyLoginDialog)
        await pilot.press(*STAFF_ID, "enter", *GATE_PIN, "enter")
        await pilot.pause()
        assert isinstance(app.screen, TemperatureDialog) and "2023****01" in shown(app, "#target")
        await pilot.press(*"38.0", "enter", *"38.2", "enter")
        assert "fever clinic" in shown(app, "#message")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TemperatureDialog)
        assert "请到隔离等候区" in screen_text(app)
    [entry] = app.station.store.entries_of_day("2026-11-28")
    assert entry.verdict is Verdict.REFERRED and [r.celsius for r in entry.readings] == [38.0, 38.2]
    assert {r.operator for r in entry.readings} == {STAFF_ID}

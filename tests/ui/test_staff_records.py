"""Pilot flows through the officer's record screens (entry log, stats, handover), each in a host app."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from staffkit import PIN, SIZE, START, TODAY, Host, clear_input, make_station, shown, type_text
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable

from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config
from kiosk.domain.models import Direction, Entry, Person, Reason, Verdict
from kiosk.station.shift import Handover
from kiosk.station.station import Station
from screens.handover import HandoverScreen
from screens.log import PAGE, EntryLogScreen
from screens.stats import StatsScreen


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def station(config: Config, people: tuple[Person, ...], clock: FrozenClock) -> Station:
    return make_station(config, people, clock)


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


async def settle(app: App, pilot: Pilot[Any]) -> None:
    """The screen's loading or export worker done, and what it handed back to the UI thread drawn."""
    await app.workers.wait_for_complete()
    await pilot.pause()


def table_rows(app: App) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_log_pages_through_more_than_a_page(busy_day: Station) -> None:
    app = Host(lambda: EntryLogScreen(busy_day, "en"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
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
        await settle(app, pilot)
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
        assert [row[0] for row in table_rows(app)] == [
            "12:09:00",
            "12:08:00",
            "12:07:00",
            "12:06:00",
            "12:05:00",
            "12:04:00",
            "12:03:00",
            "12:02:00",
            "12:01:00",
            "12:00:00",
            "08:24:00",
        ]


async def test_log_stays_masked_until_the_right_pin(busy_day: Station) -> None:
    app = Host(lambda: EntryLogScreen(busy_day, "zh"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
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
        await settle(app, pilot)
        counts = shown(app, "#counts")
        assert "Admitted 225   Denied 25   Referred 0   Total 250" in counts
        assert "Entered 174   Left 51" in counts
        morning, afternoon = shown(app, "#morning").splitlines(), shown(app, "#afternoon").splitlines()
        assert len(morning) == len(afternoon) == 12 and morning[7].split() == ["07", "0"]
        assert morning[8] == "08 " + "█" * 26 + "    60"
        assert afternoon[0] == "12 " + "████▍" + " " * 21 + "    10"  # 10/60 of 26 cells, to the eighth
        assert afternoon[11].split() == ["23", "0"]
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


# -- handover ---------------------------------------------------------------------------------------------


@pytest.fixture
def eventful_shift(station: Station, clock: FrozenClock) -> Station:
    """Admitted, a fever waiting for its re-measure, someone not on the roster, someone under observation."""
    station.scan("T1001")
    clock.advance(60)
    entry = station.scan("2023000101").entry
    assert entry is not None
    station.add_reading(38.1, entry.entry_id)
    clock.advance(60)
    station.scan("20239999")
    clock.advance(60)
    station.scan("2023000103")
    return station


async def test_handover_shows_the_shift_and_exports_it(eventful_shift: Station, tmp_path: Path) -> None:
    export_dir = tmp_path / "data" / "handover"
    app = Host(lambda: HandoverScreen(eventful_shift, "en", export_dir))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
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
        await settle(app, pilot)
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
        await settle(app, pilot)
        await pilot.click("#close-shift")
        await pilot.pause()
        assert not isinstance(app.screen, HandoverScreen)
    assert eventful_shift.shift is None
    [handover] = app.results
    assert isinstance(handover, Handover) and handover.total == 4
    assert [a["kind"] for a in eventful_shift.store.audit_of_day(TODAY)][-1] == "shift_closed"
    assert not (tmp_path / "handover").exists()


async def test_handover_without_a_shift_says_so(station: Station, tmp_path: Path) -> None:
    station.close_shift()
    app = Host(lambda: HandoverScreen(station, "en", tmp_path / "handover"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "No open shift" in shown(app, "#summary")
        await pilot.click("#export")
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None] and not (tmp_path / "handover").exists()

"""Pilot flows through the officer's input screens (temperature, manual entry, visitor), each in a host app."""

from __future__ import annotations

from dataclasses import replace

import pytest
from gatekit import PIN as GATE_PIN
from gatekit import STAFF_ID, make_app, scan, screen_text, type_as_person
from staffkit import OFFICER, PIN, SIZE, START, TODAY, Host, clear_input, make_station, shown, type_text
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList
from textual.widgets._footer import FooterKey

from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config
from kiosk.domain.models import Method, Person, Reason, Verdict
from kiosk.station.collector import QUIET_SECONDS
from kiosk.station.station import Station
from screens.duty import DutyLoginDialog
from screens.handover import HandoverScreen
from screens.manual import ManualEntryScreen
from screens.temperature import TemperatureDialog
from screens.unmask import UnmaskDialog
from screens.visitor import VisitorScreen


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def station(config: Config, people: tuple[Person, ...], clock: FrozenClock) -> Station:
    return make_station(config, people, clock)


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
    [entry] = station.store.entries_of_day(TODAY)
    assert entry.verdict is Verdict.REFERRED
    assert [r.celsius for r in entry.readings] == [38.0, 38.2]
    assert {r.operator for r in entry.readings} == {OFFICER}
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
    [entry] = station.store.entries_of_day(TODAY)
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
    [entry] = station.store.entries_of_day(TODAY)
    assert [r.celsius for r in entry.readings] == [36.5] and entry.verdict is Verdict.ADMITTED
    assert app.results[0].entry == entry


async def test_reading_before_any_scan_waits_for_the_next_person(station: Station) -> None:
    app = Host(lambda: TemperatureDialog(station, "en"))
    async with app.run_test(size=SIZE) as pilot:
        assert "next person" in shown(app, "#target")
        await type_text(pilot, "36.8")
        await pilot.press("enter")
        await pilot.pause()
    assert station.store.entries_of_day(TODAY) == []
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
    [entry] = station.store.entries_of_day(TODAY)
    assert (entry.person_id, entry.name) == ("2023000102", "欧阳娜娜")
    assert (entry.method, entry.operator) == (Method.TYPED, OFFICER)
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
    [entry] = station.store.entries_of_day(TODAY)
    assert entry.person_id == "2023000103" and entry.method is Method.TYPED and entry.verdict is Verdict.REFERRED
    assert ("pin_refused", "action=unmask") in [(r["kind"], r["detail"]) for r in station.store.audit_of_day(TODAY)]


async def test_manual_entry_without_a_match_records_nothing(station: Station) -> None:
    app = Host(lambda: ManualEntryScreen(station, "en"))
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "钱")
        await pilot.press("enter")
        await pilot.pause()
        assert options(app) == [] and "No one matches" in shown(app, "#status")
        await pilot.press("escape")
        await pilot.pause()
    assert station.store.entries_of_day(TODAY) == []
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
    [entry] = station.store.entries_of_day(TODAY)
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
    [entry] = station.store.entries_of_day(TODAY)
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
    assert station.store.entries_of_day(TODAY) == []
    assert app.results == [None]


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
        await type_as_person(pilot, *STAFF_ID, "enter", *GATE_PIN, "enter")
        assert isinstance(app.screen, TemperatureDialog) and "2023****01" in shown(app, "#target")
        await type_as_person(pilot, *"38.0", "enter", *"38.2", "enter")
        assert "fever clinic" in shown(app, "#message")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TemperatureDialog)
        assert "请到隔离等候区" in screen_text(app)
    [entry] = app.station.store.entries_of_day(TODAY)
    assert entry.verdict is Verdict.REFERRED and [r.celsius for r in entry.readings] == [38.0, 38.2]
    assert {r.operator for r in entry.readings} == {STAFF_ID}


async def test_the_kept_handover_shows_the_shift_as_of_each_opening(config: Config, people: tuple[Person, ...]) -> None:
    """F8's screen is built once and shown again: each opening counts what was recorded since, and after the shift
    is closed from it the next officer's opening starts from nothing, its buttons usable again."""
    app = make_app(replace(config, ui=replace(config.ui, verdict_seconds=0.2)), people)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f8")
        await pilot.pause()
        await type_as_person(pilot, *STAFF_ID, "enter", *GATE_PIN, "enter")
        first = app.screen
        assert isinstance(first, HandoverScreen) and "合计 0" in shown(app, "#summary")
        await pilot.press("escape")
        await pilot.pause()
        await scan(pilot, "2023000101")
        await scan(pilot, "20990000")  # not on the roster: denied
        await pilot.press("f8")
        await pilot.pause()
        assert app.screen is first, "the same screen, not built again"
        assert "拒绝 1   转诊 0   合计 2" in shown(app, "#summary") and "2099**00" in shown(app, "#flagged")
        await pilot.pause(0.4)  # the last verdict, drawn over the screen's bottom rows, has gone
        await pilot.click("#close-shift")
        await pilot.pause()
        assert app.station.shift is None
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, DutyLoginDialog)
        await type_as_person(pilot, *STAFF_ID, "enter", *GATE_PIN, "enter")
        assert app.screen is first
        assert "拒绝 0" in shown(app, "#summary") and shown(app, "#flagged") == "无"
        assert not app.screen.query_one("#close-shift", Button).disabled


async def test_the_handover_is_built_while_the_gate_is_quiet(config: Config, people: tuple[Person, ...]) -> None:
    """Not while someone may be scanning: after QUIET_SECONDS without an entry, the app's quiet-time work builds the
    kept handover screen, and F8 then shows that screen (built once, not at the officer's key press)."""
    clock = FrozenClock(START)
    app = make_app(config, people, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "2023000101")
        app._while_quiet()
        assert not app.is_screen_installed("staff-handover-zh"), "just scanned: not quiet"
        clock.advance(QUIET_SECONDS)
        app._while_quiet()
        await pilot.pause()
        built = app.get_screen("staff-handover-zh")
        assert built.is_running and built.query_one("#summary") is not None
        await pilot.press("f8")
        await pilot.pause()
        await type_as_person(pilot, *STAFF_ID, "enter", *GATE_PIN, "enter")
        assert app.screen is built and "合计 0" in shown(app, "#summary"), "the shift opened after that scan"


async def test_the_gate_footer_is_not_rebuilt_when_a_staff_screen_opens_and_closes(
    config: Config, people: tuple[Person, ...]
) -> None:
    """Textual rebuilt the footer's key widgets at every opening and closing over the gate, for the same keys; they
    stay the same widgets now, and are rebuilt when the keys' labels change (F10: tests/ui/test_gate.py)."""
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys = list(app.gate.query(FooterKey))
        assert keys, "the footer shows the gate's keys"
        await pilot.press("f8")
        await pilot.pause()
        await type_as_person(pilot, *STAFF_ID, "enter", *GATE_PIN, "enter")
        assert isinstance(app.screen, HandoverScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.gate and list(app.gate.query(FooterKey)) == keys
        await pilot.press("f10")
        await pilot.pause()
        assert list(app.gate.query(FooterKey)) != keys and "F10 中文" in screen_text(app)

"""The gate with a queue in front of it (issue 9), through Pilot: scans from a real pty reader while the duty
officer works the staff screens; every verdict seen, every reading on the entry the dialog named, nothing typed
lost. Then one test per point of the issue, each able to fail on the code before it."""

from __future__ import annotations

import os
import tty
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from gatekit import PIN, STAFF_ID, make_app, scan, screen_text, type_as_person
from textual.pilot import Pilot
from textual.widgets import Input

from kiosk.domain.config import Config, ScannerConfig, UIConfig
from kiosk.domain.models import Entry, Method, Person, Role, Verdict
from kiosk.domain.privacy import mask_id
from screens.gate import GateScreen
from screens.temperature import TemperatureDialog, parse_celsius
from screens.widgets.verdict import GLYPHS, VerdictOverlay
from storage.entries import EntryStore

SIZE = (100, 30)
TODAY = "2026-11-28"
WAIT = 10.0
"""Generous bound for a scan to travel pty → reader thread → app → screen on a loaded 2-core machine."""
QUEUE = tuple(
    Person(f"20231001{i:02d}", f"排队{chr(0x4E00 + i)}{chr(0x4E10 + i)}", Role.STUDENT, return_approved=True)
    for i in range(10, 40)
)
"""Thirty students with distinct masked IDs (2023****10 … 2023****39)."""


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    """(master fd, slave path): a pseudo-terminal standing in for the USB-serial scanner."""
    master, slave = os.openpty()
    tty.setraw(master)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def stored(config: Config) -> dict[str, Entry]:
    store = EntryStore(config.data_dir)
    try:
        return {e.person_id: e for e in store.entries_of_day(TODAY)}
    finally:
        store.close()


async def until(pilot: Pilot, test: Callable[[], bool], what: str) -> None:
    """Wait (by pausing the app, never sleeping blindly) until `test()` holds."""
    for _ in range(int(WAIT / 0.02)):
        if test():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{what} never happened; the screen:\n{screen_text(pilot.app)}")  # type: ignore[arg-type]


class Queue:
    """Serial scans of the next person in line, each checked on screen before the officer's next keys."""

    def __init__(self, pilot: Pilot, master: int) -> None:
        self.pilot = pilot
        self.master = master
        self.line = iter(QUEUE)
        self.seen: list[str] = []

    async def next(self) -> Person:
        person = next(self.line)
        os.write(self.master, person.person_id.encode() + b"\r\n")
        app = self.pilot.app
        await until(self.pilot, lambda: mask_id(person.person_id) in screen_text(app), f"{person.person_id}'s verdict")  # type: ignore[arg-type]
        self.seen.append(person.person_id)
        return person


async def test_a_queue_while_the_officer_opens_f2_f3_f4_f5_f8(config: Config, pty: tuple[int, str]) -> None:
    master, port = pty
    config = replace(config, scanner=ScannerConfig(port=port))
    app = make_app(config, QUEUE)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.gate.scanner_status == "connected" and not app.gate.roster_loading, "reader")
        queue = Queue(pilot, master)
        await queue.next()
        # F2: log in and type a reading for the student in front, while two more scan
        await pilot.press("f2")
        await type_as_person(pilot, *STAFF_ID, "enter")
        in_front = await queue.next()  # scanned during the login: the one the dialog names
        await type_as_person(pilot, *PIN, "enter")
        await until(pilot, lambda: isinstance(app.screen, TemperatureDialog), "the temperature dialog")
        dialog = app.screen
        assert isinstance(dialog, TemperatureDialog)
        named = dialog.entry_id
        await queue.next()
        await type_as_person(pilot, "3", "6")
        await queue.next()
        await type_as_person(pilot, ".", "6", "enter")
        await until(pilot, lambda: dialog.query_one("#ask").display, "the question whose reading it is")
        assert dialog.query_one("#celsius", Input).value == "36.6", "the reading typed is kept while asking"
        await pilot.click("#named")
        await until(pilot, lambda: app.screen is app.gate, "back at the gate")
        # F3: search as a person while a serial scan and a keyboard-wedge burst arrive
        await pilot.press("f3")
        await type_as_person(pilot, "2", "0")
        await queue.next()
        await type_as_person(pilot, "2", "3")
        wedged = next(queue.line)
        await scan(pilot, wedged.person_id)  # the wedge types into the focused search box, in one burst
        await until(pilot, lambda: mask_id(wedged.person_id) in screen_text(app), "the wedge scan's verdict")
        queue.seen.append(wedged.person_id)
        assert app.screen.query_one("#search", Input).value == "2023", "the officer's search, not the card number"
        await pilot.press("escape")
        # F4, F5, F8: each open while a scan arrives, the officer typing where there is a field
        await pilot.press("f4")
        await type_as_person(pilot, "L", "i")
        await queue.next()
        assert app.screen.query_one("#name", Input).value == "Li"
        await pilot.press("escape")
        await pilot.press("f5")
        await pilot.pause()
        await type_as_person(pilot, "1", "0")
        await queue.next()
        assert app.screen.query_one("#search", Input).value == "10"
        await pilot.press("escape")
        await pilot.press("f8")
        await pilot.pause()
        await queue.next()
        assert app.screen.query(VerdictOverlay), "the verdict over the handover screen"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.gate, "back at the gate")
        await queue.next()
    entries = stored(config)
    assert sorted(entries) == sorted(queue.seen), "every scan recorded once"
    with_readings = {pid: [r.celsius for r in e.readings] for pid, e in entries.items() if e.readings}
    assert with_readings == {in_front.person_id: [36.6]}
    assert entries[in_front.person_id].entry_id == named


# -- (1) a reading is bound to the entry the dialog named ------------------------------------------------------


async def open_temperature(pilot: Pilot) -> TemperatureDialog:
    await pilot.press("f2")
    await type_as_person(pilot, *STAFF_ID, "enter", *PIN, "enter")
    dialog = pilot.app.screen
    assert isinstance(dialog, TemperatureDialog)
    return dialog


async def test_a_re_measure_stays_on_the_first_person_when_the_next_scans(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "2023000101")
        dialog = await open_temperature(pilot)
        await type_as_person(pilot, *"38.5", "enter")
        assert "measure again" in str(dialog.query_one("#message").render())
        app.scans_win.admit(app.intake.typed("2023000102", dialog_method()))
        await pilot.pause()
        await type_as_person(pilot, *"38.6", "enter")
        await pilot.pause()
    entries = stored(config)
    assert [r.celsius for r in entries["2023000101"].readings] == [38.5, 38.6]
    assert entries["2023000101"].verdict is Verdict.REFERRED
    assert entries["2023000102"].readings == ()


def dialog_method() -> Method:
    """A scan read by the serial reader (posted straight to the app, as the reader thread does)."""
    return Method.SERIAL_SCAN


async def test_the_dialog_asks_and_can_record_for_the_one_now_in_front(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "2023000101")
        await open_temperature(pilot)
        app.scans_win.admit(app.intake.typed("2023000102", dialog_method()))
        await type_as_person(pilot, *"36.4", "enter")
        text = screen_text(app)
        assert "张*" in text and "欧**娜" in text and "测温处" in text
        await pilot.click("#current")
        await pilot.pause()
        assert app.screen is app.gate
    entries = stored(config)
    assert entries["2023000101"].readings == () and [r.celsius for r in entries["2023000102"].readings] == [36.4]


async def test_a_reading_before_any_scan_is_pending_and_the_gate_says_so(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await open_temperature(pilot)
        await type_as_person(pilot, *"36.7", "enter")
        await pilot.pause()
        assert app.screen is app.gate
        assert "已测体温 36.7℃,待下一位刷卡" in screen_text(app)
        await scan(pilot, "2023000101")
        assert "待下一位刷卡" not in screen_text(app)
    assert [r.celsius for r in stored(config)["2023000101"].readings] == [36.7]


# -- (2) scans always win ------------------------------------------------------------------------------------


async def test_a_denied_scan_over_the_log_shows_big_over_it_and_keeps_the_search(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await type_as_person(pilot, *STAFF_ID, "enter", *PIN, "enter")
        await type_as_person(pilot, "张")
        app.scans_win.admit(app.intake.typed("99999999", dialog_method()))
        await pilot.pause()
        assert type(app.screen).__name__ == "EntryLogScreen"
        overlay = app.screen.query_one(VerdictOverlay)
        assert overlay.has_class("-denied")
        text = screen_text(app)
        assert "禁止通行" in text and GLYPHS["denied"][0].strip() in text
        assert app.screen.query_one("#search", Input).value == "张"
        await pilot.press("escape")
        await pilot.pause()
        assert app.gate.query_one("#verdict").has_class("-denied"), "the gate shows it too once back"


# -- (3) every byte from the terminal is survived -------------------------------------------------------------


def test_the_drivers_decoder_replaces_undecodable_bytes(config: Config, people: tuple[Person, ...]) -> None:
    from textual.drivers import linux_driver

    make_app(config, people)  # the app makes the driver tolerant before it runs
    decode = linux_driver.getincrementaldecoder("utf-8")().decode
    assert decode(b"\xff\xfe\r") == "\ufffd\ufffd\r"
    assert decode(b"caf\xe9\r", final=True) == "caf\ufffd\r"


async def test_a_line_with_a_replaced_byte_is_a_rejected_scan(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "2023\ufffd101")
        assert app.gate.query_one("#verdict").has_class("-rejected")
    assert stored(config) == {}


# -- (4) a verdict has a lifetime ----------------------------------------------------------------------------


async def test_the_verdict_returns_to_the_prompt_and_a_new_scan_replaces_it(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(replace(config, ui=UIConfig(verdict_seconds=1)), people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "2023000101")
        assert "准予通行" in screen_text(app) and "张*" in app.gate.verdict_view().lines[-1]
        await scan(pilot, "99999999")
        assert "禁止通行" in screen_text(app) and "准予通行" not in app.gate.verdict_view().main
        await pilot.pause(1.4)
        assert app.gate.query_one("#verdict").has_class("-idle")
        assert "请刷卡" in screen_text(app) and "禁止通行" not in screen_text(app)


# -- (5) a repeat scan shows the earlier verdict ----------------------------------------------------------------


async def test_a_repeat_scan_of_a_referred_person_stays_orange_with_the_reason(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "2023000103")
        await scan(pilot, "2023000103")
        panel = app.gate.query_one("#verdict")
        assert panel.has_class("-referred") and not panel.has_class("-duplicate")
        text = screen_text(app)
        assert "已刷卡" in text and "医学观察期内" in text and "李*明" in text
    assert len(stored(config)) == 1


# -- (7) unknown is its own role ----------------------------------------------------------------------------------


async def test_the_log_shows_an_unknown_id_as_not_on_roster(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=(120, 30)) as pilot:
        await scan(pilot, "2099000001")
        await pilot.press("f5")
        await type_as_person(pilot, *STAFF_ID, "enter", *PIN, "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "名单外" in text and "访客" not in text.split("F2")[0].replace("F4 访客", "")
    assert stored(config)["2099000001"].role is Role.UNKNOWN


# -- (8) PIN attempts are limited -----------------------------------------------------------------------------------


async def test_wrong_exit_pins_are_slowed_down(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f12")
        await pilot.pause()
        await pilot.click("#exit")
        for _ in range(app.station.pin_guard.free + 1):
            await type_as_person(pilot, *"000000", "enter")
        assert "秒后再试" in screen_text(app)
        await type_as_person(pilot, *PIN, "enter")
        assert app.is_running, "the right PIN is not even checked during the delay"


# -- (9) full-width digits --------------------------------------------------------------------------------------------


async def test_full_width_digits_at_the_gate_are_the_person(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "２０２３０００１０１")
        assert app.gate.query_one("#verdict").has_class("-admitted")
    assert stored(config)["2023000101"].verdict is Verdict.ADMITTED


def test_full_width_digits_find_entries_in_the_log(make_entry: Callable[..., Entry]) -> None:
    from screens.log import matching

    entry = make_entry("2019003230")
    assert matching([entry], "", "", "２０１９００３２") == [entry]


@pytest.mark.parametrize(("typed", "celsius"), [("３６．５", 36.5), ("36。5", 36.5), ("３７", 37.0)])
def test_full_width_readings_are_readings(typed: str, celsius: float) -> None:
    assert parse_celsius(typed) == celsius


# -- (10) readable from two metres, by shape as well as colour ----------------------------------------------------


def test_each_verdict_has_its_own_shape() -> None:
    shapes = [GLYPHS[name] for name in ("admitted", "denied", "referred", "rejected")]
    assert len({shape for shape in shapes}) == len(shapes)
    assert all(len(shape) == 5 and max(len(row) for row in shape) >= 6 for shape in shapes)


@pytest.mark.parametrize(
    ("person_id", "glyph"), [("2023000101", "admitted"), ("99999999", "denied"), ("2023000103", "referred")]
)
async def test_the_gate_draws_the_verdicts_shape(
    config: Config, people: tuple[Person, ...], person_id: str, glyph: str
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, person_id)
        lines = [line.strip(" ▊▎▏") for line in screen_text(app).splitlines()]
        rows = [row.strip() for row in GLYPHS[glyph]]
        start = next(i for i, line in enumerate(lines) if line.strip() == rows[0])
        assert [line.strip() for line in lines[start : start + 5]] == rows


async def test_offline_is_coloured_as_a_warning(config: Config, people: tuple[Person, ...]) -> None:
    from kiosk.station.gate_status import SyncView

    app = make_app(config, people)
    async with app.run_test(size=SIZE) as pilot:
        gate = app.gate
        assert isinstance(gate, GateScreen)
        gate.sync = SyncView(False, 3, None, configured=True)
        gate.redraw()
        await pilot.pause()
        assert gate.query_one("#sync").has_class("-warning")
        gate.sync = SyncView(True, 0, None, configured=True)
        gate.redraw()
        assert not gate.query_one("#sync").has_class("-warning")


# -- masking: the full name is absent wherever a person is drawn ---------------------------------------------------


async def test_no_full_name_or_id_on_the_gate_the_log_or_the_handover(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    students = [p for p in people if p.role is Role.STUDENT]  # the staff member is also the officer named T1001
    full = [p.name for p in students] + [p.person_id for p in students]
    async with app.run_test(size=(120, 40)) as pilot:
        app.station.open_shift(STAFF_ID, PIN)
        for person in people:
            await scan(pilot, person.person_id)
            gate = screen_text(app)
            assert not [text for text in full if text in gate], "on the gate"
        for key in ("f5", "f8"):
            await pilot.press(key)
            await app.workers.wait_for_complete()
            app.scans_win.remove()  # the last verdict floats over the top rows for its lifetime
            await pilot.pause()
            shown = screen_text(app)
            assert "2023****03" in shown and "李*明" in shown, "the people are listed, masked"
            assert not [text for text in full if text in shown], key
            await pilot.press("escape")
            await pilot.pause()

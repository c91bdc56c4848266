"""Snapshots of the states the first snapshot file does not show: the gate's other states and every staff screen
and dialog (issue 16), in both languages, on a small and a large terminal. A frozen clock and fixed data make
them repeatable; the names in them are masked, and tests/ui/test_gate_queue.py asserts the full names absent.

Update them with the Textual pin (pyproject.toml): `pytest tests/ui/test_snapshots*.py --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from gatekit import PIN, STAFF_ID, make_app, scan, type_as_person
from test_gate import FullDiskStore
from textual.pilot import Pilot
from textual.widgets import Input

from kiosk.domain.config import Config, UIConfig
from kiosk.domain.models import Person

Steps = Callable[[Pilot], Awaitable[None]]
SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


async def settled(pilot: Pilot) -> None:
    """Workers done, the screen drawn, and no blinking cursor (a blink phase would make the snapshot random)."""
    await pilot.app.workers.wait_for_complete()
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def on_shift(pilot: Pilot) -> None:
    """A shift opened as the duty login does (without typing the PIN: the snapshots are of the screens)."""
    pilot.app.station.open_shift(STAFF_ID, PIN)  # type: ignore[attr-defined]
    pilot.app.gate.redraw()  # type: ignore[attr-defined]
    await settled(pilot)


async def duplicate(pilot: Pilot) -> None:
    await scan(pilot, "2023000103")
    await scan(pilot, "2023000103")


async def rejected(pilot: Pilot) -> None:
    await scan(pilot, "2023-0001!")


async def waiting(pilot: Pilot) -> None:
    app = pilot.app
    app.gate.roster_loading = app.intake.roster_loading = True  # type: ignore[attr-defined]
    app.gate.redraw()  # type: ignore[attr-defined]
    await scan(pilot, "2023000101")


async def disk_full(pilot: Pilot) -> None:
    await scan(pilot, "2023000101")


async def first_fever(pilot: Pilot) -> None:
    await on_shift(pilot)
    await scan(pilot, "2023000101")
    await pilot.press("f2")
    await type_as_person(pilot, *"38.5", "enter")
    await pilot.press("escape")
    await settled(pilot)


async def direction_out(pilot: Pilot) -> None:
    await pilot.press("f9")
    await scan(pilot, "2023000102")


GATE: dict[str, Steps] = {
    "duplicate": duplicate,
    "rejected": rejected,
    "waiting": waiting,
    "disk_full": disk_full,
    "first_fever": first_fever,
    "direction_out": direction_out,
}


@pytest.mark.parametrize(("language", "size"), [("zh", "80x24")])
@pytest.mark.parametrize("state", list(GATE))
def test_gate_state(
    snap_compare, config: Config, people: tuple[Person, ...], state: str, language: str, size: str
) -> None:
    config = replace(config, ui=UIConfig(language=language))  # type: ignore[arg-type]
    store = FullDiskStore(config.data_dir) if state == "disk_full" else None
    app = make_app(config, people, store=store)

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot)
        await GATE[state](pilot)
        await settled(pilot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


async def staff(pilot: Pilot, key: str) -> None:
    await on_shift(pilot)
    await scan(pilot, "2023000101")
    await scan(pilot, "99999999")
    await scan(pilot, "2023000103")
    await pilot.press(key)
    await settled(pilot)
    pilot.app.scans_win.remove()  # type: ignore[attr-defined]  # the screen itself, not the last verdict over it
    await settled(pilot)


async def temperature(pilot: Pilot) -> None:
    await staff(pilot, "f2")


async def manual(pilot: Pilot) -> None:
    await staff(pilot, "f3")
    await type_as_person(pilot, *"2023")
    await settled(pilot)


async def visitor(pilot: Pilot) -> None:
    await staff(pilot, "f4")


async def entry_log(pilot: Pilot) -> None:
    await staff(pilot, "f5")


async def stats(pilot: Pilot) -> None:
    await staff(pilot, "f6")


async def notices(pilot: Pilot) -> None:
    await staff(pilot, "f7")


async def handover(pilot: Pilot) -> None:
    await staff(pilot, "f8")


async def duty_login(pilot: Pilot) -> None:
    await pilot.press("f3")
    await settled(pilot)


async def duty_menu(pilot: Pilot) -> None:
    await on_shift(pilot)
    await pilot.press("f12")
    await settled(pilot)


async def exit_dialog(pilot: Pilot) -> None:
    await pilot.press("f12")
    await settled(pilot)
    await pilot.click("#exit")
    await settled(pilot)


async def unmask(pilot: Pilot) -> None:
    await staff(pilot, "f5")
    await pilot.press("ctrl+u")
    await settled(pilot)


async def verdict_over_a_screen(pilot: Pilot) -> None:
    await staff(pilot, "f5")
    await scan(pilot, "99999999")  # a wedge burst over the log: a scan, shown across its top
    await settled(pilot)


STAFF: dict[str, Steps] = {
    "temperature": temperature,
    "manual": manual,
    "visitor": visitor,
    "log": entry_log,
    "stats": stats,
    "notices": notices,
    "handover": handover,
    "duty_login": duty_login,
    "duty_menu": duty_menu,
    "exit": exit_dialog,
    "unmask": unmask,
    "verdict_over": verdict_over_a_screen,
}


@pytest.mark.parametrize(
    ("screen", "language", "size"),
    [
        *((screen, language, "80x24") for screen in STAFF for language in ("zh", "en")),
        *((screen, "en", "160x48") for screen in ("temperature", "log", "handover", "verdict_over")),
    ],
)
def test_staff_screen(
    snap_compare, config: Config, people: tuple[Person, ...], screen: str, language: str, size: str
) -> None:
    config = replace(config, ui=UIConfig(language=language))  # type: ignore[arg-type]
    app = make_app(config, people)

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot)
        await STAFF[screen](pilot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


async def test_at_80x24_the_footer_keeps_every_key_and_no_button_is_cut_off(
    config: Config, people: tuple[Person, ...]
) -> None:
    from gatekit import screen_text
    from rich.cells import cell_len
    from textual.widgets import Button

    app = make_app(config, people)
    async with app.run_test(size=SIZES["80x24"]) as pilot:
        await settled(pilot)
        footer = screen_text(app).splitlines()[-1]  # type: ignore[arg-type]
        for key in ("F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F12"):
            assert f"{key} " in footer, f"{key} missing from the footer: {footer!r}"
        for name, steps in STAFF.items():
            await steps(pilot)
            for button in app.screen.query(Button):
                region = button.region
                if region.area == 0:
                    continue  # inside a part of the form not shown yet
                shown = button.content_region.width >= cell_len(str(button.label))
                assert shown and region.right <= 80 and region.bottom <= 24, f"{name}: {button.label} cut, {region}"
            while len(app.screen_stack) > 2:
                await pilot.press("escape")
                await settled(pilot)
            app.station.close_shift() if app.station.shift else None  # type: ignore[attr-defined]

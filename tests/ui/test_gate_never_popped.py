"""A dialog dismissed twice in one instant (Escape and a button's click or Enter, both queued) pops itself once:
the second dismiss must not take the gate with it, leaving a blank screen that still records scans (found by the
fuzz test in tests/system/test_gate_queue_terminal.py)."""

from __future__ import annotations

from gatekit import PIN, STAFF_ID, make_app, scan, screen_text
from textual.widgets import Button

from kiosk.domain.config import Config
from kiosk.domain.models import Person
from kiosk.domain.privacy import mask_id
from screens.duty import DutyMenuDialog
from screens.gate import GateScreen
from screens.log import EntryLogScreen
from screens.unmask import UnmaskDialog


async def test_escape_and_a_button_at_once_close_the_duty_menu_and_keep_the_gate(
    config: Config, people: tuple[Person, ...]
) -> None:
    app = make_app(config, people)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f12")
        await pilot.pause()
        menu = app.screen
        assert isinstance(menu, DutyMenuDialog)
        menu.post_message(Button.Pressed(menu.query_one("#cancel", Button)))  # a click waits in the dialog's queue …
        menu.action_cancel()  # … when Escape, taken by the app's bindings, dismisses the dialog first
        await pilot.pause()
        assert app.screen is app.gate and isinstance(app.screen, GateScreen)
        await scan(pilot, people[0].person_id)
        assert mask_id(people[0].person_id) in screen_text(app)


async def test_a_dialog_over_a_staff_screen_dismissed_twice_closes_only_itself(
    config: Config, people: tuple[Person, ...]
) -> None:
    """The unlock dialog over the entry log: Escape twice at once closes the dialog, not the log under it."""
    app = make_app(config, people)
    async with app.run_test(size=(100, 30)) as pilot:
        app.station.open_shift(STAFF_ID, PIN)
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        log = app.screen
        assert isinstance(log, EntryLogScreen)
        log.action_unmask()
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, UnmaskDialog)
        dialog.action_cancel()
        dialog.action_cancel()
        await pilot.pause()
        assert app.screen is log

"""Duty dialogs: `DutyLoginDialog` (open a shift), `ExitDialog` (a duty PIN to leave) and `DutyMenuDialog` (F12)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from kiosk.domain.i18n import Language, t
from kiosk.station.shift import Shift
from kiosk.station.station import LoginError, PinWait, Station

_DIALOG_BINDINGS: list[BindingType] = [
    Binding("escape", "cancel", show=False),
    Binding("tab", "app.focus_next", show=False),
    Binding("shift+tab", "app.focus_previous", show=False),
]


def _both(key: str, language: Language) -> str:
    """The current language first, the other beneath."""
    other: Language = "en" if language == "zh" else "zh"
    return f"{t(key, language)}\n{t(key, other)}"


class DutyLoginDialog(ModalScreen[Shift | None], inherit_bindings=False):
    """Staff ID and PIN; dismissed with the opened shift, or None when cancelled."""

    CSS_PATH = "duty.tcss"
    BINDINGS = _DIALOG_BINDINGS

    def __init__(self, station: Station, language: Language) -> None:
        super().__init__()
        self.station = station
        self.language: Language = language

    def compose(self) -> ComposeResult:
        lang = self.language
        with Vertical(classes="dialog"):
            yield Static(_both("duty.login_title", lang), classes="title", markup=False)
            yield Input(placeholder=t("duty.staff_id", lang), id="staff-id", max_length=32)
            yield Input(placeholder=t("duty.pin", lang), id="pin", password=True, max_length=12)
            yield Static(id="error", classes="error", markup=False)
            yield Button(t("duty.login", lang), id="login", variant="primary")
            yield Button(t("duty.cancel", lang), id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "staff-id":
            self.query_one("#pin", Input).focus()
        else:
            self._log_in()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "login":
            self._log_in()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _log_in(self) -> None:
        pin = self.query_one("#pin", Input)
        try:
            shift = self.station.open_shift(self.query_one("#staff-id", Input).value, pin.value)
        except (LoginError, PinWait) as exc:  # audited by the station
            pin.value = ""
            self.query_one("#error", Static).update(str(exc))
            return
        self.dismiss(shift)


class ExitDialog(ModalScreen[bool], inherit_bindings=False):
    """A duty PIN to leave the kiosk; dismissed with True only for a right PIN."""

    CSS_PATH = "duty.tcss"
    BINDINGS = _DIALOG_BINDINGS

    def __init__(self, station: Station, language: Language) -> None:
        super().__init__()
        self.station = station
        self.language: Language = language

    def compose(self) -> ComposeResult:
        lang = self.language
        with Vertical(classes="dialog"):
            yield Static(_both("duty.exit_title", lang), classes="title", markup=False)
            yield Input(placeholder=t("duty.pin", lang), id="pin", password=True, max_length=12)
            yield Static(id="error", classes="error", markup=False)
            yield Button(t("duty.cancel", lang), id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            right = self.station.check_pin(event.value, action="exit")
        except PinWait as exc:
            event.input.value = ""
            self.query_one("#error", Static).update(str(exc))
            return
        if right:
            self.dismiss(True)
            return
        event.input.value = ""
        self.query_one("#error", Static).update(_both("duty.wrong_pin", self.language))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)


class DutyMenuDialog(ModalScreen[str | None], inherit_bindings=False):
    """F12: open or close the shift, or leave the kiosk; dismissed with "open", "close", "exit" or None."""

    CSS_PATH = "duty.tcss"
    BINDINGS = _DIALOG_BINDINGS

    def __init__(self, shift_open: bool, language: Language) -> None:
        super().__init__()
        self.shift_open = shift_open
        self.language: Language = language

    def compose(self) -> ComposeResult:
        lang = self.language
        with Vertical(classes="dialog"):
            yield Static(_both("duty.menu_title", lang), classes="title", markup=False)
            if self.shift_open:
                yield Button(t("duty.close_shift", lang), id="close", variant="warning")
            else:
                yield Button(t("duty.open_shift", lang), id="open", variant="primary")
            yield Button(t("duty.exit", lang), id="exit", variant="error")
            yield Button(t("duty.cancel", lang), id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "cancel" else event.button.id)

    def action_cancel(self) -> None:
        self.dismiss(None)

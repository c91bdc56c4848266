"""`UnmaskDialog`: a duty officer's PIN before personal data is shown in full; returns whether it was right."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from kiosk.i18n import Language, both, t
from kiosk.station import Station


class UnmaskDialog(ModalScreen[bool]):
    """Asks for any duty officer's PIN; a wrong PIN keeps the dialog open and the data masked."""

    CSS_PATH = "unmask.tcss"
    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, station: Station, language: Language) -> None:
        super().__init__()
        self.station = station
        self.language = language

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(t("unmask.title", self.language), id="title")
            yield Input(password=True, max_length=32, id="pin")
            yield Static("", id="message")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.station.check_pin(event.value, action="unmask"):
            self.dismiss(True)
            return
        event.input.clear()
        self.query_one("#message", Static).update(both("unmask.wrong"))

    def action_cancel(self) -> None:
        self.dismiss(False)

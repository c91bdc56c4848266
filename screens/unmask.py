"""`UnmaskDialog`: a duty officer's PIN before personal data is shown in full; returns whether it was right.

`UnmaskingScreen`: the base of staff screens that list people masked until that PIN.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen, ScreenResultType
from textual.widgets import Button, Input, Label, Static

from kiosk.domain.i18n import Language, both, t
from kiosk.domain.privacy import mask_id, mask_name
from kiosk.station.station import PinWait, Station


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
        try:
            right = self.station.check_pin(event.value, action="unmask")
        except PinWait as exc:
            event.input.clear()
            self.query_one("#message", Static).update(str(exc))
            return
        if right:
            self.dismiss(True)
            return
        event.input.clear()
        self.query_one("#message", Static).update(both("unmask.wrong"))

    def action_cancel(self) -> None:
        self.dismiss(False)


class UnmaskingScreen(Screen[ScreenResultType]):
    """Names and IDs masked until a duty officer's PIN (Ctrl+U or the `#unmask` button); then in full until closed.

    Subclasses set `station` and `language`, have a `#unmask` button and redraw in `show_people`.
    """

    BINDINGS = [Binding("ctrl+u", "unmask", show=False, priority=True)]
    station: Station
    language: Language
    unmasked = False

    def show(self, name: str, person_id: str) -> tuple[str, str]:
        """The name and ID as this screen may show them now."""
        if self.unmasked:
            return name, person_id
        return mask_name(name), mask_id(person_id)

    def show_people(self) -> None:
        """Redraw whatever shows names and IDs."""
        raise NotImplementedError

    def action_unmask(self) -> None:
        self.app.push_screen(UnmaskDialog(self.station, self.language), self._unmasked)

    def _unmasked(self, right: bool | None) -> None:
        if right:
            self.unmasked = True
            self.query_one("#unmask", Button).label = t("officer.unmasked", self.language)
            self.show_people()

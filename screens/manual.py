"""`ManualEntryScreen`: a forgotten card; the officer finds the person by ID or name and records a typed entry.

The list shows masked names and IDs (with role, campus and dormitory to tell people apart); a duty officer's
PIN shows them in full until the screen closes.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from kiosk.domain.i18n import Language, both, t
from kiosk.domain.models import Method, Person
from kiosk.station.station import Outcome, Station
from screens.unmask import UnmaskingScreen

LIMIT = 20
"""People listed at most: the officer types more to narrow."""


class ManualEntryScreen(UnmaskingScreen[Outcome | None]):
    """Search as you type, choose one, record with `Method.TYPED`; dismisses with the outcome (None: nothing)."""

    CSS_PATH = "manual.tcss"
    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(self, station: Station, language: Language) -> None:
        super().__init__()
        self.station = station
        self.language = language
        self.found: list[Person] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="panel"):
            yield Label(t("manual.title", self.language), id="title")
            yield Input(placeholder=t("manual.placeholder", self.language), max_length=32, id="search")
            yield OptionList(id="people")
            yield Static("", id="status")
            yield Static(t("manual.hint", self.language, operator=self.station.operator), id="hint")
            with Horizontal(id="buttons"):
                yield Button(t("officer.unmask", self.language), id="unmask")
                yield Button(t("officer.close", self.language), id="close")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.found = self.station.find_people(event.value, LIMIT + 1)
        self._show_found(bool(event.value.strip()))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        people = self.query_one("#people", OptionList)
        if self.found:
            people.highlighted = 0
            people.focus()

    def _show_found(self, searched: bool) -> None:
        people = self.query_one("#people", OptionList)
        people.clear_options()
        people.add_options(Option(self._label(p), id=p.person_id) for p in self.found[:LIMIT])
        status = ""
        if searched and not self.found:
            status = t("manual.none", self.language)
        elif len(self.found) > LIMIT:
            status = t("manual.more", self.language, count=LIMIT)
        self.query_one("#status", Static).update(status)

    def _label(self, person: Person) -> str:
        name, person_id = self.show(person.name, person.person_id)
        role = t(f"officer.role.{person.role}", self.language)
        return "  ".join(part for part in (name, person_id, role, person.campus, person.dorm) if part)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is None:
            return
        try:
            outcome = self.station.scan(event.option.id, Method.TYPED)
        except OSError as exc:
            self.query_one("#status", Static).update(both("officer.record_failed", error=exc.strerror or exc))
            return
        self.dismiss(outcome)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "unmask":
            self.action_unmask()
        else:
            self.action_close()

    def show_people(self) -> None:
        self._show_found(bool(self.query_one("#search", Input).value.strip()))

    def action_close(self) -> None:
        self.dismiss(None)

"""`TemperatureDialog`: the officer types a reading for the person the dialog names (or for the next scan).

The dialog is bound to one entry id from the moment it opens: the reading is recorded on exactly that entry,
whoever has scanned since. If the person named is no longer the one at the thermometer (someone else scanned,
or too long has passed), the dialog says so and asks whose reading it is; it never moves it silently. Once a
first reading is recorded, the re-measure goes to the same entry.
"""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from kiosk.domain.i18n import Language, both, t
from kiosk.domain.models import Entry, Reason
from kiosk.domain.privacy import mask_id, mask_name
from kiosk.domain.typed import normalise
from kiosk.station.station import EntryGone, Outcome, Station

LOWEST, HIGHEST = 34.0, 43.0
"""Readings outside this range are typing mistakes, not temperatures."""
_READING = re.compile(r"^\d{2}(\.\d)?$")


def parse_celsius(text: str) -> float | None:
    """The reading typed (34.0–43.0, at most one decimal; full-width digits too), or None when it is not one."""
    text = normalise(text)
    if not _READING.fullmatch(text):
        return None
    value = float(text)
    return value if LOWEST <= value <= HIGHEST else None


def who(entry: Entry | None, language: Language) -> str:
    """The masked name and ID of `entry`, or "the next person to scan"."""
    if entry is None:
        return t("temp.next_person", language)
    return "  ".join(part for part in (mask_name(entry.name), mask_id(entry.person_id)) if part)


class TemperatureDialog(ModalScreen[Outcome | None]):
    """One reading, or two when the first is high; dismisses with the last outcome (None: nothing recorded).

    An outcome without an entry means the reading waits for the next scan (`Station.pending_reading`).
    """

    CSS_PATH = "temperature.tcss"
    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(self, station: Station, language: Language) -> None:
        super().__init__()
        self.station = station
        self.language = language
        target = station.reading_target
        self.entry_id: str | None = target.entry_id if target else None
        """The entry this dialog records on (None: the next scan); fixed when it opens."""
        self.bound = False
        """A first reading was recorded: the re-measure goes to the same entry without asking."""
        self.outcome: Outcome | None = None
        self._asked: float | None = None
        """A reading waiting for the officer's answer to "whose reading is this?"."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(t("temp.title", self.language), id="title")
            yield Static(self._target_text(), id="target", markup=False)
            yield Input(placeholder=t("temp.placeholder", self.language), max_length=6, id="celsius")
            yield Static("", id="message", markup=False)
            with Horizontal(id="ask"):
                yield Button("", id="named", variant="primary")
                yield Button("", id="current", variant="warning")
            yield Button(t("officer.close", self.language), id="close")

    def on_mount(self) -> None:
        self.query_one("#ask").display = False

    def _named(self) -> Entry | None:
        return self.station.entry(self.entry_id) if self.entry_id else None

    def _target_text(self) -> str:
        entry = self._named()
        if self.entry_id is None:
            return t("temp.for_next", self.language)
        text = t("temp.for", self.language, who=who(entry, self.language))
        if entry is not None and entry.readings:
            readings = ", ".join(f"{r.celsius:.1f}" for r in entry.readings)
            text += "\n" + t("temp.readings", self.language, readings=readings)
        return text

    def _say(self, text: str, style: str) -> None:
        message = self.query_one("#message", Static)
        message.update(text)
        message.set_classes(style)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        celsius = parse_celsius(event.value)
        if celsius is None:
            self._say(both("temp.invalid"), "-error")
            return
        if not self.bound and not self.station.still_reading_target(self.entry_id):
            self._ask(celsius)
            return
        self._record(celsius, self.entry_id)

    def _ask(self, celsius: float) -> None:
        """The person named is no longer the one in front: the officer chooses; the typed reading is kept."""
        self._asked = celsius
        lang = self.language
        current = self.station.reading_target
        named = who(self._named(), lang) if self.entry_id else t("temp.next_person", lang)
        now = who(current, lang) if current else t("temp.nobody", lang)
        self._say(t("temp.moved_on", lang, who=named, now=now), "-warning")
        self.query_one("#named", Button).label = t("temp.record_for", lang, who=named)
        self.query_one("#current", Button).label = t("temp.record_for", lang, who=who(current, lang))
        self.query_one("#ask").display = True
        self.query_one("#named", Button).focus()

    def _record(self, celsius: float, entry_id: str | None) -> None:
        self._asked = None
        self.query_one("#ask").display = False
        try:
            outcome = self.station.add_reading(celsius, entry_id)
        except EntryGone:
            self._say(both("temp.gone"), "-error")
            return
        except OSError as exc:
            self._say(both("officer.record_failed", error=exc.strerror or exc), "-error")
            return
        field = self.query_one("#celsius", Input)
        field.clear()
        field.focus()
        self.outcome = outcome
        self.entry_id = entry_id
        self.bound = outcome.entry is not None
        self.query_one("#target", Static).update(self._target_text())
        if outcome.needs_remeasure:
            self._say(both("temp.remeasure", celsius=f"{celsius:.1f}"), "-warning")
        elif outcome.entry is not None and Reason.FEVER_REFERRED in outcome.entry.reasons:
            self._say(both("temp.referred"), "-referred")
            field.disabled = True
            self.query_one("#close", Button).focus()
        else:
            self.dismiss(outcome)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id in ("named", "current") and self._asked is not None:
            if event.button.id == "named":
                entry_id = self.entry_id
            else:
                current = self.station.reading_target
                entry_id = current.entry_id if current else None
            self._record(self._asked, entry_id)
            return
        self.action_close()

    def action_close(self) -> None:
        self.dismiss(self.outcome)

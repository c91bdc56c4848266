"""`TemperatureDialog`: the officer types a reading for the person just scanned (or for the next one)."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from kiosk.domain.i18n import Language, both, t
from kiosk.domain.models import Reason
from kiosk.domain.privacy import mask_id, mask_name
from kiosk.station.station import Outcome, Station

LOWEST, HIGHEST = 34.0, 43.0
"""Readings outside this range are typing mistakes, not temperatures."""
_READING = re.compile(r"^\d{2}(\.\d)?$")


def parse_celsius(text: str) -> float | None:
    """The reading typed (34.0–43.0, at most one decimal), or None when it is not one."""
    text = text.strip().replace("。", ".")  # a Chinese input method types the full stop
    if not _READING.match(text):
        return None
    value = float(text)
    return value if LOWEST <= value <= HIGHEST else None


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
        self.outcome: Outcome | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(t("temp.title", self.language), id="title")
            yield Static(self._target_text(), id="target")
            yield Input(placeholder=t("temp.placeholder", self.language), max_length=6, id="celsius")
            yield Static("", id="message")
            yield Button(t("officer.close", self.language), id="close")

    def _target_text(self) -> str:
        entry = self.station.reading_target
        if entry is None:
            return t("temp.for_next", self.language)
        who = "  ".join(part for part in (mask_name(entry.name), mask_id(entry.person_id)) if part)
        text = t("temp.for", self.language, who=who)
        if entry.readings:
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
        try:
            outcome = self.station.add_reading(celsius)
        except OSError as exc:
            self._say(both("officer.record_failed", error=exc.strerror or exc), "-error")
            return
        event.input.clear()
        self.outcome = outcome
        self.query_one("#target", Static).update(self._target_text())
        if outcome.needs_remeasure:
            self._say(both("temp.remeasure", celsius=f"{celsius:.1f}"), "-warning")
        elif outcome.entry is not None and Reason.FEVER_REFERRED in outcome.entry.reasons:
            self._say(both("temp.referred"), "-referred")
            event.input.disabled = True
            self.query_one("#close", Button).focus()
        else:
            self.dismiss(outcome)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        self.dismiss(self.outcome)

"""`VisitorScreen`: the visitor form (name, ID number, phone, host, reason), reviewed masked, then recorded."""

from __future__ import annotations

import re

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from kiosk.domain.i18n import Language, both, t
from kiosk.domain.privacy import mask_id, mask_name, mask_phone
from kiosk.domain.typed import normalise
from kiosk.station.station import Outcome, Station

FIELDS = ("name", "id_number", "phone", "host", "reason")
_PHONE = re.compile(r"^\+?\d{7,15}$")
_ID_NUMBER = re.compile(r"^[0-9A-Za-z]{4,20}$")


def normalise_phone(text: str) -> str:
    """The phone number without the spaces and dashes people type in it."""
    return re.sub(r"[\s-]", "", text)


def form_problems(values: dict[str, str]) -> list[str]:
    """Catalog keys of malformed (not missing) fields: these must be corrected before anything is recorded."""
    problems = []
    if values["phone"] and not _PHONE.match(values["phone"]):
        problems.append("visitor.bad_phone")
    if values["id_number"] and not _ID_NUMBER.match(values["id_number"]):
        problems.append("visitor.bad_id")
    return problems


class VisitorScreen(Screen[Outcome | None]):
    """Fill in, review (masked, with what is missing), register; dismisses with the outcome (None: nothing).

    An incomplete form can still be registered: the rules deny it and the entry says why.
    """

    CSS_PATH = "visitor.tcss"
    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(self, station: Station, language: Language) -> None:
        super().__init__()
        self.station = station
        self.language = language

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Label(both("visitor.title"), id="title")
            for field in FIELDS:
                with Horizontal(classes="field"):
                    yield Label(both(f"visitor.{field}"))
                    yield Input(id=field, max_length=20 if field in ("id_number", "phone") else 60)
            yield Static("", id="problem")
            with Horizontal(classes="buttons"):
                yield Button(t("visitor.review", self.language), id="review", variant="primary")
                yield Button(t("officer.close", self.language), id="close")
        with Vertical(id="confirm"):
            yield Static("", id="summary")
            yield Static("", id="missing")
            with Horizontal(classes="buttons"):
                yield Button(both("visitor.confirm"), id="register", variant="success")
                yield Button(both("visitor.edit"), id="edit")

    def on_mount(self) -> None:
        self.query_one("#confirm").display = False

    def values(self) -> dict[str, str]:
        values = {field: self.query_one(f"#{field}", Input).value.strip() for field in FIELDS}
        values["phone"] = normalise_phone(normalise(values["phone"]))
        values["id_number"] = normalise(values["id_number"])  # full-width digits from a Chinese input method
        return values

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "phone" and isinstance(event.widget, Input):
            event.widget.password = False

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        # Once typed, the phone number is hidden from people passing; the review shows it masked.
        if event.widget.id == "phone" and isinstance(event.widget, Input):
            event.widget.password = bool(event.widget.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == FIELDS[-1]:
            self.review()
        else:
            self.focus_next()

    def review(self) -> None:
        values = self.values()
        problems = form_problems(values)
        self.query_one("#problem", Static).update("\n".join(both(key) for key in problems))
        if problems:
            return
        rows = [
            (FIELDS[0], mask_name(values["name"])),
            (FIELDS[1], mask_id(values["id_number"])),
            (FIELDS[2], mask_phone(values["phone"])),
            (FIELDS[3], values["host"]),
            (FIELDS[4], values["reason"]),
        ]
        self.query_one("#summary", Static).update("\n".join(f"{both(f'visitor.{f}')}: {v}" for f, v in rows))
        missing = [field for field in FIELDS if not values[field]]
        self.query_one("#missing", Static).update(self._missing_text(missing) if missing else "")
        self.query_one("#form").display = False
        self.query_one("#confirm").display = True
        self.query_one("#register", Button).focus()

    def _missing_text(self, missing: list[str]) -> str:
        zh = "、".join(t(f"visitor.{field}", "zh") for field in missing)
        en = ", ".join(t(f"visitor.{field}", "en") for field in missing)
        return f"{t('visitor.missing', 'zh', fields=zh)} / {t('visitor.missing', 'en', fields=en)}"

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        match event.button.id:
            case "review":
                self.review()
            case "register":
                self.register()
            case "edit":
                self.query_one("#confirm").display = False
                self.query_one("#form").display = True
                self.query_one(f"#{FIELDS[0]}", Input).focus()
            case _:
                self.action_close()

    def register(self) -> None:
        values = self.values()
        try:
            outcome = self.station.register_visitor(**values)
        except OSError as exc:
            self.query_one("#missing", Static).update(both("officer.record_failed", error=exc.strerror or exc))
            return
        self.dismiss(outcome)

    def action_close(self) -> None:
        self.dismiss(None)

"""`EntryLogScreen`: today's entries, newest first, a page at a time, filtered and searched; masked until a PIN."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from kiosk.domain.i18n import Language, t
from kiosk.domain.models import Direction, Entry, Verdict
from kiosk.domain.typed import normalise
from kiosk.station.station import Station
from screens.unmask import UnmaskingScreen

PAGE = 100
"""Rows in the table at once: DataTable has no lazy loading."""
COLUMNS = ("time", "id", "name", "role", "direction", "verdict", "method", "temperature", "operator")


def matching(entries: list[Entry], verdict: str, direction: str, text: str) -> list[Entry]:
    """Entries with the verdict and direction chosen ("" for any) whose ID or name contains `text`."""
    needle = normalise(text).casefold()  # full-width digits typed with a Chinese input method match too
    return [
        e
        for e in entries
        if (not verdict or e.verdict == verdict)
        and (not direction or e.direction == direction)
        and (not needle or needle in e.person_id.casefold() or needle in e.name.casefold())
    ]


class EntryLogScreen(UnmaskingScreen[None]):
    """Read-only; PageUp/PageDown turn pages, Ctrl+U asks a duty PIN to show names and IDs in full."""

    CSS_PATH = "log.tcss"
    BINDINGS = [
        Binding("escape", "close", show=False),
        Binding("pageup", "page(-1)", show=False, priority=True),
        Binding("pagedown", "page(1)", show=False, priority=True),
    ]

    def __init__(self, station: Station, language: Language) -> None:
        super().__init__()
        self.station = station
        self.language = language
        self.day = station.clock.now().date().isoformat()
        self.entries: list[Entry] = []
        self.shown: list[Entry] = []
        self.page = 0

    def compose(self) -> ComposeResult:
        lang = self.language
        yield Label(t("log.title", lang, day=self.day), id="title")
        with Horizontal(id="filters"):
            yield Input(placeholder=t("log.search", lang), max_length=32, id="search")
            yield Select(
                [(t("log.all_verdicts", lang), ""), *((t(f"officer.verdict.{v}", lang), str(v)) for v in Verdict)],
                value="",
                allow_blank=False,
                id="verdict",
            )
            yield Select(
                [(t("log.all_directions", lang), ""), *((t(f"officer.dir.{d}", lang), str(d)) for d in Direction)],
                value="",
                allow_blank=False,
                id="direction",
            )
        yield DataTable(cursor_type="row", zebra_stripes=True, id="entries")
        yield Static("", id="page")  # its own line: with it the buttons did not fit 80 columns
        with Horizontal(id="pager"):
            yield Button(t("log.prev", lang), id="prev")
            yield Button(t("log.next", lang), id="next")
            yield Button(t("officer.unmask", lang), id="unmask")
            yield Button(t("officer.close", lang), id="close")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(t(f"log.col.{column}", self.language), key=column)
        self.load_entries()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load_entries(self) -> None:
        """Today's entries, read off the UI thread (a busy day is tens of thousands): scans never wait for it."""
        entries = list(reversed(self.station.store.entries_of_day(self.day)))
        self.app.call_from_thread(self._loaded, entries)

    def _loaded(self, entries: list[Entry]) -> None:
        if not self.is_attached:
            return
        self.entries = entries
        self.refilter()

    def refilter(self) -> None:
        verdict = self.query_one("#verdict", Select).value
        direction = self.query_one("#direction", Select).value
        self.shown = matching(self.entries, str(verdict), str(direction), self.query_one("#search", Input).value)
        self.page = 0
        self.show_page()

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.shown) // PAGE))

    def show_page(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for entry in self.shown[self.page * PAGE : (self.page + 1) * PAGE]:
            table.add_row(*self._row(entry), key=entry.entry_id)
        text = t("log.page", self.language, page=self.page + 1, pages=self.pages, count=len(self.shown))
        self.query_one("#page", Static).update(text)

    def _row(self, entry: Entry) -> tuple[str, ...]:
        lang = self.language
        name, person_id = self.show(entry.name, entry.person_id)
        return (
            entry.captured_at[11:19],
            person_id,
            name,
            t(f"officer.role.{entry.role}", lang),
            t(f"officer.dir.{entry.direction}", lang),
            t(f"officer.verdict.{entry.verdict}", lang),
            t(f"officer.method.{entry.method}", lang),
            " → ".join(f"{r.celsius:.1f}" for r in entry.readings),
            entry.operator,
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refilter()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.refilter()

    def action_page(self, step: int) -> None:
        page = min(max(self.page + step, 0), self.pages - 1)
        if page != self.page:
            self.page = page
            self.show_page()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        match event.button.id:
            case "prev":
                self.action_page(-1)
            case "next":
                self.action_page(1)
            case "unmask":
                self.action_unmask()
            case _:
                self.action_close()

    def show_people(self) -> None:
        self.show_page()

    def action_close(self) -> None:
        self.dismiss(None)

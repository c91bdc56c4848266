"""`HandoverScreen`: the shift's summary for the next officer; export it to a file, or close the shift."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Label, Static

from kiosk.domain.i18n import Language, both, t
from kiosk.domain.models import Entry, Verdict
from kiosk.domain.privacy import mask_id, mask_name
from kiosk.station.handover import export_handover
from kiosk.station.station import Handover, LoginError, Station

LISTED = 50
"""People listed per section at most; the export has them all."""


class HandoverScreen(Screen[Handover | None]):
    """Shows `station.handover()`; dismisses with the closed shift's handover, or None when left open."""

    CSS_PATH = "handover.tcss"
    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(self, station: Station, language: Language, export_dir: Path) -> None:
        super().__init__()
        self.station = station
        self.language = language
        self.export_dir = export_dir
        """Where exports go: `<data_dir>/handover`."""

    def compose(self) -> ComposeResult:
        lang = self.language
        yield Label(t("handover.title", lang), id="title")
        with VerticalScroll(id="body"):
            yield Static("", id="summary")
            yield Label(t("handover.flagged", lang), classes="section")
            yield Static("", id="flagged")
            yield Label(t("handover.open", lang), classes="section")
            yield Static("", id="open")
        yield Static("", id="status")
        with Horizontal(id="buttons"):
            yield Button(t("handover.export", lang), id="export", variant="primary")
            yield Button(t("handover.close_shift", lang), id="close-shift", variant="warning")
            yield Button(t("officer.close", lang), id="close")

    def on_mount(self) -> None:
        if self.station.shift is None:
            self.query_one("#summary", Static).update(both("handover.no_shift"))
            self.query_one("#export", Button).disabled = True
            self.query_one("#close-shift", Button).disabled = True
            return
        self.query_one("#summary", Static).update(t("handover.loading", self.language))
        self.load()

    @work(thread=True, exclusive=True, group="handover", exit_on_error=False)
    def load(self) -> None:
        """The shift's entries are read off the UI thread (a busy shift is tens of thousands)."""
        summary = self.station.handover()
        self.app.call_from_thread(self._loaded, summary)

    def _loaded(self, summary: Handover) -> None:
        if self.is_attached:
            self.show(summary)

    def show(self, summary: Handover) -> None:
        lang = self.language
        shift = summary.shift
        lines = [
            t(
                "handover.shift",
                lang,
                name=shift.name,
                staff=shift.staff_id,
                opened=f"{shift.opened_at:%H:%M}",
                now=f"{summary.closed_at:%H:%M}",
            ),
            "   ".join(f"{t(f'officer.verdict.{v}', lang)} {summary.counts[v]}" for v in Verdict)
            + f"   {t('stats.total', lang)} {len(summary.documents)}",
            f"{t('stats.entered', lang)} {summary.entered}   {t('stats.left', lang)} {summary.left}",
        ]
        self.query_one("#summary", Static).update("\n".join(lines))
        self.query_one("#flagged", Static).update(self._listing(summary.flagged))
        self.query_one("#open", Static).update(self._listing(summary.open_exceptions))

    def _listing(self, entries: list[Entry]) -> str:
        if not entries:
            return t("handover.none", self.language)
        lines = [self._line(e) for e in entries[:LISTED]]
        if len(entries) > LISTED:
            lines.append(f"… +{len(entries) - LISTED}")
        return "\n".join(lines)

    def _line(self, entry: Entry) -> str:
        lang = self.language
        reasons = ", ".join(t(f"reason.{r}", lang) for r in entry.reasons)
        readings = " → ".join(f"{r.celsius:.1f}" for r in entry.readings)
        parts = (
            entry.captured_at[11:19],
            mask_name(entry.name),
            mask_id(entry.person_id),
            t(f"officer.verdict.{entry.verdict}", lang),
            readings,
            reasons,
        )
        return "  ".join(p for p in parts if p)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        match event.button.id:
            case "export":
                self.export()
            case "close-shift":
                self.close_shift()
            case _:
                self.action_close()

    @work(thread=True, exclusive=True, group="handover", exit_on_error=False)
    def export(self) -> None:
        """Written off the UI thread; the summary shown is refreshed with what was written."""
        try:
            summary = self.station.handover()
            path = export_handover(summary, self.export_dir, self.language)
        except (OSError, LoginError) as exc:
            self.app.call_from_thread(self._export_failed, exc)
            return
        self.app.call_from_thread(self._exported, summary, path)

    def _export_failed(self, error: Exception) -> None:
        status = self.query_one("#status", Static)
        status.update(both("handover.export_failed", error=error))
        status.set_classes("-error")

    def _exported(self, summary: Handover, path: Path) -> None:
        self.show(summary)
        status = self.query_one("#status", Static)
        status.update(t("handover.exported", self.language, path=path))
        status.set_classes("")

    def close_shift(self) -> None:
        try:
            summary = self.station.close_shift()
        except (OSError, LoginError) as exc:
            status = self.query_one("#status", Static)
            status.update(str(exc))
            status.set_classes("-error")
            return
        self.dismiss(summary)

    def action_close(self) -> None:
        self.dismiss(None)

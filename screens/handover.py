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
from kiosk.station.shift import Handover
from kiosk.station.station import LoginError, Station

LISTED = 50
"""People listed per section at most; the export has them all."""


class HandoverScreen(Screen[Handover | None]):
    """Shows `station.handover()` (counted as the shift goes: nothing to load); dismisses with the closed shift's
    handover, or None when left open."""

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

    def on_screen_resume(self) -> None:
        """Each time the screen is shown (it may be kept and shown again): the summary as of now."""
        self._put("status", "").set_classes("")
        try:
            summary = self.station.handover()
        except LoginError:
            summary = None
            self._put("summary", both("handover.no_shift"))
            self._put("flagged", "")
            self._put("open", "")
        self.query_one("#export", Button).disabled = summary is None
        self.query_one("#close-shift", Button).disabled = summary is None
        if summary is not None:
            self.show(summary)

    def _put(self, name: str, text: str) -> Static:
        """`text` in the Static `#name`, left alone when it is shown already (its drawn lines are kept)."""
        widget = self.query_one(f"#{name}", Static)
        if str(widget.content) != text:
            widget.update(text)
        return widget

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
            + f"   {t('stats.total', lang)} {summary.total}",
            f"{t('stats.entered', lang)} {summary.entered}   {t('stats.left', lang)} {summary.left}",
        ]
        self._put("summary", "\n".join(lines))
        self._put("flagged", self._listing(summary.flagged))
        self._put("open", self._listing(summary.open_exceptions))

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

    def export(self) -> None:
        """The summary as of now is shown and its shift's entries written to a file, off the UI thread."""
        try:
            summary = self.station.handover()
        except LoginError as exc:
            self._export_failed(exc)
            return
        self.show(summary)
        self._write(summary)

    @work(thread=True, exclusive=True, group="handover", exit_on_error=False)
    def _write(self, summary: Handover) -> None:
        try:
            path = export_handover(self.station, summary, self.export_dir, self.language)
        except OSError as exc:
            self.app.call_from_thread(self._export_failed, exc)
            return
        self.app.call_from_thread(self._exported, path)

    def _export_failed(self, error: Exception) -> None:
        status = self.query_one("#status", Static)
        status.update(both("handover.export_failed", error=error))
        status.set_classes("-error")

    def _exported(self, path: Path) -> None:
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

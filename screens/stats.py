"""`StatsScreen`: today's counts by verdict and direction, and entries by hour as bars (00–11 beside 12–23)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Label, Static

from kiosk.domain.i18n import Language, t
from kiosk.domain.models import DayCounts
from kiosk.station.station import Station

BAR_WIDTH = 26
_EIGHTHS = " ▏▎▍▌▋▊▉"


def hour_bars(by_hour: tuple[int, ...], width: int = BAR_WIDTH) -> list[str]:
    """One line per hour, `HH bar count`, the longest bar `width` cells, drawn to an eighth of a cell."""
    top = max(by_hour, default=0)
    lines = []
    for hour, count in enumerate(by_hour):
        full, part = divmod(round(count * width * 8 / top) if top else 0, 8)
        bar = "█" * full + (_EIGHTHS[part] if part else "")
        lines.append(f"{hour:02d} {bar:<{width}} {count:>5}")
    return lines


class StatsScreen(Screen[None]):
    """Read-only; escape closes."""

    CSS_PATH = "stats.tcss"
    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(self, station: Station, language: Language) -> None:
        super().__init__()
        self.station = station
        self.language = language
        self.day = station.clock.now().date().isoformat()

    def compose(self) -> ComposeResult:
        yield Label(t("stats.title", self.language, day=self.day), id="title")
        yield Static(t("stats.loading", self.language), id="counts")
        yield Label(t("stats.by_hour", self.language), id="chart-title")
        with Horizontal(id="chart"):
            yield Static(id="morning")
            yield Static(id="afternoon")
        yield Button(t("officer.close", self.language), id="close")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def load(self) -> None:
        """The day's counts off the UI thread (another day than the gate's is read from its chunk files)."""
        counts = self.station.store.counts(self.day)
        self.app.call_from_thread(self._loaded, counts)

    def _loaded(self, counts: DayCounts) -> None:
        if not self.is_attached:
            return
        self.query_one("#counts", Static).update(self._counts_text(counts))
        bars = hour_bars(counts.by_hour)
        self.query_one("#morning", Static).update("\n".join(bars[:12]))
        self.query_one("#afternoon", Static).update("\n".join(bars[12:]))

    def _counts_text(self, counts: DayCounts) -> str:
        lang = self.language
        verdicts = (("admitted", counts.admitted), ("denied", counts.denied), ("referred", counts.referred))
        total = sum(n for _, n in verdicts)
        first = "   ".join(f"{t(f'officer.verdict.{v}', lang)} {n}" for v, n in verdicts)
        second = f"{t('stats.entered', lang)} {counts.entered}   {t('stats.left', lang)} {counts.left}"
        return f"{first}   {t('stats.total', lang)} {total}\n{second}"

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)

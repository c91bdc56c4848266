"""The gate screen (`GateScreen`): the verdict of the last scan, big enough to read from two metres away.

It only presents: the app tells it what happened (`show_outcome`, `show_rejected`, status setters) and it sends
what was typed at the gate up as `GateScreen.WedgeEntered`. Names and IDs are always masked.

Layout: the status lines across the top; under them the verdict, the recent entries and today's counts on the
left, and the notice code on the right over the full height, so that a phone can read a code of an 80-character
URL (45 × 23 cells with its quiet zone) from 100 × 30 up. Below 100 columns the notice column narrows and
the verdict keeps the room.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from kiosk.domain.i18n import Language, t
from kiosk.domain.models import DayCounts, Direction, Entry
from kiosk.domain.privacy import mask_id, mask_name
from kiosk.station.gate_status import SyncView
from kiosk.station.scanner import KeyboardWedge, Rejected, ScannerStatus, WedgeEvent
from kiosk.station.station import Outcome, Station
from screens.widgets.footer import KeysFooter
from screens.widgets.verdict import SYMBOLS, VerdictPanel, VerdictView, verdict_view

RECENT = 5
"""Entries listed under the verdict."""
NARROW = 100
"""Below this many columns the notice column gives way to the verdict."""


class GateScreen(Screen[None], inherit_bindings=False):
    """Station, clock, the big verdict panel, recent entries, today's counts, statuses and the notice area."""

    CSS_PATH = "gate.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "app.staff('temperature')", "key.temperature", key_display="F2"),
        Binding("f3", "app.staff('manual')", "key.manual", key_display="F3"),
        Binding("f4", "app.staff('visitor')", "key.visitor", key_display="F4"),
        Binding("f5", "app.staff('log')", "key.log", key_display="F5"),
        Binding("f6", "app.staff('stats')", "key.stats", key_display="F6"),
        Binding("f7", "app.staff('notices')", "key.notices", key_display="F7"),
        Binding("f8", "app.staff('handover')", "key.handover", key_display="F8"),
        Binding("f9", "app.toggle_direction", "key.direction", key_display="F9"),
        Binding("f10", "app.toggle_language", "key.language", key_display="F10"),
        Binding("f12", "app.duty_menu", "key.duty", key_display="F12"),
    ]

    class WedgeEntered(Message):
        """Characters typed at the gate (by a keyboard-wedge scanner or a person) ended by Enter."""

        def __init__(self, event: WedgeEvent) -> None:
            super().__init__()
            self.event = event
            """The text and whether it came as a scanner's burst."""

    def __init__(
        self,
        station: Station,
        language: Language,
        notice_area: Widget,
        scanner_status: str,
    ) -> None:
        super().__init__()
        self.station = station
        self.language: Language = language
        self.notice_area = notice_area
        self.scanner_status = scanner_status
        """"connected", "reconnecting" or "keyboard"."""
        self.sync: SyncView | None = None
        self.roster_loading = False
        """The roster is still being read: scans wait, and a small status says so."""
        self.counts = DayCounts()
        self.recent: deque[Entry] = deque(maxlen=RECENT)
        """The last entries, newest first."""
        self.banner: tuple[str, bool] | None = None
        """The warning shown across the screen, and whether it is an alarm (red)."""
        self.now = station.clock.now()
        self.verdict_seconds = station.config.ui.verdict_seconds
        """How long a verdict stays before the prompt comes back."""
        self._verdict: tuple[Outcome | Rejected | str | None, str] = (None, "")
        """What the verdict panel shows: an outcome, a rejected scan, "waiting" or None (the prompt); the ID."""
        self._verdict_timer: Timer | None = None
        self._wedge = KeyboardWedge(max_length=station.config.scanner.max_line)
        self._composed = False
        self._statics: dict[str, Static] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static(id="station", markup=False)
            yield Static(id="clock", markup=False)
        with Horizontal(id="status"):
            yield Static(id="direction", markup=False)
            yield Static(id="duty", markup=False)
        with Horizontal(id="links"):
            yield Static(id="scanner", markup=False)
            yield Static(id="roster", markup=False)
            yield Static(id="pending", markup=False)
            yield Static(id="sync", markup=False)
        yield Static(id="banner", markup=False)
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield VerdictPanel(self.verdict_view(), id="verdict", classes="-idle")
                yield Static(id="recent-title", markup=False)
                yield Static(id="recent", markup=False)
                yield Static(id="counts", markup=False)
            yield self.notice_area
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self._composed = True
        self.set_interval(1.0, self.tick)  # the screen's own timer: it stops before the widgets go
        self.redraw()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    @property
    def _drawable(self) -> bool:
        """Composed and not closing: the app may report things before the first paint or during teardown."""
        return self._composed and self.is_running

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The footer's labels in the current language (binding descriptions are catalog keys)."""
        return {
            key: active._replace(
                binding=replace(active.binding, description=t(active.binding.description, self.language))
            )
            for key, active in super().active_bindings.items()
        }

    def on_key(self, event: events.Key) -> None:
        """Whatever has focus here, characters ending in Enter are a scan (a keyboard-wedge reader types them)."""
        character = "\r" if event.key == "enter" else event.character
        if character is None or not (character == "\r" or character.isprintable()):
            return
        event.stop()
        event.prevent_default()
        typed = self._wedge.feed(character, event.time)
        if typed is not None:
            self.post_message(self.WedgeEntered(typed))

    # -- what the app tells the screen -----------------------------------------------------------------

    def show_outcome(self, outcome: Outcome, person_id: str, counts: DayCounts) -> None:
        """A scan was decided and (unless a duplicate) durably recorded: only what changed is redrawn."""
        self._set_verdict(outcome, person_id)
        if outcome.entry is not None:
            kept = [e for e in self.recent if e.entry_id != outcome.entry.entry_id]  # an amended entry moves up
            self.recent = deque([outcome.entry, *kept[: RECENT - 1]], maxlen=RECENT)
            self._draw_recent()
        if counts != self.counts:
            self.counts = counts
            self._draw_counts()
        self._draw_pending()
        if self._drawable:
            self._draw_sync()
        if self.banner and self.banner[1]:
            self.banner = None  # recording works again
            self._draw_banner()

    def show_waiting(self) -> None:
        """A scan was read while the roster loads: it is held, and decided when the roster is in."""
        self._set_verdict("waiting", "")

    def show_rejected(self, rejected: Rejected) -> None:
        self._set_verdict(rejected, "")

    @property
    def verdict_live(self) -> bool:
        """A verdict is shown and its lifetime has not ended."""
        return self._verdict_timer is not None

    def verdict_view(self) -> VerdictView:
        """What the verdict panel shows now (the app draws the same over staff screens)."""
        return verdict_view(*self._verdict, self.language)

    def _set_verdict(self, shown: Outcome | Rejected | str | None, person_id: str) -> None:
        """Show a verdict now, replacing the last one, for `verdict_seconds` (held scans wait as long as needed)."""
        self._verdict = (shown, person_id)
        if self._verdict_timer is not None:
            self._verdict_timer.stop()
            self._verdict_timer = None
        if shown is not None and shown != "waiting" and self._drawable:
            self._verdict_timer = self.set_timer(self.verdict_seconds, self._verdict_expired)
        self._draw_verdict()

    def _verdict_expired(self) -> None:
        self._verdict_timer = None
        self._verdict = (None, "")
        self._draw_verdict()

    def show_banner(self, text: str, alarm: bool = False) -> None:
        """A warning (store damage repaired, a failed task) or, with `alarm`, a red alarm; until replaced."""
        self.banner = (text, alarm)
        self.redraw()

    def show_not_recorded(self, text: str) -> None:
        """A scan could not be recorded: no verdict is shown as recorded, only the alarm."""
        self._set_verdict(None, "")
        self.show_banner(text, alarm=True)

    def set_counts(self, counts: DayCounts, recent: Iterable[Entry]) -> None:
        self.counts = counts
        self.recent = deque(list(recent)[:RECENT], maxlen=RECENT)
        self.redraw()

    def set_language(self, language: Language) -> None:
        self.language = language
        self.redraw()
        self.refresh_bindings()

    def tick(self) -> None:
        """Every second: the clock and the ages on the status lines."""
        self.now = self.station.clock.now()
        if self._drawable:
            self._put("clock", self.now.strftime("%Y-%m-%d %H:%M:%S"))
            self._draw_status()

    def redraw(self) -> None:
        """Everything (language, direction, statuses); a scan redraws only what it changed (`show_outcome`)."""
        if not self._drawable:
            return
        config = self.station.config.station
        self._put("station", f"{config.name} · {config.campus}")
        self._put("clock", self.now.strftime("%Y-%m-%d %H:%M:%S"))
        self._draw_status()
        self._draw_pending()
        self._draw_banner()
        self._draw_verdict()
        self._put("recent-title", t("gate.recent", self.language))
        self._draw_recent()
        self._draw_counts()

    # -- drawing ---------------------------------------------------------------------------------------

    def _put(self, name: str, text: str, sized: bool = False) -> Static:
        """Show `text` in the Static `#name`: nothing if it is already shown, and a layout of the screen (the
        costliest part of a frame) only when the text's size changed, which can move its neighbours. A widget
        whose width is `sized` by the stylesheet changes size only with its number of lines."""
        widget = self._statics.get(name)
        if widget is None:
            widget = self._statics[name] = self.query_one(f"#{name}", Static)
        shown = str(widget.content)
        if shown != text:
            lines = text.count("\n") != shown.count("\n")
            widget.update(text, layout=lines or (not sized and cell_len(text) != cell_len(shown)))
        return widget

    def _draw_status(self) -> None:
        if not self._drawable:
            return
        lang, station = self.language, self.station
        direction = t(f"gate.direction.{station.direction}", lang)
        self._put("direction", t("gate.direction", lang, direction=direction)).set_class(
            station.direction is Direction.OUT, "-out"
        )
        shift = station.shift
        duty = t("gate.on_duty", lang, name=mask_name(shift.name)) if shift else t("gate.no_shift", lang)
        self._put("duty", duty)
        scanner = self._put("scanner", t(f"scanner.{self.scanner_status}", lang))
        scanner.set_class(self.scanner_status == ScannerStatus.RECONNECTING, "-warning")
        roster = self._put("roster", t("gate.loading", lang) if self.roster_loading else "")
        roster.display = self.roster_loading
        self._draw_sync()

    def _draw_sync(self) -> None:
        """The sync line: offline is a warning like the others; a scan changes what waits."""
        sync = self._put("sync", self._sync_text())
        sync.set_class(self.sync is not None and self.sync.configured and not self.sync.online, "-warning")

    def _sync_text(self) -> str:
        sync, lang = self.sync, self.language
        if sync is None:
            return ""
        parts = [t("sync.online" if sync.online else "sync.offline", lang)]
        if sync.pending:
            parts.append(t("sync.waiting", lang, count=sync.pending))
            if sync.oldest_pending:
                parts.append(t("sync.oldest", lang, age=self._age(sync.oldest_pending)))
        return " · ".join(parts)

    def _age(self, since: str) -> str:
        try:
            seconds = max(0, int((self.now - datetime.fromisoformat(since)).total_seconds()))
        except (ValueError, TypeError):
            return since
        for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
            if seconds >= size:
                return t(f"gate.age.{unit}", self.language, n=seconds // size)
        return t("gate.age.seconds", self.language, n=seconds)

    def _draw_banner(self) -> None:
        if not self._drawable:
            return
        banner = self._put("banner", self.banner[0] if self.banner else "")
        banner.display = self.banner is not None
        banner.set_class(self.banner is not None and self.banner[1], "-alarm")

    def _draw_verdict(self) -> None:
        if self._drawable:
            self.query_one("#verdict", VerdictPanel).show(self.verdict_view())

    def _draw_recent(self) -> None:
        if self._drawable:
            self._put("recent", "\n".join(self._recent_line(e) for e in self.recent), sized=True)

    def _draw_counts(self) -> None:
        if not self._drawable:
            return
        counts = self.counts
        self._put(
            "counts",
            t(
                "gate.counts",
                self.language,
                entered=counts.entered,
                left=counts.left,
                denied=counts.denied,
                referred=counts.referred,
            ),
            sized=True,
        )

    def _draw_pending(self) -> None:
        """A reading taken before the scan waits for the next person: the gate says so."""
        if not self._drawable:
            return
        pending = self.station.pending_reading
        text = t("gate.pending_reading", self.language, celsius=f"{pending.celsius:.1f}") if pending else ""
        self._put("pending", text).display = pending is not None

    def _recent_line(self, entry: Entry) -> str:
        direction = t(f"gate.direction.{entry.direction}", self.language)
        return (
            f"{entry.captured_at[11:19]} {direction} {SYMBOLS[entry.verdict]} "
            f"{mask_name(entry.name)} {mask_id(entry.person_id)}"
        )

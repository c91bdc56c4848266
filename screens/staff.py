"""The staff side of the gate: staff screens by name (each module imported only when first opened: the gate does
not need them to start), and `StaffDesk`, the duty officer's flow: log in first, open a screen, the F12 menu,
closing the shift and leaving with a PIN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.screen import Screen

from kiosk.domain.i18n import Language, both
from kiosk.station.shift import Shift
from kiosk.station.station import Outcome, Station

if TYPE_CHECKING:
    from screens.notices import NoticeSource


KEPT_SCREENS = frozenset({"handover"})
"""Staff screens built once (per language) and shown again, refreshed as they resume: building a screen is most of
what opening it costs the gate's thread (compose, mount, styles), so the second opening is several times faster."""


@dataclass(frozen=True)
class ExtraKey:
    """A key the caller adds to the app, such as the demo's "stop/start the center"."""

    key: str
    """A Textual key name, e.g. "f11"."""
    label: str
    """The footer label, already bilingual (the catalog does not know it)."""
    run: Callable[[], str]
    """Called in a thread worker (it may wait for a process); returns the line to notify."""


def staff_screen(
    name: str,
    station: Station,
    language: Language,
    notices: NoticeSource,
    allowed_domains: tuple[str, ...],
    now: Callable[[], datetime],
    handover_dir: Path,
) -> Screen[Any]:
    """The staff screen `name`, built from what it needs."""
    if name == "notices":
        from screens.notices import NoticesScreen

        return NoticesScreen(notices, allowed_domains, now=now)
    if name == "handover":
        from screens.handover import HandoverScreen

        return HandoverScreen(station, language, handover_dir)
    if name == "temperature":
        from screens.temperature import TemperatureDialog

        return TemperatureDialog(station, language)
    if name == "manual":
        from screens.manual import ManualEntryScreen

        return ManualEntryScreen(station, language)
    if name == "visitor":
        from screens.visitor import VisitorScreen

        return VisitorScreen(station, language)
    if name == "log":
        from screens.log import EntryLogScreen

        return EntryLogScreen(station, language)
    if name == "stats":
        from screens.stats import StatsScreen

        return StatsScreen(station, language)
    raise ValueError(f"no staff screen named {name!r}")


class StaffDesk:
    """Opens staff screens and the duty dialogs over the gate and hands back what they recorded.

    `on_outcome` is called with an entry recorded by a staff screen (shown on the gate like a scan);
    `on_closed` whenever a screen or dialog closed without one (the shift or the notices may have changed).
    """

    def __init__(
        self,
        app: App[Any],
        station: Station,
        notices: NoticeSource,
        allowed_domains: tuple[str, ...],
        handover_dir: Path,
        on_outcome: Callable[[Outcome], None],
        on_closed: Callable[[], None],
    ) -> None:
        self.app = app
        self.station = station
        self.notices = notices
        self.allowed_domains = allowed_domains
        self.handover_dir = handover_dir
        self.on_outcome = on_outcome
        self.on_closed = on_closed
        self.language: Language = "zh"
        """The app's current language, set by the app before each use."""

    def open(self, name: str) -> None:
        """Open a staff screen; without an open shift, the duty login comes first."""
        if self.station.shift is not None:
            self.app.push_screen(self._screen(name), self._closed)
            return

        def then(shift: Shift | None) -> None:
            self._shift_opened(shift)
            if shift is not None:
                self.open(name)

        from screens.duty import DutyLoginDialog

        self.app.push_screen(DutyLoginDialog(self.station, self.language), then)

    def prepare(self) -> None:
        """Build the KEPT_SCREENS ahead of their first opening: the app calls this while the gate is quiet, so that
        no opening, the first included, pays for building one (Textual's own steps, as `push_screen` takes them:
        the screen's stylesheet loaded, then the screen started, composed and mounted without being shown)."""
        for name in sorted(KEPT_SCREENS):
            screen = self.app.get_screen(self._installed(name))
            if not screen.is_running:
                self.app._load_screen_css(screen)
                self.app._get_screen(screen)
                screen.call_after_refresh(lambda screen=screen: screen._refresh_layout(self.app.size))

    def _screen(self, name: str) -> Screen[Any] | str:
        """A new screen `name`, or the name it is installed under when it is one of the KEPT_SCREENS."""
        return self._installed(name) if name in KEPT_SCREENS else self._build(name)

    def _installed(self, name: str) -> str:
        """The name of the kept screen `name` in the current language, installed if it was not yet."""
        kept = f"staff-{name}-{self.language}"
        if not self.app.is_screen_installed(kept):
            self.app.install_screen(self._build(name), kept)
        return kept

    def _build(self, name: str) -> Screen[Any]:
        return staff_screen(
            name,
            self.station,
            self.language,
            self.notices,
            self.allowed_domains,
            self.station.clock.now,
            self.handover_dir,
        )

    def _closed(self, result: object) -> None:
        if isinstance(result, Outcome) and result.entry is not None:
            self.on_outcome(result)
        else:
            self.on_closed()

    def duty_menu(self) -> None:
        """F12: open or close the shift, or leave (with a duty PIN)."""
        from screens.duty import DutyMenuDialog

        self.app.push_screen(DutyMenuDialog(self.station.shift is not None, self.language), self._duty_chosen)

    def _duty_chosen(self, choice: str | None) -> None:
        from screens.duty import DutyLoginDialog, ExitDialog

        if choice == "open":
            self.app.push_screen(DutyLoginDialog(self.station, self.language), self._shift_opened)
        elif choice == "close" and self.station.shift is not None:
            name = self.station.shift.name
            self.station.close_shift()
            self.app.notify(both("duty.closed", name=name))
            self.on_closed()
        elif choice == "exit":
            self.app.push_screen(ExitDialog(self.station, self.language), self._exit_confirmed)

    def _shift_opened(self, shift: Shift | None) -> None:
        if shift is not None:
            self.app.notify(both("duty.opened", name=shift.name))
        self.on_closed()

    def _exit_confirmed(self, confirmed: bool | None) -> None:
        if confirmed:
            self.app.exit(0)

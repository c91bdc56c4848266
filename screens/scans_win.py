"""Scans always win over the duty officer's work. `ScansWin` takes every scan (serial, keyboard-wedge at the gate
or over a staff screen, held while the roster loads) through `ScanIntake` and shows what happened on the gate
and, when a staff screen or dialog covers it, across the foot of that screen for the verdict's lifetime. Keys
typed over a staff screen pass `BurstHold`: a wedge burst is a scan, the officer's own keys reach the form
unchanged and in order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from textual import events
from textual.app import App
from textual.timer import Timer

from kiosk.domain.models import DayCounts, Method, Verdict
from kiosk.station.intake import Decided, Held, NotRecorded, Result, ScanIntake
from kiosk.station.keyhold import BurstHold
from kiosk.station.scanner import Rejected, Scanned
from screens.gate import GateScreen
from screens.widgets.verdict import VerdictOverlay, VerdictView

PAINT_TIMEOUT = 0.2
"""Seconds after which a verdict counts as painted even if its screen never refreshed (it was closed)."""


class ScansWin:
    """The App's scan routing: decide through `intake`, draw on `gate` (set once it is mounted) and over it."""

    def __init__(
        self,
        app: App[Any],
        intake: ScanIntake,
        pass_on: Callable[[events.Key], Awaitable[None]],
        counts: Callable[[], DayCounts | None],
        recorded: Callable[[], None],
        seconds: float,
    ) -> None:
        """`pass_on` hands a key to Textual's own routing; `counts` reads today's tally (None before it is
        built); `recorded` is called after each entry (the sync line may change); `seconds`: a verdict's life."""
        self.app = app
        self.intake = intake
        self.pass_on = pass_on
        self.counts = counts
        self.recorded = recorded
        self.seconds = seconds
        self.gate: GateScreen | None = None
        self.keys: BurstHold[events.Key] = BurstHold()
        self._release_timer: Timer | None = None
        self._overlay_timer: Timer | None = None
        self._unpainted: object | None = None
        """Set (to a fresh token) by each verdict drawn, cleared once its screen has been refreshed; meanwhile the
        next verdicts wait in `_waiting`, in order."""
        self._waiting: deque[Callable[[], None]] = deque()

    # -- scans ------------------------------------------------------------------------------------------

    def typed(self, text: str, method: Method) -> None:
        """Characters ended by Enter from a keyboard-wedge scanner (or typed at the gate)."""
        result = self.intake.typed(text, method)
        if isinstance(result, Scanned):
            self.admit(result)
        else:
            self.reject(result)

    def admit(self, scanned: Scanned) -> None:
        """Decide and record durably, then show (a store failure shows an alarm and no verdict)."""
        self.show(self.intake.admit(scanned))

    def show(self, result: Result) -> None:
        """Draw what happened to a scan, once the verdict before it has reached the terminal."""
        self._in_turn(lambda: self._draw(result))

    def _in_turn(self, draw: Callable[[], None]) -> None:
        """Every verdict is painted at least once: one drawn in the same frame as the next would never be seen, so
        a draw waits (a frame at most) until the screen holding the verdict before it has been refreshed."""
        if self._unpainted is not None:
            self._waiting.append(draw)
            return
        draw()
        turn = self._unpainted = object()
        self.app.call_after_refresh(self._painted, turn)
        self.app.set_timer(PAINT_TIMEOUT, lambda: self._painted(turn))  # a screen closed before its refresh

    def _painted(self, turn: object) -> None:
        if turn is not self._unpainted:
            return
        self._unpainted = None
        if self._waiting:
            self._in_turn(self._waiting.popleft())

    def _draw(self, result: Result) -> None:
        assert self.gate is not None
        if isinstance(result, Held):
            self.gate.show_waiting()
        elif isinstance(result, NotRecorded):
            self.gate.show_not_recorded(result.alarm)
            self.app.bell()
            first, *rest = result.alarm.splitlines()
            self._over(VerdictView("-rejected", "rejected", first, tuple(rest)))
            return
        else:
            self._draw_outcome(result)
        self._over(self.gate.verdict_view())

    def show_outcome(self, decided: Decided) -> None:
        """An entry a staff screen recorded, shown like a scan's."""
        self._in_turn(lambda: self._draw_outcome(decided))

    def _draw_outcome(self, decided: Decided) -> None:
        """On the gate (a staff screen's entry too), with a bell for anything but admitted."""
        assert self.gate is not None
        self.recorded()
        self.gate.show_outcome(decided.outcome, decided.person_id, self.counts() or self.gate.counts)
        entry = decided.outcome.entry or decided.outcome.earlier
        if entry is not None and entry.verdict is not Verdict.ADMITTED:
            self.app.bell()

    def reject(self, rejected: Rejected) -> None:
        """Garbage from a scanner: audited (never the raw bytes) and shown."""
        alarm = self.intake.reject(rejected)
        self._in_turn(lambda: self._draw_rejected(rejected, alarm))

    def _draw_rejected(self, rejected: Rejected, alarm: str | None) -> None:
        assert self.gate is not None
        self.gate.show_rejected(rejected)
        self.app.bell()
        if alarm is not None:
            self.gate.show_banner(alarm, alarm=True)
        self._over(self.gate.verdict_view())

    @property
    def covered(self) -> bool:
        """A staff screen or dialog is over the gate."""
        return self.gate is not None and len(self.app.screen_stack) > 1 and self.app.screen is not self.gate

    # -- keys over a staff screen ---------------------------------------------------------------------------

    async def held_back(self, key: events.Key) -> bool:
        """Whether `key` was held (or taken as the end of a scan) rather than to be passed on now."""
        if key.key == "enter":
            text = self.keys.enter(key.time)
            if text is not None:
                self.typed(text, Method.KEYBOARD_SCAN)
                return True
        elif key.character is not None and len(key.character) == 1 and key.character.isprintable():
            for earlier in self.keys.add(key, key.character, key.time):
                await self.pass_on(earlier)
            if self._release_timer is not None:
                self._release_timer.stop()
            self._release_timer = self.app.set_timer(self.keys.max_gap * 2, self.release)
            return True
        await self.release()
        return False

    async def release(self) -> None:
        """The held keys were typed by a person: to the form, in order."""
        for key in self.keys.release():
            await self.pass_on(key)

    # -- the verdict over a staff screen -------------------------------------------------------------------

    def keep_in_view(self) -> None:
        """A staff screen just opened over a verdict still in its lifetime: the person still sees it."""
        if self.gate is not None and self.gate.verdict_live:
            self._over(self.gate.verdict_view())

    def _over(self, view: VerdictView) -> None:
        """The verdict across the foot of the open staff screen or dialog, until the verdict's lifetime ends."""
        if not self.covered:
            return
        shown = self.app.screen.query(VerdictOverlay)
        if shown:
            shown.first().show(view)
        else:
            self.app.screen.mount(VerdictOverlay(view))
        if self._overlay_timer is not None:
            self._overlay_timer.stop()
        self._overlay_timer = self.app.set_timer(self.seconds, self.remove)

    def remove(self) -> None:
        self._overlay_timer = None
        for screen in self.app.screen_stack:
            screen.query(VerdictOverlay).remove()

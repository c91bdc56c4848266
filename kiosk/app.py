"""The kiosk App: bindings, routing messages to the screens, and the workers (scanner, sync, fold, roster).

The logic is elsewhere: Station and ScanIntake (kiosk/station/), the duty officer's flow in StaffDesk and
"scans always win" in ScansWin (screens/). Locked down: no command palette, no inherited bindings (ctrl+q,
ctrl+c, ctrl+p, ctrl+z do nothing), and leaving needs a duty PIN (F12 → exit). Cold start: the gate is drawn
first; the roster, today's counters and sync start after that first paint (the scanner before it, so that no
scan is lost); a scan read while the roster loads is held, never refused for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App
from textual.worker import Worker, WorkerState, get_current_worker

from kiosk.domain.clock import Clock
from kiosk.domain.config import Config
from kiosk.domain.i18n import Language, t
from kiosk.domain.models import DayCounts, Entry
from kiosk.station.collector import COLLECT_EVERY, QUIET_SECONDS, Collector
from kiosk.station.gate_status import GateStatus, SyncView
from kiosk.station.intake import Decided, ScanIntake
from kiosk.station.scanner import ScannerStatus, SerialReader
from kiosk.station.station import Outcome, Station
from kiosk.station.sync_loop import SyncLoop
from screens.gate import GateScreen
from screens.messages import BadgeScanned, NoticesRefreshed, ScannerStatusChanged, ScanRejected, SyncStatusChanged
from screens.scans_win import ScansWin
from screens.staff import ExtraKey, StaffDesk
from screens.terminal import dismiss_only_the_top_screen, tolerate_any_input
from screens.widgets.notice_qr import NoticeQR
from storage.notices import NoticeStore

if TYPE_CHECKING:
    from kiosk.station.sync import Syncer

ReaderFactory = Callable[..., SerialReader]
"""Builds the reader from keyword callbacks on_scan, on_rejected, on_status (SerialReader.from_config's)."""

FOLD_EVERY = 30.0
"""Seconds between checks whether the journal should be folded into the chunk files."""
NOTICES_SHOWN = 5


class KioskApp(App[int], inherit_bindings=False):
    """The gate kiosk: the gate screen below, staff screens and dialogs pushed over it."""

    ENABLE_COMMAND_PALETTE = False
    BINDINGS = []
    TITLE = "Campus kiosk"

    def __init__(
        self,
        config: Config,
        station: Station,
        notices: NoticeStore,
        clock: Clock,
        reader_factory: ReaderFactory | None = None,
        syncer: Syncer | None = None,
        extra_keys: Sequence[ExtraKey] = (),
        syncer_factory: Callable[[], Syncer] | None = None,
    ) -> None:
        """`syncer_factory` builds the syncer in the sync worker (importing httpx there), when `syncer` is None."""
        super().__init__()
        tolerate_any_input()
        dismiss_only_the_top_screen()
        self.config = config
        self.station = station
        self.notices = notices
        self.clock = clock
        self.syncer = syncer
        self.syncer_factory = syncer_factory
        self.sync_configured = syncer is not None or syncer_factory is not None
        self.language: Language = config.ui.language
        if reader_factory is None and config.scanner.port:
            reader_factory = functools.partial(SerialReader.from_config, config.scanner)
        self.reader: SerialReader | None = None
        if reader_factory is not None:
            self.reader = reader_factory(
                on_scan=lambda scanned: self.post_message(BadgeScanned(scanned)),
                on_rejected=lambda rejected: self.post_message(ScanRejected(rejected)),
                on_status=lambda status, detail: self.post_message(ScannerStatusChanged(status, detail)),
            )
        self.gate: GateScreen
        self.status = GateStatus(station, notices, self.sync_configured)
        self.intake = ScanIntake(station, roster_loading=not station.roster.loaded)
        domains, handover_dir = config.notices.allowed_domains, config.data_dir / "handover"
        self.desk = StaffDesk(self, station, notices, domains, handover_dir, self._staff_recorded, self._staff_closed)
        self.scans_win = ScansWin(
            self, self.intake, super().on_event, self.status.today_counts, self._refresh_sync, config.ui.verdict_seconds
        )
        self.extra_keys = tuple(extra_keys)
        self.collector = Collector(clock.monotonic)
        for index, extra in enumerate(self.extra_keys):
            self.bind(extra.key, f"extra_key({index})", description=extra.label, key_display=extra.key.upper())

    def on_mount(self) -> None:
        scanner_status = ScannerStatus.RECONNECTING if self.reader else "keyboard"
        self.notice_area = NoticeQR(
            self.status.gate_notices(NOTICES_SHOWN),
            rotation=self.config.notices.rotation,
            clock=self.clock.monotonic,
            language=self.language,
            stale=self.status.stale(),
            id="notice-area",
        )
        self.gate = GateScreen(self.station, self.language, self.notice_area, scanner_status)
        self.gate.roster_loading = not self.station.roster.loaded
        self.scans_win.gate = self.gate
        self.push_screen(self.gate)
        # The store's own counts come after the first paint (with the roster): nothing on disk is read before it.
        status = self.syncer.status if self.syncer else None
        self.gate.sync = self.status.sync_view(status) if status else SyncView(False, 0, None, self.sync_configured)
        self._show_warnings()
        if self.reader is not None:
            self.read_scans()  # now: opening the port flushes its input, and a scan at the first paint must count
        self.call_after_refresh(self._start_workers)

    def _start_workers(self) -> None:
        """Everything that can wait for the first paint."""
        self.set_interval(FOLD_EVERY, self.fold_journal)
        self.set_interval(COLLECT_EVERY, self._while_quiet)
        if self.gate.roster_loading:
            self.load_roster()
        else:
            self.load_today()
        if self.sync_configured:
            self.push_entries()

    def _while_quiet(self) -> None:
        """The UI thread's work that would delay a scan waits for a quiet gate: the kept staff screens built, and
        the garbage collector's full collection (which also runs, late, at a gate that is never quiet)."""
        quiet_for = self.station.quiet_for()
        if quiet_for >= QUIET_SECONDS:
            self.desk.language = self.language
            self.desk.prepare()
        self.collector.collect_if_quiet(quiet_for)

    def on_unmount(self) -> None:
        if self.reader is not None:
            self.reader.stop()

    # -- workers ---------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="scanner", exit_on_error=False)
    def read_scans(self) -> None:
        """Read the serial scanner until the app ends (the reader stops within its read timeout)."""
        assert self.reader is not None
        worker = get_current_worker()
        self.reader.run(should_stop=lambda: worker.is_cancelled)

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def push_entries(self) -> None:
        """Push new entries as they are recorded; a full pass every [center] sync_interval seconds (or backoff)."""
        worker = get_current_worker()
        loop = SyncLoop(self.syncer, self.syncer_factory, self.clock.monotonic, self.station.recorded)

        def after_pass(full: bool) -> None:
            assert loop.syncer is not None
            self.syncer = loop.syncer
            self.post_message(SyncStatusChanged(loop.syncer.status))
            self.post_message(NoticesRefreshed(self.status.gate_notices(NOTICES_SHOWN), self.status.stale()))

        loop.run(lambda: worker.is_cancelled, worker.cancelled_event.wait, after_pass)

    @work(thread=True, exclusive=True, group="roster", exit_on_error=False)
    def load_roster(self) -> None:
        """Read the store's indexes and the roster after the first paint; scans wait for them."""
        self.station.store.load()
        self.station.roster.load()
        self.call_from_thread(self._roster_loaded)

    def _roster_loaded(self) -> None:
        self.collector.freeze_if_new(self.station.roster.version, covered=self.scans_win.covered)
        self.gate.roster_loading = False
        self._refresh_sync()
        self._show_warnings()
        self.gate.redraw()
        for result in self.intake.roster_loaded():
            self.scans_win.show(result)
        self.load_today()

    @work(thread=True, exclusive=True, group="fold", exit_on_error=False)
    def fold_journal(self) -> None:
        """Fold the journal into the TinyDB chunk files when it has grown (off the scan path)."""
        self.station.store.fold_if_due()

    @work(thread=True, exclusive=True, group="today", exit_on_error=False)
    def load_today(self) -> None:
        """Today's counters and last entries, read from the store once at start."""
        store, today = self.station.store, self.clock.now().date().isoformat()
        self.call_from_thread(self._today_loaded, store.counts(today), store.latest(today, 5))

    def _today_loaded(self, counts: DayCounts, recent: list[Entry]) -> None:
        self.status.counts_ready = True
        shown = [*self.gate.recent, *(e for e in recent if e.entry_id not in {r.entry_id for r in self.gate.recent})]
        self.gate.set_counts(self.status.today_counts() or counts, shown[:5])

    @work(thread=True, group="extra", exit_on_error=False)
    def run_extra_key(self, extra: ExtraKey) -> None:
        """A caller's key, off the UI thread."""
        self.call_from_thread(self.notify, extra.run())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures go: show them, and re-arm the scanner and sync."""
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        error = str(worker.error)
        self.gate.show_banner(
            f"{t('gate.worker_failed', 'zh', error=error)}\n{t('gate.worker_failed', 'en', error=error)}"
        )
        if worker.group == "scanner":
            self.gate.scanner_status = ScannerStatus.RECONNECTING
            self.gate.redraw()
            self.set_timer(1.0, self.read_scans)
        elif worker.group == "sync":
            self.set_timer(float(self.config.center.sync_interval), self.push_entries)
        elif worker.group == "roster":
            self._roster_loaded()  # an unreadable roster is an empty one: held scans are decided, not lost

    # -- scans (ScansWin decides, records and shows them) ------------------------------------------------

    def on_badge_scanned(self, message: BadgeScanned) -> None:
        self.scans_win.admit(message.scanned)

    def on_scan_rejected(self, message: ScanRejected) -> None:
        self.scans_win.reject(message.rejected)

    def on_gate_screen_wedge_entered(self, message: GateScreen.WedgeEntered) -> None:
        self.scans_win.typed(message.event.text, message.event.method)

    async def on_event(self, event: events.Event) -> None:
        """Keys typed over a staff screen or dialog go through `ScansWin` first: a wedge burst is a scan."""
        if isinstance(event, events.Key) and not event.is_forwarded and self.scans_win.covered:
            if await self.scans_win.held_back(event):
                return
        await super().on_event(event)

    # -- statuses --------------------------------------------------------------------------------------

    def on_scanner_status_changed(self, message: ScannerStatusChanged) -> None:
        self.gate.scanner_status = message.status
        self.gate.redraw()

    def on_sync_status_changed(self, message: SyncStatusChanged) -> None:
        self.station.online = message.status.online
        self.gate.sync = self.status.sync_view(message.status)
        self.gate.redraw()
        self.collector.freeze_if_new(self.station.roster.version, covered=self.scans_win.covered)  # a new roster

    def on_notices_refreshed(self, message: NoticesRefreshed) -> None:
        self.notice_area.show(message.notices, message.stale)

    def _show_warnings(self) -> None:
        if warnings := self.status.warnings():
            self.gate.show_banner("\n".join(warnings))

    def _refresh_sync(self) -> None:
        if self.syncer is None:
            self.gate.sync = self.status.sync_view(None)

    # -- actions (function keys on the gate screen) ----------------------------------------------------

    def action_toggle_direction(self) -> None:
        self.station.toggle_direction()
        self.gate.redraw()

    def action_toggle_language(self) -> None:
        self.language = "en" if self.language == "zh" else "zh"
        self.gate.set_language(self.language)
        self.notice_area.language = self.language

    def action_staff(self, name: str) -> None:
        self.desk.language = self.language
        self.desk.open(name)
        self.call_after_refresh(self.scans_win.keep_in_view)

    def action_duty_menu(self) -> None:
        self.desk.language = self.language
        self.desk.duty_menu()
        self.call_after_refresh(self.scans_win.keep_in_view)

    def _staff_recorded(self, outcome: Outcome) -> None:
        """A staff screen recorded an entry: shown like a scan."""
        assert outcome.entry is not None
        self.scans_win.show_outcome(Decided(outcome, outcome.entry.person_id))

    def _staff_closed(self) -> None:
        """Notices, the shift or a pending reading may have changed."""
        self.notice_area.show(self.status.gate_notices(NOTICES_SHOWN), self.status.stale())
        self.gate.redraw()

    def action_extra_key(self, index: int) -> None:
        self.run_extra_key(self.extra_keys[index])

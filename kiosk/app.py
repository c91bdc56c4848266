"""The kiosk App: modes, bindings, routing and the workers (scanner, sync, fold, roster). Logic is in Station.

Locked down for a public place: no command palette, no inherited bindings (ctrl+q, ctrl+c, ctrl+p, ctrl+z do
nothing), and leaving needs a duty PIN (F12 → exit).

Cold start: the gate is drawn first; the roster, today's counters and sync start after that first paint (the
scanner before it, so that no scan is lost), and staff screens, sync (httpx) and QR codes (qrcode, Pillow) are
imported when first used. A scan read while the roster loads is held and decided as soon as it is in, never
refused for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.worker import Worker, WorkerState, get_current_worker

from kiosk.domain.clock import Clock, SystemClock, iso
from kiosk.domain.config import Config
from kiosk.domain.i18n import Language, both, t
from kiosk.domain.models import DayCounts, Entry, Notice, Verdict
from kiosk.domain.notices import showable, stale_since
from kiosk.station.scanner import Rejected, Scanned, ScannerStatus, SerialReader, parse_scan
from kiosk.station.station import Outcome, Shift, Station
from kiosk.station.sync_loop import SyncLoop
from screens.gate import GateScreen, SyncView
from screens.messages import BadgeScanned, NoticesRefreshed, ScannerStatusChanged, ScanRejected, SyncStatusChanged
from screens.staff import staff_screen
from screens.widgets.notice_qr import NoticeQR
from storage.entries import EntryStore
from storage.files import StoreError, StoreFullError
from storage.notices import NoticeStore
from storage.roster import RosterStore

if TYPE_CHECKING:
    from kiosk.station.sync import Syncer, SyncStatus

ReaderFactory = Callable[..., SerialReader]
"""Builds the reader from keyword callbacks on_scan, on_rejected, on_status (SerialReader.from_config's)."""

FOLD_EVERY = 30.0
"""Seconds between checks whether the journal should be folded into the chunk files."""
NOTICES_SHOWN = 5


@dataclass(frozen=True)
class ExtraKey:
    """A key the caller adds to the app, such as the demo's "stop/start the center"."""

    key: str
    """A Textual key name, e.g. "f11"."""
    label: str
    """The footer label, already bilingual (the catalog does not know it)."""
    run: Callable[[], str]
    """Called in a thread worker (it may wait for a process); returns the line to notify."""


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
        self.config = config
        self.station = station
        self.notices = notices
        self.clock = clock
        self.syncer = syncer
        self.syncer_factory = syncer_factory
        self.sync_configured = syncer is not None or syncer_factory is not None
        self.language: Language = config.ui.language
        if reader_factory is None and config.scanner.port:
            reader_factory = _reader_from_config(config)
        self.reader: SerialReader | None = None
        if reader_factory is not None:
            self.reader = reader_factory(
                on_scan=lambda scanned: self.post_message(BadgeScanned(scanned)),
                on_rejected=lambda rejected: self.post_message(ScanRejected(rejected)),
                on_status=lambda status, detail: self.post_message(ScannerStatusChanged(status, detail)),
            )
        self.gate: GateScreen
        self._counts_ready = False
        self._held: list[Scanned] = []
        """Scans read while the roster loads, decided in order once it is in."""
        self.extra_keys = tuple(extra_keys)
        for index, extra in enumerate(self.extra_keys):
            self.bind(extra.key, f"extra_key({index})", description=extra.label, key_display=extra.key.upper())

    def on_mount(self) -> None:
        scanner_status = ScannerStatus.RECONNECTING if self.reader else "keyboard"
        self.notice_area = NoticeQR(
            self._gate_notices(), rotation=self.config.notices.rotation, clock=self.clock.monotonic,
            language=self.language, stale=self._stale(), id="notice-area",
        )
        self.gate = GateScreen(self.station, self.language, self.notice_area, scanner_status)
        self.gate.roster_loading = not self.station.roster.loaded
        self.push_screen(self.gate)
        # The store's own counts come after the first paint (with the roster): nothing on disk is read before it.
        status = self.syncer.status if self.syncer else None
        self.gate.sync = self._sync_view(status) if status else SyncView(False, 0, None, self.sync_configured)
        self._show_warnings()
        if self.reader is not None:
            self.read_scans()  # now: opening the port flushes its input, and a scan at the first paint must count
        self.call_after_refresh(self._start_workers)

    def _start_workers(self) -> None:
        """Everything that can wait for the first paint."""
        self.set_interval(FOLD_EVERY, self.fold_journal)
        if self.gate.roster_loading:
            self.load_roster()
        else:
            self.load_today()
        if self.sync_configured:
            self.push_entries()

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
        """Sync with the center every [center] sync_interval seconds (or after a backoff)."""
        worker = get_current_worker()
        loop = SyncLoop(self.syncer, self.syncer_factory, self.clock.monotonic)

        def after_pass() -> None:
            assert loop.syncer is not None
            self.syncer = loop.syncer
            self.post_message(SyncStatusChanged(loop.syncer.status))
            self.post_message(NoticesRefreshed(self._gate_notices(), self._stale()))

        loop.run(lambda: worker.is_cancelled, worker.cancelled_event.wait, after_pass)

    @work(thread=True, exclusive=True, group="roster", exit_on_error=False)
    def load_roster(self) -> None:
        """Read the store's indexes and the roster after the first paint; scans wait for them."""
        self.station.store.load()
        self.station.roster.load()
        self.call_from_thread(self._roster_loaded)

    def _roster_loaded(self) -> None:
        self.gate.roster_loading = False
        self._refresh_sync()
        self._show_warnings()
        self.gate.redraw()
        held, self._held = self._held, []
        for scanned in held:
            self.admit(scanned)
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
        self._counts_ready = True
        shown = [*self.gate.recent, *(e for e in recent if e.entry_id not in {r.entry_id for r in self.gate.recent})]
        self.gate.set_counts(self._today_counts() or counts, shown[:5])

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
        self.gate.show_banner(f"{t('gate.worker_failed', 'zh', error=error)}\n"
                              f"{t('gate.worker_failed', 'en', error=error)}")
        if worker.group == "scanner":
            self.gate.scanner_status = ScannerStatus.RECONNECTING
            self.gate.redraw()
            self.set_timer(1.0, self.read_scans)
        elif worker.group == "sync":
            self.set_timer(float(self.config.center.sync_interval), self.push_entries)
        elif worker.group == "roster":
            self._roster_loaded()  # an unreadable roster is an empty one: held scans are decided, not lost

    # -- scans -----------------------------------------------------------------------------------------

    def on_badge_scanned(self, message: BadgeScanned) -> None:
        self.admit(message.scanned)

    def on_scan_rejected(self, message: ScanRejected) -> None:
        self.reject(message.rejected)

    def on_gate_screen_wedge_entered(self, message: GateScreen.WedgeEntered) -> None:
        typed = message.event
        scanner = self.config.scanner
        result = parse_scan(typed.text.encode(), scanner.id_pattern, scanner.max_line, method=typed.method)
        if isinstance(result, Scanned):
            self.admit(result)
        else:
            self.reject(result)

    def admit(self, scanned: Scanned) -> None:
        """Decide and record durably, then show; a store failure shows an alarm and no verdict.

        While the roster loads the scan is held (and shown as waiting) until it is in.
        """
        if self.gate.roster_loading:
            self._held.append(scanned)
            self.gate.show_waiting()
            return
        try:
            outcome = self.station.scan(scanned.person_id, scanned.method)
        except StoreFullError:
            self._not_recorded(f"{both('store.full')}\n{both('gate.not_recorded')}")
            return
        except (StoreError, OSError) as exc:
            self._not_recorded(f"{both('gate.store_error', error=exc)}\n{both('gate.not_recorded')}")
            return
        self._refresh_sync()
        self.gate.show_outcome(outcome, scanned.person_id, self._today_counts() or self.gate.counts)
        if outcome.decision is not None and outcome.decision.verdict is not Verdict.ADMITTED:
            self.bell()

    def reject(self, rejected: Rejected) -> None:
        """Garbage from a scanner: shown, and audited (never the raw bytes)."""
        self.gate.show_rejected(rejected)
        self.bell()
        detail = f"{rejected.reason} method={rejected.method} len={rejected.length} {rejected.shown}"
        try:
            self.station.store.audit("scan_rejected", detail, iso(self.clock.now()))
        except (StoreError, OSError) as exc:
            self.gate.show_banner(both("gate.store_error", error=exc), alarm=True)

    def _not_recorded(self, text: str) -> None:
        self.gate.show_not_recorded(text)
        self.bell()

    # -- statuses --------------------------------------------------------------------------------------

    def on_scanner_status_changed(self, message: ScannerStatusChanged) -> None:
        self.gate.scanner_status = message.status
        self.gate.redraw()

    def on_sync_status_changed(self, message: SyncStatusChanged) -> None:
        self.station.online = message.status.online
        self.gate.sync = self._sync_view(message.status)
        self.gate.redraw()

    def on_notices_refreshed(self, message: NoticesRefreshed) -> None:
        self.notice_area.show(message.notices, message.stale)

    def _today_counts(self) -> DayCounts | None:
        """Today's counts from the store's running tally; None until `load_today` has built it off this thread."""
        if not self._counts_ready:
            return None
        return self.station.store.counts(self.clock.now().date().isoformat())

    def _gate_notices(self) -> list[Notice]:
        """The newest notices the gate may show: the allowlist is checked again as they are drawn."""
        return showable(self.notices.all(), self.config.notices.allowed_domains)[:NOTICES_SHOWN]

    def _stale(self) -> str | None:
        """Notices can only go stale when a center sends them."""
        if not self.sync_configured:
            return None
        return stale_since(self.notices.last_refresh, self.clock.now(), self.config.notices.stale_after)

    def _show_warnings(self) -> None:
        warnings = [*self.station.store.warnings, *self.station.roster.warnings, *self.notices.warnings]
        if warnings:
            self.gate.show_banner("\n".join(warnings))

    def _refresh_sync(self) -> None:
        if self.syncer is None:
            self.gate.sync = self._sync_view(None)

    def _sync_view(self, status: SyncStatus | None) -> SyncView:
        if status is not None:
            return SyncView(status.online, status.pending, status.oldest_pending, configured=True)
        store = self.station.store
        return SyncView(False, store.unsynced_count(), store.oldest_unsynced_at(), configured=self.sync_configured)

    # -- actions (function keys on the gate screen) ----------------------------------------------------

    def action_toggle_direction(self) -> None:
        self.station.toggle_direction()
        self.gate.redraw()

    def action_toggle_language(self) -> None:
        self.language = "en" if self.language == "zh" else "zh"
        self.gate.set_language(self.language)
        self.notice_area.language = self.language

    def action_staff(self, name: str) -> None:
        """Open a staff screen; without an open shift, the duty login comes first."""
        if self.station.shift is not None:
            screen = staff_screen(
                name, self.station, self.language, self.notices, self.config.notices.allowed_domains,
                self.clock.now, self.config.data_dir / "handover",
            )
            self.push_screen(screen, self._staff_done)
            return

        def then(shift: Shift | None) -> None:
            self._shift_opened(shift)
            if shift is not None:
                self.action_staff(name)

        from screens.duty import DutyLoginDialog

        self.push_screen(DutyLoginDialog(self.station, self.language), then)

    def _staff_done(self, outcome: object) -> None:
        """A staff screen closed: an outcome is shown like a scan; notices or the shift may have changed."""
        if not isinstance(outcome, Outcome) or outcome.entry is None:
            self.notice_area.show(self._gate_notices(), self._stale())
            self.gate.redraw()
            return
        self._refresh_sync()
        self.gate.show_outcome(outcome, outcome.entry.person_id, self._today_counts() or self.gate.counts)
        if outcome.entry.verdict is not Verdict.ADMITTED:
            self.bell()

    def action_extra_key(self, index: int) -> None:
        self.run_extra_key(self.extra_keys[index])

    def action_duty_menu(self) -> None:
        from screens.duty import DutyMenuDialog

        self.push_screen(DutyMenuDialog(self.station.shift is not None, self.language), self._duty_chosen)

    def _duty_chosen(self, choice: str | None) -> None:
        from screens.duty import DutyLoginDialog, ExitDialog

        if choice == "open":
            self.push_screen(DutyLoginDialog(self.station, self.language), self._shift_opened)
        elif choice == "close" and self.station.shift is not None:
            name = self.station.shift.name
            self.station.close_shift()
            self.notify(both("duty.closed", name=name))
            self.gate.redraw()
        elif choice == "exit":
            self.push_screen(ExitDialog(self.station, self.language), self._exit_confirmed)

    def _shift_opened(self, shift: Shift | None) -> None:
        if shift is not None:
            self.notify(both("duty.opened", name=shift.name))
        self.gate.redraw()

    def _exit_confirmed(self, confirmed: bool | None) -> None:
        if confirmed:
            self.exit(0)


def _reader_from_config(config: Config) -> ReaderFactory:
    def build(**callbacks: Any) -> SerialReader:
        return SerialReader.from_config(config.scanner, **callbacks)

    return build


def build_app(config: Config, clock: Clock | None = None, reader_factory: ReaderFactory | None = None) -> KioskApp:
    """Open the stores in the config's data directory, build the Station and the App (and the syncer if set)."""
    clock = clock or SystemClock()
    data_dir = config.data_dir
    store = EntryStore(data_dir, load=False)  # both loaded by the app after its first paint
    roster = RosterStore(data_dir, load=False)
    notices = NoticeStore(data_dir)
    station = Station(config, store, roster, clock)
    syncer_factory = None
    if config.center.url:

        def syncer_factory() -> Syncer:
            from kiosk.station.sync import syncer_from_config

            return syncer_from_config(config, store, roster, notices, clock=clock.now)

    return KioskApp(config, station, notices, clock, reader_factory=reader_factory, syncer_factory=syncer_factory)


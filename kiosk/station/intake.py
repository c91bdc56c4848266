"""From a read card number to what the gate shows: held while the roster loads, decided and recorded, or an
alarm when the store refuses. The App calls it from its message handlers and draws what it returns; nothing
here knows about screens, so the flow is tested without a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.domain.clock import iso
from kiosk.domain.i18n import both
from kiosk.domain.models import Method
from kiosk.domain.typed import normalise
from kiosk.station.scanner import Rejected, Scanned, parse_scan
from kiosk.station.station import Outcome, Station
from storage.files import StoreError, StoreFullError


@dataclass(frozen=True)
class Decided:
    """A scan decided and (unless a repeat) durably recorded."""

    outcome: Outcome
    person_id: str


@dataclass(frozen=True)
class NotRecorded:
    """The store refused the entry: no verdict may be shown as recorded."""

    alarm: str
    """Bilingual: what went wrong and "register by hand"."""


@dataclass(frozen=True)
class Held:
    """The roster is still loading: the scan waits and is decided as soon as it is in."""


Result = Decided | NotRecorded | Held


class ScanIntake:
    """Every scan of the gate, from the serial reader, a keyboard-wedge burst or a staff screen, goes through here."""

    def __init__(self, station: Station, roster_loading: bool) -> None:
        self.station = station
        self.roster_loading = roster_loading
        self._held: list[Scanned] = []

    def typed(self, text: str, method: Method) -> Scanned | Rejected:
        """Characters from a keyboard-wedge scanner or a person, full-width digits folded, checked like a line."""
        scanner = self.station.config.scanner
        return parse_scan(normalise(text).encode(), scanner.id_pattern, scanner.max_line, method=method)

    def admit(self, scanned: Scanned) -> Result:
        """Decide and record durably; held while the roster loads."""
        if self.roster_loading:
            self._held.append(scanned)
            return Held()
        try:
            outcome = self.station.scan(scanned.person_id, scanned.method)
        except StoreFullError:
            return NotRecorded(f"{both('store.full')}\n{both('gate.not_recorded')}")
        except (StoreError, OSError) as exc:
            return NotRecorded(f"{both('gate.store_error', error=exc)}\n{both('gate.not_recorded')}")
        return Decided(outcome, scanned.person_id)

    def roster_loaded(self) -> list[Result]:
        """The roster is in: the held scans decided in the order they were read."""
        self.roster_loading = False
        held, self._held = self._held, []
        return [self.admit(scanned) for scanned in held]

    def reject(self, rejected: Rejected) -> str | None:
        """Garbage from a scanner is audited (never the raw bytes); returns an alarm when even that fails."""
        detail = f"{rejected.reason} method={rejected.method} len={rejected.length} {rejected.shown}"
        try:
            self.station.store.audit("scan_rejected", detail, iso(self.station.clock.now()))
        except (StoreError, OSError) as exc:
            return both("gate.store_error", error=exc)
        return None

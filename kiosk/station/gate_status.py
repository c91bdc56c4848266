"""What the gate's status lines say, read from the station's stores: sync, stale notices, warnings, counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.domain.models import DayCounts, Notice
from kiosk.domain.notices import showable, stale_since
from kiosk.station.station import Station
from storage.notices import NoticeStore

if TYPE_CHECKING:
    from kiosk.station.sync import SyncStatus


@dataclass(frozen=True)
class SyncView:
    """What the sync line shows."""

    online: bool
    pending: int
    """Entries waiting for the center."""
    oldest_pending: str | None
    """Capture time (ISO) of the oldest waiting entry."""
    configured: bool
    """Whether a center is configured at all."""


class GateStatus:
    """Reads the statuses; `counts_ready` once today's tally has been built off the UI thread."""

    def __init__(self, station: Station, notices: NoticeStore, sync_configured: bool) -> None:
        self.station = station
        self.notices = notices
        self.sync_configured = sync_configured
        self.counts_ready = False

    def today_counts(self) -> DayCounts | None:
        """Today's counts from the store's running tally; None until it has been built."""
        if not self.counts_ready:
            return None
        return self.station.store.counts(self.station.clock.now().date().isoformat())

    def stale(self) -> str | None:
        """The "notices may be out of date" warning; notices can only go stale when a center sends them."""
        if not self.sync_configured:
            return None
        stale_after = self.station.config.notices.stale_after
        return stale_since(self.notices.last_refresh, self.station.clock.now(), stale_after)

    def gate_notices(self, count: int) -> list[Notice]:
        """The newest notices the gate may show: the station's allowlist is checked again as they are drawn."""
        return showable(self.notices.all(), self.station.config.notices.allowed_domains)[:count]

    def warnings(self) -> list[str]:
        """Damage repaired or files refused by the stores, for the gate's banner."""
        return [*self.station.store.warnings, *self.station.roster.warnings, *self.notices.warnings]

    def sync_view(self, status: SyncStatus | None) -> SyncView:
        """From the syncer's last status, or (before the first pass) from the store."""
        if status is not None:
            return SyncView(status.online, status.pending, status.oldest_pending, configured=True)
        store = self.station.store
        return SyncView(False, store.unsynced_count(), store.oldest_unsynced_at(), configured=self.sync_configured)

"""What the center knows about each station besides its entries: its heartbeat."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from kiosk.center.db import Database, stations, utc_now


def heartbeat(
    db: Database,
    station_id: str,
    clock: datetime,
    pending: int,
    oldest: datetime | None,
    version: str,
    refused_notices: Sequence[str] = (),
) -> datetime:
    """Record that the station is alive, how much it still has to send, how far its clock is from the center's,
    and which notices it refuses to show;
    returns the center's time (naive UTC)."""
    now = utc_now()
    offset = (clock - now.replace(tzinfo=UTC)).total_seconds()
    with db.write() as conn:
        conn.execute(
            stations.update()
            .where(stations.c.station_id == station_id)
            .values(
                last_heartbeat=now,
                station_clock=clock.isoformat(),
                pending_reported=pending,
                oldest_pending=oldest.isoformat() if oldest is not None else None,
                app_version=version,
                clock_offset=offset,
                refused_notices=json.dumps(list(refused_notices)),
            )
        )
    return now

"""What the center knows about each station besides its entries: its heartbeat."""

from __future__ import annotations

from datetime import UTC, datetime

from kiosk.center.db import Database, stations, utc_now


def heartbeat(
    db: Database, station_id: str, clock: datetime, pending: int, oldest: datetime | None, version: str
) -> datetime:
    """Record that the station is alive, how much it still has to send and how far its clock is from the center's;
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
            )
        )
    return now

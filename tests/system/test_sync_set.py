"""The set test (after Jepsen's): stations record entries while the network and the center fail in every way
we know; afterwards the center holds exactly the stations' entries, each once, at its newest revision.

Faults: the proxy drops, delays past the timeout, answers 500 after the center committed, truncates,
garbles and reorders replies; the center process is killed with SIGKILL in the middle of pushes and
restarted. Each station is a separate data directory with its own EntryStore, as on separate machines.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from faultproxy import FaultProxy, Mode
from servers import Center
from sqlalchemy import select
from syncstations import SyncStation

from kiosk.center.db import Database, entries

pytestmark = pytest.mark.slow

SCHEDULE = (
    Mode.PASS,
    Mode.DROP,
    Mode.ERROR_AFTER,
    Mode.TRUNCATE,
    Mode.DELAY,
    Mode.GARBLE,
    Mode.MISMATCH,
    Mode.ERROR_AFTER,
    Mode.PASS,
    Mode.TRUNCATE,
)
KILL_IN_ROUNDS = {2, 7}
"""Rounds in which the center is killed (-9) while the stations push, then restarted."""
STATIONS = 3
PER_ROUND = 24


def test_every_entry_reaches_the_center_exactly_once(center: Center, tmp_path: Path) -> None:
    proxy = FaultProxy(center.port, delay=1.0).start()
    stations = [
        SyncStation(
            f"set-{n}", tmp_path / "stations", proxy.url, center.add_station(f"set-{n}"), timeout=0.5, batch_size=10
        )
        for n in range(STATIONS)
    ]
    try:
        for round_number, mode in enumerate(SCHEDULE):
            proxy.mode = mode
            for station in stations:
                station.record(PER_ROUND)
                station.amend_some(3)
            killer = None
            if round_number in KILL_IN_ROUNDS:
                killer = threading.Timer(0.15, center.kill)
                killer.start()
            _sync_all(stations)
            if killer is not None:
                killer.join()
                center.start()
        proxy.mode = Mode.PASS
        for station in stations:
            report = station.syncer.sync_once()
            assert report.complete, report.summary()
        assert all(proxy.handled[mode] for mode in SCHEDULE), proxy.handled
        expected = set().union(*(station.versions() for station in stations))
        assert len(expected) == STATIONS * PER_ROUND * len(SCHEDULE)
        assert _center_versions(center.db_url) == expected
        for station in stations:
            assert station.store.unsynced_count() == 0
            assert all(entry.acked_at for entry in station.all_entries())
        _assert_complete_without_gaps(center, stations)
    finally:
        for station in stations:
            station.close()
        proxy.stop()


def _sync_all(stations: list[SyncStation]) -> None:
    """One pass per station, all at once, as separate machines would."""
    threads = [threading.Thread(target=station.syncer.sync_once) for station in stations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


def _center_versions(db_url: str) -> set[tuple[str, int]]:
    """What the center committed, read from its database."""
    db = Database(db_url)
    try:
        with db.read() as conn:
            rows = conn.execute(select(entries.c.entry_id, entries.c.revision)).all()
    finally:
        db.close()
    assert len(rows) == len({row[0] for row in rows})
    return {(row[0], row[1]) for row in rows}


def _assert_complete_without_gaps(center: Center, stations: list[SyncStation]) -> None:
    reply = httpx.get(
        f"{center.url}/api/v1/admin/completeness",
        headers=center.admin,
        timeout=10,
    )
    reply.raise_for_status()
    by_id = {s["station_id"]: s for s in reply.json()["stations"]}
    for station in stations:
        seen = by_id[station.station_id]
        assert seen["received"] == seen["max_seq"] == len(station.recorded)
        assert seen["gaps"] == []

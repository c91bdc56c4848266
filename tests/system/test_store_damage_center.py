"""A damaged chunk file against a real center on loopback: acknowledged entries come back from the center, and
the unacknowledged ones it never had show in its completeness report as lost at the station."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from servers import Center
from syncstations import SyncStation, yesterday_noon

pytestmark = pytest.mark.slow


def damage_lines(chunk: Path, seqs: set[int]) -> None:
    """Flip one byte inside the document of each of these sequence numbers."""
    lines = chunk.read_bytes().split(b"\n")
    for i, line in enumerate(lines):
        body = json.loads(line[9:]) if line else {}
        if body.get("seq") in seqs:
            at = line.index(b'"person_id"') + 15
            lines[i] = line[:at] + bytes([line[at] ^ 0x01]) + line[at + 1 :]
    chunk.write_bytes(b"\n".join(lines))


def test_damaged_entries_come_back_or_are_reported_lost(center: Center, tmp_path: Path) -> None:
    token = center.add_station("gate-07")
    station = SyncStation("gate-07", tmp_path, center.url, token)
    station.record(30, yesterday_noon())
    assert station.syncer.sync_once().complete
    station.record(20, yesterday_noon())
    station.store.fold()
    before = {e.seq: e for e in station.all_entries()}
    station.close()

    acked_lost, unacked_lost = {3, 4, 17}, {33, 41, 42}
    chunk = next((tmp_path / "gate-07" / "entries").glob("*.json"))
    damage_lines(chunk, acked_lost | unacked_lost)
    station = SyncStation("gate-07", tmp_path, center.url, token)
    assert any("6 entries lost" in w for w in station.store.warnings), station.store.warnings
    assert station.store.lost_seqs() == sorted(acked_lost | unacked_lost)

    report = station.syncer.sync_once()
    assert report.errors == () and station.store.lost_seqs() == []
    after = {e.seq: e for e in station.all_entries()}
    assert set(after) == set(before) - unacked_lost
    for seq in acked_lost:  # back from the center, as acknowledged
        assert replace(after[seq], acked_at=None) == replace(before[seq], acked_at=None) and after[seq].acked_at
    assert station.store.reported_lost() == sorted(unacked_lost)
    assert station.store.unsynced_count() == 0, "the 17 intact unacknowledged entries went to the center"

    reply = httpx.get(f"{center.url}/api/v1/admin/completeness", headers=center.admin).json()
    gate = next(s for s in reply["stations"] if s["station_id"] == "gate-07")
    assert gate["damaged"] == [[33, 33], [41, 42]] and gate["gaps"] == [] and gate["max_seq"] == 50
    assert gate["received"] == 50 - len(unacked_lost)

    station.store.fold()  # rewrites the damaged chunk around its intact entries (the original is kept aside)
    station.close()
    station = SyncStation("gate-07", tmp_path, center.url, token)
    assert station.store.warnings == [] and station.store.lost_seqs() == [] and station.store.check().clean
    assert station.syncer.sync_once().complete
    station.close()

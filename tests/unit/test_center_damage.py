"""The center's record of entries lost at stations, on a real SQLite file: idempotence, the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")


from kiosk.center import damage, reports  # noqa: E402
from kiosk.center.auth import add_station  # noqa: E402
from kiosk.center.db import Database  # noqa: E402
from kiosk.center.entries import Receiver  # noqa: E402
from kiosk.domain.models import Entry  # noqa: E402


def push(db: Database, entries: list[Entry]) -> None:
    results = Receiver(db).push("gate-01", [entry.to_dict() for entry in entries])
    assert {r.status for r in results} == {"stored"}


def test_damaged_seqs_are_recorded_once_and_leave_the_gaps(tmp_path: Path, make_entry: Callable[..., Entry]) -> None:
    db = Database(f"sqlite:///{tmp_path / 'center.db'}")
    add_station(db, "gate-01", "东门", "")
    push(db, [make_entry(station_id="gate-01", seq=seq) for seq in (1, 2, 5, 9)])

    first = damage.record_damaged(db, "gate-01", [3, 4, 5, 7])
    assert first.recorded == [3, 4, 7] and first.held == [5], "5 is held: the station fetches it back instead"
    assert damage.record_damaged(db, "gate-01", [4, 3]).recorded == [3, 4], "a report sent twice is harmless"
    assert [d["seq"] for d in damage.held_entries(db, "gate-01", [1, 5, 6])] == [1, 5]
    assert damage.held_entries(db, "gate-02", [1]) == [], "only the station's own entries"

    (station,) = damage.annotate(db, reports.completeness(db, 60)).stations
    assert station.damaged == [(3, 4), (7, 7)] and station.gaps == [(6, 6), (8, 8)]

    push(db, [make_entry(station_id="gate-01", seq=7)])  # it turned up after all
    (station,) = damage.annotate(db, reports.completeness(db, 60)).stations
    assert station.damaged == [(3, 4)] and station.gaps == [(6, 6), (8, 8)]
    db.close()

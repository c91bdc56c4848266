"""The center's schema versions: a version 1 database (before refused notices were reported) is migrated."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from kiosk.center import reports, stations  # noqa: E402
from kiosk.center.auth import add_station  # noqa: E402
from kiosk.center.db import SCHEMA_VERSION, Database  # noqa: E402

VERSION_2_COLUMNS = (
    ("stations", "refused_notices"),
    ("stations", "clock_offset"),
    ("stations", "revoked_at"),
    ("admins", "revoked_at"),
    ("people", "card_nos"),
    ("people", "lost_cards"),
)


def test_a_version_1_database_gains_the_refused_notices_column(tmp_path: Path) -> None:
    path = tmp_path / "center.db"
    Database(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:  # the columns version 1 did not have
        for table, column in VERSION_2_COLUMNS:
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.execute("UPDATE schema_version SET version = 1")
    db = Database(f"sqlite:///{path}")
    try:
        add_station(db, "gate-01", "东门", "")
        stations.heartbeat(db, "gate-01", datetime.now(UTC), 0, None, "test", ["n-7"])
        assert [s.refused_notices for s in reports.completeness(db, 10).stations] == [["n-7"]]
    finally:
        db.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]

"""scripts/nightly.py end to end against the real center, while a station process keeps its store open."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from servers import free_port, run_center
from syncstations import SyncStation

pytestmark = pytest.mark.slow

NIGHTLY = Path(__file__).resolve().parents[2] / "scripts" / "nightly.py"
TODAY = "2026-11-28"
YESTERDAY_NOON = datetime.fromisoformat("2026-11-27T12:00:00+08:00")
LONG_AGO = datetime.fromisoformat("2026-10-01T08:00:00+08:00")


def _config(path: Path, url: str) -> Path:
    path.write_text(
        f'[station]\nid = "night-01"\n\n[center]\nurl = "{url}"\ntoken_file = "token"\ntimeout = 2.0\n\n'
        '[storage]\ndata_dir = "night-01"\nretention_days = 30\n',
        encoding="utf-8",
    )
    return path


def _nightly(config: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(NIGHTLY), "--config", str(config), "--today", TODAY]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_nightly_pushes_exports_and_purges_only_what_the_center_has(tmp_path: Path) -> None:
    with run_center(f"sqlite:///{tmp_path / 'center.db'}", tmp_path) as center:
        token = tmp_path / "token"
        token.write_text(center.add_station("night-01"))
        token.chmod(0o600)
        live = _config(tmp_path / "live.toml", center.url)
        dead = _config(tmp_path / "dead.toml", f"http://127.0.0.1:{free_port()}")
        station = SyncStation("night-01", tmp_path, center.url, token.read_text())  # the gate app, running
        try:
            station.record(3, YESTERDAY_NOON)
            station.record(2, LONG_AGO)
            reports = tmp_path / "night-01" / "reports"

            offline = _nightly(dead)
            assert offline.returncode == 1, offline.stderr
            assert "cannot reach the center" in offline.stderr
            assert station.store.days() == ["2026-10-01", "2026-11-27"]  # nothing acknowledged: nothing purged
            assert station.store.unsynced_count() == 5
            assert sorted(p.name for p in reports.iterdir()) == ["night-01-2026-11-27.csv", "night-01-2026-11-27.xlsx"]

            for _ in range(2):  # idempotent: the second run finds nothing to do and writes the same reports
                online = _nightly(live)
                assert online.returncode == 0, online.stderr
                assert station.store.unsynced_count() == 0
                assert station.store.days() == ["2026-11-27"]
                _assert_reports(reports, rows=3)
        finally:
            station.close()
    assert "Traceback" not in offline.stderr + online.stderr


def _assert_reports(reports: Path, rows: int) -> None:
    csv_path = reports / "night-01-2026-11-27.csv"
    xlsx_path = reports / "night-01-2026-11-27.xlsx"
    for path in (csv_path, xlsx_path):
        assert path.stat().st_mode & 0o777 == 0o600
    with csv_path.open(encoding="utf-8-sig", newline="") as stream:
        assert len(list(csv.reader(stream))) == rows + 1
    book = openpyxl.load_workbook(xlsx_path, read_only=True)
    try:
        found = [r for r in book.worksheets[0].iter_rows(values_only=True) if any(str(v).startswith("2023") for v in r)]
        assert len(found) == rows
    finally:
        book.close()

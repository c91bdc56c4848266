"""The real `kiosk` program: roster import, export and purge over a real data directory."""

from __future__ import annotations

import csv
import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kiosk.domain.models import Entry, Verdict
from storage.entries import EntryStore
from storage.roster import RosterStore

KIOSK = str(Path(sys.executable).with_name("kiosk"))


def kiosk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KIOSK, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def station(tmp_path: Path) -> Path:
    """A station config whose data directory is a fresh one under tmp_path."""
    path = tmp_path / "kiosk.toml"
    path.write_text('[station]\nid = "test-01"\n\n[storage]\ndata_dir = "data"\n', encoding="utf-8")
    return path


def run(station: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return kiosk(*args, "--config", str(station), cwd=station.parent)


def test_help_lists_the_data_commands(tmp_path: Path) -> None:
    result = kiosk("--help", cwd=tmp_path)
    assert result.returncode == 0
    for name in ("roster", "export", "purge"):
        assert name in result.stdout
    assert "import" in kiosk("roster", "--help", cwd=tmp_path).stdout


def test_import_a_good_file(station: Path) -> None:
    roster = station.parent / "roster.csv"
    roster.write_bytes(
        "person_id,name,role,return_approved\n2023000101,张三,student,是\nT1001,王老师,staff,\n".encode()
    )
    result = run(station, "roster", "import", str(roster))
    assert result.returncode == 0, result.stderr
    assert "imported 2" in result.stdout
    assert "\r" not in result.stderr  # no progress bar when stderr is not a terminal
    store = RosterStore(station.parent / "data")
    assert store.get("2023000101").return_approved is True  # type: ignore[union-attr]
    assert len(store) == 2


def test_import_a_file_with_bad_rows_keeps_the_good_ones(station: Path) -> None:
    roster = station.parent / "roster.csv"
    roster.write_bytes("person_id,name,role\nA0001,甲,student\nA0002,乙,cook\nA0003,,staff\n".encode("gb18030"))
    result = run(station, "roster", "import", str(roster))
    assert result.returncode == 1
    assert "第 3 行 / line 3: 身份 'cook'" in result.stderr
    assert "第 4 行 / line 4: name" in result.stderr
    assert "Traceback" not in result.stderr
    assert "imported 1" in result.stdout
    assert RosterStore(station.parent / "data").get("A0001") is not None


def test_replace_makes_the_roster_exactly_the_file(station: Path) -> None:
    first = station.parent / "first.csv"
    first.write_text("person_id,name,role\nA0001,甲,student\nA0002,乙,student\n", encoding="utf-8")
    second = station.parent / "second.csv"
    second.write_text("person_id,name,role\nB0001,丙,staff\n", encoding="utf-8")
    assert run(station, "roster", "import", str(first)).returncode == 0
    assert run(station, "roster", "import", str(second)).returncode == 0
    assert len(RosterStore(station.parent / "data")) == 3
    refused = run(station, "roster", "import", str(second), "--replace")
    assert refused.returncode == 1 and "--force" in refused.stderr, "2 of 3 people removed: more than 20 %"
    assert len(RosterStore(station.parent / "data")) == 3
    assert run(station, "roster", "import", str(second), "--replace", "--force").returncode == 0
    store = RosterStore(station.parent / "data")
    assert (len(store), store.get("A0001")) == (1, None)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "file not found"), ("person_id,name\nA0001,甲\n", "missing required column(s) role")],
)
def test_import_an_unusable_file_exits_2(station: Path, content: str | None, message: str) -> None:
    roster = station.parent / "roster.csv"
    if content is not None:
        roster.write_text(content, encoding="utf-8")
    result = run(station, "roster", "import", str(roster))
    assert result.returncode == 2
    assert message in result.stderr
    assert not (station.parent / "data" / "roster.json").exists()


def test_import_shows_a_progress_bar_on_a_terminal(station: Path) -> None:
    roster = station.parent / "roster.csv"
    roster.write_text(
        "person_id,name,role\n" + "".join(f"S{i:04d},学生{i},student\n" for i in range(500)), encoding="utf-8"
    )
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(
            [KIOSK, "roster", "import", str(roster), "--config", str(station)],
            cwd=station.parent,
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=60,
        )
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert process.returncode == 0
    assert b"\r" in shown
    assert b"500/500" in shown


@pytest.fixture
def day_of_entries(station: Path, make_entry: Callable[..., Entry]) -> list[Entry]:
    store = EntryStore(station.parent / "data")
    try:
        return [
            store.record(make_entry(captured_at="2026-11-28T07:30:00+08:00")),
            store.record(make_entry("2023000102", name="欧阳娜娜", verdict=Verdict.DENIED)),
            store.record(make_entry("2023000103", captured_at="2026-11-29T09:00:00+08:00")),
        ]
    finally:
        store.close()


def test_export_csv_to_stdout(station: Path, day_of_entries: list[Entry]) -> None:
    result = run(station, "export", "--date", "2026-11-28", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(result.stdout.splitlines()))
    assert len(rows) == 3
    assert rows[2][5] == "欧阳娜娜"
    assert rows[2][8] == "禁止通行"


def test_export_jsonl_file(station: Path, day_of_entries: list[Entry]) -> None:
    output = station.parent / "out.jsonl"
    result = run(station, "export", "--date", "2026-11-28", "--format", "jsonl", "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert "exported 2 entries" in result.stdout
    exported = [Entry.from_dict(json.loads(line)) for line in output.read_text(encoding="utf-8").splitlines()]
    assert exported == day_of_entries[:2]
    assert oct(output.stat().st_mode & 0o777) == "0o600"


def test_export_xlsx_file(station: Path, day_of_entries: list[Entry]) -> None:
    output = station.parent / "out.xlsx"
    result = run(
        station, "export", "--date", "2026-11-29", "--format", "xlsx", "--output", str(output), "--language", "en"
    )
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(output).worksheets[0]
    assert sheet["A1"].value == "Time"
    assert sheet.max_row == 2
    assert sheet["D2"].value == "2023000103"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export", "--date", "2026-02-30"), "YYYY-MM-DD"),
        (("export", "--date", "28/11/2026"), "YYYY-MM-DD"),
        (("export", "--date", "2026-11-28", "--format", "xlsx"), "--output"),
        (("export", "--format", "pdf"), "invalid choice"),
        (("purge", "--older-than", "-3"), "DAYS"),
        (("roster",), "ACTION"),
    ],
)
def test_bad_usage_exits_2(station: Path, args: tuple[str, ...], message: str) -> None:
    result = run(station, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("[storage]\nretention_days = 0\n", encoding="utf-8")
    result = kiosk("purge", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "storage.retention_days" in result.stderr


def test_export_to_an_unwritable_place_exits_1(station: Path, day_of_entries: list[Entry]) -> None:
    output = station.parent / "no-such-dir" / "out.csv"
    result = run(station, "export", "--date", "2026-11-28", "--output", str(output))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "失败 / failed" in result.stderr


def test_purge_removes_only_acknowledged_old_entries(station: Path, make_entry: Callable[..., Entry]) -> None:
    now = datetime.now().astimezone()
    old = (now - timedelta(days=40)).isoformat(timespec="seconds")
    recent = (now - timedelta(days=2)).isoformat(timespec="seconds")
    store = EntryStore(station.parent / "data")
    try:
        synced_old = [store.record(make_entry(f"S{i}", captured_at=old)) for i in range(3)]
        unsynced_old = store.record(make_entry("U1", captured_at=old))
        synced_recent = store.record(make_entry("R1", captured_at=recent))
        store.mark_acked([(e.entry_id, e.revision) for e in [*synced_old, synced_recent]], now.isoformat())
    finally:
        store.close()
    result = run(station, "purge", "--older-than", "30")
    assert result.returncode == 0, result.stderr
    assert "removed 3 synced entries" in result.stdout
    assert "kept 1 not yet synced" in result.stdout
    store = EntryStore(station.parent / "data")
    try:
        assert store.entries_of_day(old[:10]) == [unsynced_old]
        assert [replace(e, acked_at=None) for e in store.entries_of_day(recent[:10])] == [synced_recent]
        assert store.unsynced_count() == 1
    finally:
        store.close()

"""`kiosk store check` and the nightly script's check, as an administrator runs them, over a damaged store."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from kiosk.domain.models import Entry
from storage.entries import EntryStore

KIOSK = str(Path(sys.executable).with_name("kiosk"))
NIGHTLY = Path(__file__).resolve().parents[2] / "scripts" / "nightly.py"


def check(config: Path) -> subprocess.CompletedProcess[str]:
    command = [KIOSK, "store", "check", "--config", str(config)]
    return subprocess.run(command, cwd=config.parent, capture_output=True, text=True, timeout=60)


def test_store_check_finds_damage_salvages_and_keeps_saying_what_was_lost(
    tmp_path: Path, make_entry: Callable[..., Entry]
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[station]\nid = "test-01"\n\n[storage]\ndata_dir = "data"\n', encoding="utf-8")
    store = EntryStore(tmp_path / "data")
    recorded = [store.record(make_entry(captured_at=f"2026-11-28T07:{i:02d}:00+08:00")) for i in range(20)]
    store.fold()
    store.close()
    sound = check(config)
    assert sound.returncode == 0 and "the data is sound" in sound.stdout, sound.stderr

    chunk = tmp_path / "data" / "entries" / "2026-11-28.00000.json"
    lines = chunk.read_bytes().split(b"\n")
    lines[7] = lines[7].replace(b"2023000101", b"2023000102")  # seq 7's person changed: only the checksum knows
    chunk.write_bytes(b"\n".join(lines))
    damaged = check(config)
    assert damaged.returncode == 1
    assert "chunk file 2026-11-28.00000 damaged: 19 intact entries kept" in damaged.stderr
    assert "1 damaged entries wait for the center" in damaged.stdout and "Traceback" not in damaged.stderr
    assert any(p.name.startswith(chunk.name + ".corrupt-") for p in chunk.parent.iterdir()), "original kept aside"

    again = check(config)
    assert again.returncode == 1 and "damaged:" not in again.stderr, "the file was rewritten around the damage"
    assert "1 damaged entries wait for the center" in again.stdout, "until the center settles it"
    store = EntryStore(tmp_path / "data")
    assert [e.seq for e in store.entries_of_day("2026-11-28")] == [e.seq for e in recorded if e.seq != 7]
    assert store.lost_seqs() == [7]
    store.close()

    nightly = subprocess.run(
        [sys.executable, str(NIGHTLY), "--config", str(config), "--today", "2026-11-29"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert nightly.returncode == 1 and "lost, waiting for the center: 1" in nightly.stderr, nightly.stderr

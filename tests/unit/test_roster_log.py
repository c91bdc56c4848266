"""The roster's change log: a small change costs what it changes, survives a torn write, and is folded in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import storage.roster
from kiosk.domain.models import Person, Role
from storage.roster import RosterStore


def roster(count: int) -> list[Person]:
    return [
        Person(f"2023{i:06d}", f"学生{i}", Role.STUDENT, "海淀校园", card_nos=(str(1000 + i),)) for i in range(count)
    ]


def snapshot_id(path: Path) -> tuple[int, int]:
    stat = (path / "roster.json").stat()
    return stat.st_ino, stat.st_mtime_ns


def test_a_small_change_is_appended_not_rewritten(tmp_path: Path) -> None:
    store = RosterStore(tmp_path)
    store.replace_all(roster(2000), version="1")
    before = snapshot_id(tmp_path)
    changed = [Person(f"2023{i:06d}", f"改名{i}", Role.STUDENT, "海淀校园", return_approved=True) for i in range(10)]
    assert store.upsert(changed, version="2", removed=["2023001999"]) == 11
    assert snapshot_id(tmp_path) == before, "the snapshot is not rewritten for 11 people"
    assert (tmp_path / "roster.log").stat().st_size < 4096
    again = RosterStore(tmp_path)
    assert again.get("2023000003") == changed[3] and again.get("2023001999") is None
    assert (len(again), again.version) == (1999, "2")
    assert again.card_holder("1003") == (None, False), "the changed person has no card any more"
    assert again.card_holder("1004") == (None, False)
    assert again.card_holder("1010") == (again.get("2023000010"), False)


def test_another_process_reads_only_what_is_new(tmp_path: Path) -> None:
    store = RosterStore(tmp_path)
    store.replace_all(roster(100), version="1")
    code = (
        "import sys; from pathlib import Path; from storage.roster import RosterStore;"
        "from kiosk.domain.models import Person, Role;"
        "RosterStore(Path(sys.argv[1])).upsert([Person('X9001', '新人', Role.STAFF, lost_cards=('77',))], version='2')"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=60)
    assert store.get("X9001") == Person("X9001", "新人", Role.STAFF, lost_cards=("77",))
    assert store.card_holder("77") == (store.get("X9001"), True)
    assert store.version == "2" and len(store) == 101


def test_a_torn_last_line_is_ignored_then_overwritten(tmp_path: Path) -> None:
    store = RosterStore(tmp_path)
    store.replace_all(roster(50))
    store.upsert([Person("A0001", "甲", Role.STAFF)])
    with (tmp_path / "roster.log").open("ab") as log:
        log.write(b'0badc0de {"g":"x","put":[{"person_id":"EVIL1"')  # a crash in the middle of an append
    fresh = RosterStore(tmp_path)
    assert fresh.get("A0001") is not None and fresh.get("EVIL1") is None and len(fresh) == 51
    fresh.upsert([Person("B0002", "乙", Role.STAFF)])
    assert len(RosterStore(tmp_path)) == 52
    assert b"EVIL1" not in (tmp_path / "roster.log").read_bytes(), "the torn line was cut off before appending"


def test_a_flipped_bit_in_the_log_stops_the_replay_there(tmp_path: Path) -> None:
    store = RosterStore(tmp_path)
    store.replace_all(roster(50))
    store.upsert([Person("A0001", "甲", Role.STAFF)])
    store.upsert([Person("B0002", "乙", Role.STAFF)])
    log = tmp_path / "roster.log"
    data = bytearray(log.read_bytes())
    data[data.index(b"A0001")] ^= 0x01
    log.write_bytes(bytes(data))
    fresh = RosterStore(tmp_path)
    assert fresh.get("A0001") is None and fresh.get("@0001") is None and fresh.get("B0002") is None


def test_log_lines_of_an_older_snapshot_are_ignored(tmp_path: Path) -> None:
    store = RosterStore(tmp_path)
    store.replace_all(roster(50))
    store.upsert([Person("A0001", "甲", Role.STAFF)])
    old_log = (tmp_path / "roster.log").read_bytes()
    store.replace_all(roster(10))
    (tmp_path / "roster.log").write_bytes(old_log)  # a crash between the new snapshot and the log's removal
    fresh = RosterStore(tmp_path)
    assert len(fresh) == 10 and fresh.get("A0001") is None


def test_the_log_is_folded_into_a_new_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.roster, "LOG_FOLD_MIN", 2000)
    store = RosterStore(tmp_path)
    store.replace_all(roster(100))
    for i in range(30):
        store.upsert([Person(f"N{i:04d}", f"新人{i}", Role.STAFF)], version=str(i))
    assert not (tmp_path / "roster.log").exists() or (tmp_path / "roster.log").stat().st_size <= 2000
    fresh = RosterStore(tmp_path)
    assert len(fresh) == 130 and fresh.version == "29"
    assert fresh.get("N0029") == store.get("N0029")


def test_a_big_change_writes_a_snapshot(tmp_path: Path) -> None:
    store = RosterStore(tmp_path)
    store.replace_all(roster(100))
    store.upsert([Person(f"N{i:04d}", "新", Role.STAFF) for i in range(60)])
    assert not (tmp_path / "roster.log").exists()
    assert len(RosterStore(tmp_path)) == 160

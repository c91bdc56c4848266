"""The roster store: lookups, search, replacement, reload across processes, damage, file modes."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from kiosk.domain.models import Person, Role
from storage.roster import RosterStore


def _roster(count: int) -> list[Person]:
    return [
        Person(f"2023{i:06d}", f"学生{i}", Role.STUDENT, "海淀校园", "西北楼", return_approved=i % 2 == 0)
        for i in range(count)
    ]


def test_get_and_search(tmp_path: Path, people: tuple[Person, ...]) -> None:
    store = RosterStore(tmp_path)
    assert store.replace_all(people, version="v1") == len(people)
    assert store.get("2023000103") == people[2]
    assert store.get("nobody") is None
    assert len(store) == 4 and store.version == "v1"
    assert [p.person_id for p in store.search("娜娜")] == ["2023000102"]
    assert [p.person_id for p in store.search("20230001")] == ["2023000101", "2023000102", "2023000103"]
    assert [p.person_id for p in store.search("t10")] == ["T1001"], "ID prefixes are case-insensitive"
    assert store.search("  ") == []
    assert len(store.search("2023", limit=2)) == 2


def test_exact_id_comes_first(tmp_path: Path) -> None:
    store = RosterStore(tmp_path)
    store.replace_all([Person("12", "甲", Role.STAFF), Person("1", "乙", Role.STAFF), Person("123", "丙", Role.STAFF)])
    assert [p.person_id for p in store.search("12")] == ["12", "123"]


def test_upsert_and_remove(tmp_path: Path, people: tuple[Person, ...]) -> None:
    store = RosterStore(tmp_path)
    store.replace_all(people, version="v1")
    approved = Person("2023000102", "欧阳娜娜", Role.STUDENT, "海淀校园", "西北楼", return_approved=True)
    assert store.upsert([approved, people[0]], removed=["T1001", "missing"]) == 2
    assert store.get("2023000102") == approved
    assert store.get("T1001") is None
    assert store.version == "v1", "an upsert without a version keeps the old one"
    assert RosterStore(tmp_path).get("2023000102") == approved, "the change is on disk"


def test_replace_all_drops_people_not_listed(tmp_path: Path, people: tuple[Person, ...]) -> None:
    store = RosterStore(tmp_path)
    store.replace_all(people)
    store.replace_all(people[:1], version="v2")
    assert len(RosterStore(tmp_path)) == 1 and store.get("T1001") is None


def test_sees_a_change_made_by_another_process(tmp_path: Path, people: tuple[Person, ...]) -> None:
    store = RosterStore(tmp_path)
    store.replace_all(people, version="v1")
    assert store.get("X9") is None
    code = (
        "import sys; from pathlib import Path; from storage.roster import RosterStore;"
        "from kiosk.domain.models import Person, Role;"
        "RosterStore(Path(sys.argv[1])).upsert([Person('X9', '新人', Role.STAFF)], version='v2')"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=60)
    assert store.get("X9") == Person("X9", "新人", Role.STAFF)
    assert store.version == "v2"


def test_file_is_private(tmp_path: Path, people: tuple[Person, ...]) -> None:
    RosterStore(tmp_path / "data").replace_all(people)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "data" / "roster.json").stat().st_mode) == 0o600
    names = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert names == [".kiosk-store", "roster.json"], "no temporary file left behind"


def _damaged_cases(original: bytes) -> dict[str, bytes]:
    return {
        "empty": b"",
        "truncated": original[: len(original) // 2],
        "junk appended": original + b"\x00\x00garbage",
        "not an object": b"[1, 2, 3]",
    }


def test_damaged_file_is_moved_aside_and_the_station_goes_on(tmp_path: Path, people: tuple[Person, ...]) -> None:
    RosterStore(tmp_path / "ref").replace_all(people)
    original = (tmp_path / "ref" / "roster.json").read_bytes()
    for label, damaged in _damaged_cases(original).items():
        data = tmp_path / label.replace(" ", "-")
        data.mkdir()
        (data / "roster.json").write_bytes(damaged)
        store = RosterStore(data)
        assert len(store) == 0, label
        assert len(store.warnings) == 1, label
        assert "moved to roster.json.corrupt-" in store.warnings[0] and "/" in store.warnings[0]
        aside = [p for p in data.iterdir() if p.name.startswith("roster.json.corrupt-")]
        assert len(aside) == 1 and aside[0].read_bytes() == damaged, "the damaged file is kept for inspection"
        store.replace_all(people[:2])
        assert RosterStore(data).get(people[1].person_id) == people[1], label


def test_a_changed_byte_is_caught_by_the_checksum(tmp_path: Path, people: tuple[Person, ...]) -> None:
    RosterStore(tmp_path).replace_all(people)
    path = tmp_path / "roster.json"
    raw = bytearray(path.read_bytes())
    at = raw.index(b"true", raw.index(b'"return_approved"'))
    raw[at : at + 4] = b"null"  # still valid JSON: only the checksum can tell
    path.write_bytes(bytes(raw))
    store = RosterStore(tmp_path)
    assert len(store) == 0 and "damaged" in store.warnings[0]


def test_damaged_row_is_skipped_not_fatal(tmp_path: Path, people: tuple[Person, ...]) -> None:
    store = RosterStore(tmp_path)
    store.replace_all(people)
    data = json.loads((tmp_path / "roster.json").read_bytes().partition(b"\n")[2])  # after the checksum line
    data["people"]["2"]["role"] = "alien"
    (tmp_path / "roster.json").write_text(json.dumps(data), encoding="utf-8")  # the earlier, unchecked format
    fresh = RosterStore(tmp_path)
    assert len(fresh) == 3 and fresh.get(people[1].person_id) is None and fresh.warnings == []


def test_large_roster_lookup(tmp_path: Path) -> None:
    roster = _roster(50_000)
    RosterStore(tmp_path).replace_all(roster, version="big")
    store = RosterStore(tmp_path)
    assert len(store) == 50_000
    assert store.get("2023049999") == roster[-1]
    assert [p.person_id for p in store.search("学生4999", limit=3)] == ["2023004999", "2023049990", "2023049991"]
    # campus and dorm strings are shared, not one copy per person
    assert store.get("2023000001").campus is store.get("2023000002").campus  # type: ignore[union-attr]


def test_a_store_opened_without_loading_reads_on_load(tmp_path: Path, people: tuple[Person, ...]) -> None:
    RosterStore(tmp_path).replace_all(people)
    store = RosterStore(tmp_path, load=False)
    assert not store.loaded, "nothing read before load()"
    store.load()
    assert store.loaded and store.get("2023000103") == people[2]
    assert RosterStore(tmp_path / "empty", load=False).loaded is False
    assert RosterStore(tmp_path / "empty").loaded, "a missing file counts as loaded (an empty roster)"


def test_latin_names_are_found_whatever_the_case(tmp_path: Path) -> None:
    store = RosterStore(tmp_path)
    store.replace_all([Person("V1", "Anna STRAßE", Role.STAFF), Person("V2", "李娜", Role.STAFF)])
    assert [p.person_id for p in store.search("strasse")] == ["V1"]
    assert [p.person_id for p in store.search("ANNA")] == ["V1"]
    assert [p.person_id for p in store.search("娜")] == ["V2"]


def test_a_roster_read_again_keeps_the_people_it_holds_who_did_not_change(tmp_path: Path) -> None:
    roster = _roster(3_000)
    RosterStore(tmp_path).replace_all(roster, version="v1")
    store = RosterStore(tmp_path)
    held = store.get("2023000007")
    moved = replace(roster[8], dorm="东南楼")
    RosterStore(tmp_path).replace_all([*roster[:8], moved, *roster[9:]], version="v2")  # another process
    assert store.get("2023000007") is held, "an unchanged person is not held twice after the re-read"
    assert store.get("2023000008") == moved and store.version == "v2"
    assert store.interned()(replace(roster[7])) is held
    assert store.interned()(roster[8]) is roster[8], "a person who differs from the one held is kept as given"


def test_a_changed_byte_far_into_a_large_snapshot_is_caught(tmp_path: Path) -> None:
    RosterStore(tmp_path).replace_all(_roster(3_000))
    path = tmp_path / "roster.json"
    raw = bytearray(path.read_bytes())
    at = raw.index(b"true", len(raw) - 2_000)  # past the first pieces the snapshot is read in
    raw[at : at + 4] = b"null"
    path.write_bytes(bytes(raw))
    store = RosterStore(tmp_path)
    assert len(store) == 0 and "checksum" in store.warnings[0]

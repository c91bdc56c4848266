"""A seeded campaign of damage to every kind of store file: bit flips, overwritten bytes, truncations, zeroed ranges.

For each case the station's stores open, every reader and `kiosk export` work without a traceback, each entry
is either intact or reported lost (never changed into something else), no sequence number is given twice, and
the damage is reported. The default run tries a sample; the slow-marked run tries more than a thousand.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from kiosk.cli.main import main as kiosk
from kiosk.domain.models import Direction, Entry, Method, Notice, Person, Reading, Reason, Role, Verdict
from storage.entries import EntryStore
from storage.notices import NoticeStore
from storage.roster import RosterStore

SEED = 20261202
DAYS = ("2026-11-27", "2026-11-28")
KINDS = ("flip", "overwrite", "truncate", "zero")


def _entry(number: int) -> Entry:
    day = DAYS[number % 2]
    verdict = (Verdict.ADMITTED, Verdict.DENIED, Verdict.REFERRED)[number % 3]
    return Entry(
        entry_id=f"0190{number:04d}-0000-7000-8000-000000000000",
        station_id="test-01",
        seq=0,
        person_id=f"2023{number:06d}",
        role=Role.STUDENT,
        name="欧阳娜娜",
        method=Method.SERIAL_SCAN,
        direction=Direction.IN if number % 4 else Direction.OUT,
        captured_at=f"{day}T{7 + number % 12:02d}:{number % 60:02d}:00+08:00",
        monotonic=float(number),
        verdict=verdict,
        reasons=(Reason.ON_ROSTER,) if verdict is Verdict.ADMITTED else (Reason.NOT_ON_ROSTER,),
        rules_version="test",
        operator="T1001",
    )


@dataclass
class Template:
    """A store with folded chunks, a journal of entries, amendments, acknowledgements and audit records."""

    root: Path
    entries: dict[int, Entry]
    """Every entry as the store holds it (newest revision, acknowledged or not), by seq."""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("template")
    data = root / "data"
    store = EntryStore(data)
    recorded = [store.record(_entry(n)) for n in range(240)]
    store.audit("rejected_scan", "garbage from the reader", f"{DAYS[0]}T08:00:00+08:00")
    store.mark_acked([(e.entry_id, 0) for e in recorded[:150]], at=f"{DAYS[1]}T12:00:00+08:00")
    for entry in recorded[10:20]:
        store.record(entry.amended(readings=(Reading(36.6, entry.captured_at, "T1001"),)))
    store.fold()
    recorded += [store.record(_entry(n)) for n in range(240, 310)]
    store.mark_acked([(e.entry_id, 0) for e in recorded[240:260]], at=f"{DAYS[1]}T13:00:00+08:00")
    store.record(recorded[5].amended(operator="T1002"))
    store.audit("refused_login", "wrong PIN", f"{DAYS[1]}T09:00:00+08:00")
    entries = {e.seq: e for day in DAYS for e in store.entries_of_day(day)}
    store.close()
    roster = RosterStore(data)
    roster.replace_all([Person(f"2023{n:06d}", f"学生{n}", Role.STUDENT) for n in range(50)], "7")
    roster.upsert([Person(f"2024{n:06d}", f"新生{n}", Role.STUDENT) for n in range(3)], "8")  # roster.log
    notices = NoticeStore(data)
    notices.add(Notice("n1", "通知", "https://www.bnu.edu.cn/a", "2026-11-27T08:00:00+08:00", "local"))
    (root / "kiosk.toml").write_text('[station]\nid = "test-01"\n\n[storage]\ndata_dir = "data"\n', encoding="utf-8")
    assert len(entries) == 310
    return Template(root, entries)


def store_files(data: Path) -> list[Path]:
    """Every file the stores keep, in a fixed order."""
    empty = ("store.lock", "fold.lock", ".kiosk-store")
    return sorted(p for p in data.rglob("*") if p.is_file() and p.name not in empty)


def damage(raw: bytes, kind: str, rand: random.Random) -> bytes:
    if not raw:
        return b"\x00"
    at = rand.randrange(len(raw))
    if kind == "flip":
        return raw[:at] + bytes([raw[at] ^ (1 << rand.randrange(8))]) + raw[at + 1 :]
    if kind == "overwrite":
        size = min(rand.randint(1, 64), len(raw) - at)
        return raw[:at] + rand.randbytes(size) + raw[at + size :]
    if kind == "truncate":
        return raw[:at]
    size = min(rand.randint(1, 512), len(raw) - at)
    return raw[:at] + b"\x00" * size + raw[at + size :]


def cases(count: int) -> Iterator[tuple[int, str, int]]:
    """(case number, kind, file index seed): every kind against every file in turn, positions at random."""
    for number in range(count):
        yield number, KINDS[number % len(KINDS)], number // len(KINDS)


def run_case(template: Template, work: Path, number: int, kind: str, file_turn: int) -> None:
    rand = random.Random(SEED * 10_000 + number)
    case = work / f"case-{number}"
    shutil.copytree(template.root, case, ignore=shutil.ignore_patterns("*.lock"))
    data = case / "data"
    files = store_files(data)
    target = files[file_turn % len(files)]
    raw = target.read_bytes()
    damaged = damage(raw, kind, rand)
    target.write_bytes(damaged)
    where = f"case {number} ({kind} {target.relative_to(data)}, seed {SEED})"

    store = EntryStore(data)
    roster, notices = RosterStore(data), NoticeStore(data)
    len(roster), notices.all()
    found: dict[int, Entry] = {}
    for day in sorted({*store.days(), *DAYS}):
        day_entries = store.entries_of_day(day)
        for entry in day_entries:
            assert entry.seq not in found, f"{where}: seq {entry.seq} twice"
            found[entry.seq] = entry
        store.counts(day)
        store.latest(day, 10)
        store.audit_of_day(day)
    store.unsynced_documents(1000)
    store.oldest_unsynced_at()
    lost = set(store.lost_seqs())
    report = store.check()
    warnings = [*store.warnings, *roster.warnings, *notices.warnings]

    for seq, original in template.entries.items():
        entry = found.get(seq)
        if entry is None:
            assert seq in lost or seq in report.lost_pending, f"{where}: entry {seq} lost without a word"
            continue
        assert entry.entry_id == original.entry_id, f"{where}: seq {seq} now names another entry"
        if entry != original:
            # A lost journal record can only take back a later revision or acknowledgement, and says so.
            assert warnings, f"{where}: entry {seq} changed silently"
            assert entry.revision <= original.revision, f"{where}: entry {seq} has a revision that never was"
            if entry.revision == original.revision:
                assert original.acked_at is not None and entry.acked_at is None, f"{where}: entry {seq} changed"
                assert replace(entry, acked_at=original.acked_at) == original, f"{where}: entry {seq} changed"
    assert set(found) <= set(template.entries), f"{where}: entries that never were"
    # A roster log ending in a cut line is what a crash mid-append leaves (and another process may be appending):
    # it is not reported, and nothing is lost, since the roster's changes come again from the center.
    torn_roster_log = target.name == "roster.log" and not damaged.endswith(b"\n")
    if damaged != raw and not torn_roster_log:
        assert warnings, f"{where}: damage not reported"

    new = store.record(_entry(999))
    assert new.seq > max(template.entries), f"{where}: seq {new.seq} given twice"
    store.close()
    day, output = DAYS[number % 2], case / "export.csv"
    assert kiosk(["export", "--config", str(case / "kiosk.toml"), "--date", day, "--output", str(output)]) == 0, where
    exported = output.read_text(encoding="utf-8-sig").splitlines()
    held = sum(e.day == day for e in [*found.values(), new])
    assert len(exported) == 1 + held, f"{where}: the export differs from the store"
    shutil.rmtree(case)


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Path]:
    """Where the cases run: memory when the machine has it, since this campaign is about damage, not the disk."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="store-damage-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_damage_campaign_sample(template: Template, work: Path) -> None:
    for number, kind, file_turn in cases(100):
        run_case(template, work, number, kind, file_turn)


@pytest.mark.slow
def test_damage_campaign_thousand_cases(template: Template, work: Path) -> None:
    for number, kind, file_turn in cases(1000):
        run_case(template, work, 10_000 + number, kind, file_turn)

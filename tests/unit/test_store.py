"""The entry store on real files: record, amend, acknowledge, fold, purge, query, damage, two processes, full disk."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.domain.models import DayCounts, Direction, Entry, Notice, Reason, Verdict
from storage.entries import EntryStore
from storage.files import StoreError, StoreFullError
from storage.notices import NoticeStore

DAY = "2026-11-28"
ROOT = Path(__file__).resolve().parents[2]
MakeEntry = Callable[..., Entry]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EntryStore]:
    opened = EntryStore(tmp_path / "data")
    yield opened
    opened.close()


def reopen(store: EntryStore) -> EntryStore:
    store.close()
    return EntryStore(store.root)


def at(hour: int, minute: int = 0, day: str = DAY) -> str:
    return f"{day}T{hour:02d}:{minute:02d}:00+08:00"


def denied(make_entry: MakeEntry, **changes: object) -> Entry:
    return make_entry(verdict=Verdict.DENIED, reasons=(Reason.NOT_ON_ROSTER,), **changes)


def recount(entries: list[Entry]) -> DayCounts:
    """Counts computed the slow, obvious way, to compare the store's running tally with."""
    by_hour = [0] * 24
    for entry in entries:
        by_hour[entry.hour] += 1
    admitted = [e for e in entries if e.verdict is Verdict.ADMITTED]
    return DayCounts(
        admitted=len(admitted),
        denied=sum(e.verdict is Verdict.DENIED for e in entries),
        referred=sum(e.verdict is Verdict.REFERRED for e in entries),
        entered=sum(e.direction is Direction.IN for e in admitted),
        left=sum(e.direction is Direction.OUT for e in admitted),
        by_hour=tuple(by_hour),
    )


# -- recording, amending, acknowledging ----------------------------------------------------------------


def test_record_assigns_sequence_numbers_and_survives_reopening(store: EntryStore, make_entry: MakeEntry) -> None:
    recorded = [store.record(make_entry(captured_at=at(7, i))) for i in range(5)]
    assert [e.seq for e in recorded] == [1, 2, 3, 4, 5]
    assert store.last_seq == 5
    store = reopen(store)
    assert store.entries_of_day(DAY) == recorded
    assert store.record(make_entry()).seq == 6


def test_a_numbered_entry_must_be_an_amendment(store: EntryStore, make_entry: MakeEntry) -> None:
    entry = store.record(make_entry())
    with pytest.raises(ValueError, match="amendment"):
        store.record(entry)
    assert store.entries_of_day(DAY) == [entry]


@pytest.mark.parametrize("fold_between", [False, True])
def test_amendment_keeps_seq_and_newest_revision_wins(
    store: EntryStore, make_entry: MakeEntry, fold_between: bool
) -> None:
    first = store.record(make_entry())
    other = store.record(make_entry("2023000102"))
    if fold_between:
        store.fold()
    amended = store.record(first.amended(verdict=Verdict.REFERRED, reasons=(Reason.FEVER_REFERRED,)))
    assert (amended.seq, amended.revision) == (1, 1)
    assert store.entries_of_day(DAY) == [amended, other]
    store.fold()
    assert store.entries_of_day(DAY) == [amended, other]
    assert reopen(store).entries_of_day(DAY) == [amended, other]


def test_an_older_revision_never_overwrites_a_newer_one(store: EntryStore, make_entry: MakeEntry) -> None:
    first = store.record(make_entry())
    second = store.record(first.amended(operator="T2"))
    third = store.record(second.amended(operator="T3"))
    store.fold()
    store.record(second.amended(operator="late"))  # revision 2 again, recorded after 2 was folded
    assert [e.operator for e in store.entries_of_day(DAY)] in (["T3"], ["late"])
    assert store.entries_of_day(DAY)[0].revision == third.revision


def test_ack_only_the_revision_the_center_committed(store: EntryStore, make_entry: MakeEntry) -> None:
    first = store.record(make_entry())
    second = store.record(make_entry())
    assert store.unsynced_count() == 2
    amended = store.record(first.amended(operator="T2"))
    assert store.mark_acked([(first.entry_id, 0)], at="2026-11-28T08:00:00+08:00") == 0, "a stale revision"
    assert store.mark_acked([(amended.entry_id, 1), (second.entry_id, 0)], at="2026-11-28T08:00:00+08:00") == 2
    assert store.mark_acked([(second.entry_id, 0)], at="2026-11-28T08:01:00+08:00") == 0, "already acknowledged"
    assert store.mark_acked([("no-such-id", 0)], at="2026-11-28T08:01:00+08:00") == 0
    assert store.unsynced_count() == 0 and store.unsynced_batch(10) == []
    assert {e.acked_at for e in store.entries_of_day(DAY)} == {"2026-11-28T08:00:00+08:00"}
    again = store.record(second.amended(operator="T3"))
    assert store.unsynced_batch(10) == [again], "an amendment waits to be synced again"
    store.fold()
    store = reopen(store)
    assert store.unsynced_batch(10) == [again]
    assert [e.acked_at for e in store.entries_of_day(DAY)] == ["2026-11-28T08:00:00+08:00", None]


def test_ack_of_a_folded_entry_survives_fold_and_reopen(store: EntryStore, make_entry: MakeEntry) -> None:
    entries = [store.record(make_entry()) for _ in range(3)]
    store.fold()
    store.mark_acked([(entries[1].entry_id, 0)], at="2026-11-28T09:00:00+08:00")
    assert [e.acked_at for e in store.entries_of_day(DAY)] == [None, "2026-11-28T09:00:00+08:00", None]
    store = reopen(store)
    assert [e.acked_at for e in store.entries_of_day(DAY)] == [None, "2026-11-28T09:00:00+08:00", None]
    assert [e.seq for e in store.unsynced_batch(10)] == [1, 3]
    store.fold()
    assert [e.seq for e in reopen(store).unsynced_batch(10)] == [1, 3]


# -- queries -------------------------------------------------------------------------------------------


def test_unsynced_batch_puts_denied_and_referred_first_each_in_seq_order(
    store: EntryStore, make_entry: MakeEntry
) -> None:
    kinds = ["ok", "denied", "ok", "referred", "ok", "denied", "ok"]
    recorded = []
    for kind in kinds:
        if kind == "ok":
            recorded.append(store.record(make_entry()))
        elif kind == "denied":
            recorded.append(store.record(denied(make_entry)))
        else:
            recorded.append(store.record(make_entry(verdict=Verdict.REFERRED, reasons=(Reason.FEVER_REFERRED,))))
    expected = [2, 4, 6, 1, 3, 5, 7]
    assert [e.seq for e in store.unsynced_batch(100)] == expected
    assert [e.seq for e in store.unsynced_batch(4)] == expected[:4]
    store.fold()
    store = reopen(store)
    assert [e.seq for e in store.unsynced_batch(100)] == expected
    # amending the oldest entries must not push them behind newer ones
    store.record(recorded[0].amended(operator="T2"))
    store.record(recorded[1].amended(operator="T2"))
    assert [e.seq for e in store.unsynced_batch(4)] == expected[:4]
    assert [e.seq for e in reopen(store).unsynced_batch(4)] == expected[:4]


def test_unsynced_order_is_by_seq_not_by_day(store: EntryStore, make_entry: MakeEntry) -> None:
    """Clocks jump: an entry captured 'yesterday' after a clock reset is still newer."""
    store.record(make_entry(captured_at=at(9)))
    store.record(make_entry(captured_at=at(9, day="2026-11-27")))
    store.fold()
    assert [e.seq for e in reopen(store).unsynced_batch(1)] == [1]


def test_oldest_unsynced_at(store: EntryStore, make_entry: MakeEntry) -> None:
    assert store.oldest_unsynced_at() is None
    first = store.record(make_entry(captured_at=at(7)))
    store.record(denied(make_entry, captured_at=at(8)))
    store.record(make_entry(captured_at=at(9)))
    store.record(first.amended(operator="T2"))
    assert store.oldest_unsynced_at() == at(7)
    store.mark_acked([(first.entry_id, 1)], at=at(10))
    assert store.oldest_unsynced_at() == at(8)


def test_counts_stay_exact_across_amendments_fold_and_reopen(store: EntryStore, make_entry: MakeEntry) -> None:
    entries = [
        store.record(make_entry(captured_at=at(7))),
        store.record(make_entry(captured_at=at(7, 30), direction=Direction.OUT, reasons=(Reason.LEAVING,))),
        store.record(denied(make_entry, captured_at=at(12))),
        store.record(make_entry(captured_at=at(23, 59))),
        store.record(make_entry(captured_at=at(8, day="2026-11-29"))),
    ]
    assert store.counts(DAY) == recount(entries[:4])
    entries[0] = store.record(entries[0].amended(verdict=Verdict.DENIED, reasons=(Reason.FEVER_REMEASURE,)))
    entries[0] = store.record(entries[0].amended(verdict=Verdict.REFERRED, reasons=(Reason.FEVER_REFERRED,)))
    expected = recount(entries[:4])
    assert expected == DayCounts(2, 1, 1, 1, 1, tuple(2 if h == 7 else int(h in (12, 23)) for h in range(24)))
    assert store.counts(DAY) == expected
    store.fold()
    entries[2] = store.record(entries[2].amended(verdict=Verdict.ADMITTED, reasons=(Reason.ON_ROSTER,)))
    expected = recount(entries[:4])
    assert store.counts(DAY) == expected
    store = reopen(store)
    assert store.counts(DAY) == expected == recount(store.entries_of_day(DAY))
    assert store.counts("2026-11-29") == recount(entries[4:])
    assert store.counts("2026-11-30") == DayCounts()


def test_entries_between_honours_utc_offsets(store: EntryStore, make_entry: MakeEntry) -> None:
    late = store.record(make_entry(captured_at="2026-11-28T23:30:00+08:00"))
    early = store.record(make_entry(captured_at="2026-11-29T00:30:00+08:00"))
    noon = store.record(make_entry(captured_at="2026-11-29T12:00:00+08:00"))
    store.fold()
    after_fold = store.record(make_entry(captured_at="2026-11-29T12:00:01+08:00"))
    utc = UTC
    # 15:00Z on the 28th is 23:00 in Beijing: the window's dates differ from the entries' local dates
    assert store.entries_between(datetime(2026, 11, 28, 15, tzinfo=utc), datetime(2026, 11, 28, 17, tzinfo=utc)) == [
        late,
        early,
    ]
    beijing = timezone(timedelta(hours=8))
    morning = store.entries_between(datetime(2026, 11, 29, tzinfo=beijing), datetime(2026, 11, 29, 12, tzinfo=beijing))
    assert morning == [early], "the end is exclusive"
    assert store.entries_between(
        datetime(2026, 11, 29, 12, tzinfo=beijing), datetime(2026, 11, 29, 12, 0, 2, tzinfo=beijing)
    ) == [noon, after_fold]
    assert store.days() == ["2026-11-28", "2026-11-29"]


def test_audit_records_are_kept_by_day(store: EntryStore) -> None:
    store.audit("rejected_scan", "'abc'", at(7))
    store.fold()
    store.audit("bad_pin", "T1001", at(8))
    assert [r["kind"] for r in reopen(store).audit_of_day(DAY)] == ["rejected_scan", "bad_pin"]


# -- sequence numbers and purging ------------------------------------------------------------------------


def test_seq_never_reused_across_restart_fold_and_purge_all(store: EntryStore, make_entry: MakeEntry) -> None:
    seen: set[int] = set()

    def add(count: int) -> None:
        for _ in range(count):
            seq = store.record(make_entry(captured_at=at(7, day="2026-10-01"))).seq
            assert seq not in seen
            seen.add(seq)

    add(3)
    store = reopen(store)
    add(2)
    store.fold()
    add(1)
    store = reopen(store)
    add(1)
    store.mark_acked([(e.entry_id, 0) for e in store.unsynced_batch(100)], at=at(8))
    assert store.purge(older_than_days=30, today=date(2026, 11, 28)) == 7
    assert store.entries_of_day("2026-10-01") == [] and store.days() == []
    assert not list((store.root / "entries").glob("*.json"))
    add(1)
    store = reopen(store)
    add(1)
    store.mark_acked([(e.entry_id, 0) for e in store.unsynced_batch(100)], at=at(8))
    store.purge(older_than_days=30, today=date(2026, 11, 28))
    (store.root / "meta.json").unlink()  # even the summary gone: the journal header remembers
    store = reopen(store)
    add(1)
    assert sorted(seen) == list(range(1, 11))


def test_purge_removes_only_old_acknowledged_entries(store: EntryStore, make_entry: MakeEntry) -> None:
    old_acked = store.record(make_entry(captured_at=at(7, day="2026-10-01")))
    old_unsynced = store.record(make_entry(captured_at=at(8, day="2026-10-01")))
    recent_acked = store.record(make_entry(captured_at=at(7, day="2026-11-20")))
    store.audit("rejected_scan", "x", at(7, day="2026-10-01"))
    store.mark_acked([(old_acked.entry_id, 0), (recent_acked.entry_id, 0)], at=at(9))
    assert store.purge(older_than_days=30, today=date(2026, 11, 28)) == 1
    store = reopen(store)
    assert store.entries_of_day("2026-10-01") == [old_unsynced]
    assert store.unsynced_batch(10) == [old_unsynced]
    assert [e.entry_id for e in store.entries_of_day("2026-11-20")] == [recent_acked.entry_id]
    assert store.audit_of_day("2026-10-01") == []


def test_files_are_private(tmp_path: Path, make_entry: MakeEntry) -> None:
    os.umask(0o022)
    store = EntryStore(tmp_path / "data")
    entry = store.record(make_entry())
    store.audit("rejected_scan", "x", at(7))
    store.fold()
    store.mark_acked([(entry.entry_id, 0)], at=at(8))
    store.close()
    paths = list((tmp_path / "data").rglob("*"))
    assert {p.name for p in paths} >= {"journal.jsonl", "meta.json", "store.lock", f"{DAY}.00000.json"}
    for path in paths:
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


def test_a_data_dir_holding_other_files_is_refused_and_never_chmodded(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    (shared / "thesis.docx").write_bytes(b"not the kiosk's")
    with pytest.raises(StoreError, match="thesis.docx"):
        EntryStore(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert sorted(p.name for p in shared.iterdir()) == ["thesis.docx"], "nothing created in it"


def test_an_existing_empty_data_dir_is_adopted_with_its_mode_unchanged(tmp_path: Path, make_entry: MakeEntry) -> None:
    given = tmp_path / "given"
    given.mkdir()
    os.chmod(given, 0o750)
    store = EntryStore(given)
    store.record(make_entry())
    store.close()
    assert stat.S_IMODE(given.stat().st_mode) == 0o750
    assert len(EntryStore(given).entries_of_day(DAY)) == 1, "adopted once, it stays the store's own"


# -- damaged files ---------------------------------------------------------------------------------------


def _aside(directory: Path, name: str) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.startswith(f"{name}.corrupt-")]


def _folded_store(tmp_path: Path, make_entry: MakeEntry) -> tuple[Path, list[Entry]]:
    store = EntryStore(tmp_path / "data")
    entries = [store.record(make_entry(captured_at=at(7, i))) for i in range(5)]
    store.fold()
    store.close()
    return tmp_path / "data", entries


@pytest.mark.parametrize(
    ("damage", "kept"),
    [
        pytest.param(lambda raw: raw[: len(raw) // 2], 2, id="truncated"),
        pytest.param(lambda raw: raw + b'{"junk": 1}', 5, id="junk-appended"),
        pytest.param(lambda raw: b"", 0, id="zero-bytes"),
        pytest.param(lambda raw: b"\x00" * len(raw), 0, id="zeroed"),
    ],
)
def test_damaged_chunk_keeps_its_intact_entries_and_notes_the_lost_ones(
    tmp_path: Path, make_entry: MakeEntry, damage: Callable[[bytes], bytes], kept: int
) -> None:
    data, entries = _folded_store(tmp_path, make_entry)
    chunk = data / "entries" / f"{DAY}.00000.json"
    chunk.write_bytes(damage(chunk.read_bytes()))
    store = EntryStore(data)
    assert store.entries_of_day(DAY) == entries[:kept]
    assert any(chunk.stem in w and "damaged" in w for w in store.warnings), store.warnings
    report = store.check()
    assert not report.clean and report.lost_pending == [e.seq for e in entries[kept:]]
    assert len(_aside(chunk.parent, chunk.name)) == 1, "the damaged original is kept aside"
    assert store.record(make_entry()).seq == 6, "the sequence goes on past the lost entries"
    store.fold()
    store = reopen(store)
    assert [e.seq for e in store.entries_of_day(DAY)] == [e.seq for e in entries[:kept]] + [6]
    assert store.lost_seqs() == [e.seq for e in entries[kept:]], "the loss is remembered until settled"


def test_damaged_journal_line_in_the_middle_keeps_the_records_after_it(tmp_path: Path, make_entry: MakeEntry) -> None:
    for garble in (b"", b"garbage", b"\x00" * 40):
        data = tmp_path / f"case{len(garble)}"
        store = EntryStore(data)
        for _ in range(5):
            store.record(make_entry())
        store.close()
        journal = data / "journal.jsonl"
        lines = journal.read_bytes().split(b"\n")
        lost = lines[3]
        lines[3] = garble  # the header is line 0: this is the third entry
        journal.write_bytes(b"\n".join(lines))
        store = EntryStore(data)
        assert any("journal damaged" in w for w in store.warnings), garble
        assert [e.seq for e in store.entries_of_day(DAY)] == [1, 2, 4, 5], garble
        assert store.lost_seqs() == [3], "an intact entry after the damage bounds what was lost"
        aside = _aside(data, "journal.jsonl")
        assert len(aside) == 1 and lost not in aside[0].read_bytes() and lines[4] in aside[0].read_bytes()
        assert store.record(make_entry()).seq == 6
        store = reopen(store)
        assert [e.seq for e in store.entries_of_day(DAY)] == [1, 2, 4, 5, 6]
        store.close()


def test_a_damaged_journal_tail_never_lets_its_sequence_numbers_be_reused(
    store: EntryStore, make_entry: MakeEntry
) -> None:
    entries = [store.record(make_entry()) for _ in range(3)]
    store.close()
    journal = store.root / "journal.jsonl"
    whole = journal.read_bytes()
    last_line = whole.rindex(b"\n", 0, len(whole) - 1) + 1
    journal.write_bytes(whole[: last_line + 30])  # the last entry's line, cut short
    store = EntryStore(store.root)
    assert any("journal damaged" in w for w in store.warnings)
    assert store.entries_of_day(DAY) == entries[:2]
    new = store.record(make_entry())
    assert new.seq > 3, "the lost entry had seq 3, and it may have reached the center"
    assert 3 in store.lost_seqs() and new.seq - 1 in store.lost_seqs()
    assert [e.seq for e in reopen(store).entries_of_day(DAY)] == [1, 2, new.seq]


def test_a_writer_torn_mid_append_does_not_swallow_the_next_record(tmp_path: Path, make_entry: MakeEntry) -> None:
    """A process killed in the middle of an append leaves a partial line; a live store appends after it."""
    app = EntryStore(tmp_path)
    first = app.record(make_entry())
    with open(tmp_path / "journal.jsonl", "ab") as journal:
        journal.write(b'0badc0de {"op":"put","entry":{"entry_id":')
    second = app.record(make_entry())
    app.close()
    assert EntryStore(tmp_path).entries_of_day(DAY) == [first, second]


@pytest.mark.parametrize(
    "content", [b"", b'{"chunks": {"x": ', b"[]", b'{"chunks": {}, "last_seq": 2}garbage', b"\x00" * 9], ids=str
)
def test_damaged_meta_is_rebuilt(tmp_path: Path, make_entry: MakeEntry, content: bytes) -> None:
    data, entries = _folded_store(tmp_path, make_entry)
    (data / "meta.json").write_bytes(content)
    store = EntryStore(data)
    assert len(store.warnings) == 1 and "rebuilt" in store.warnings[0]
    assert len(_aside(data, "meta.json")) == 1
    assert store.entries_of_day(DAY) == entries
    assert [e.seq for e in store.unsynced_batch(10)] == [1, 2, 3, 4, 5]
    assert store.record(make_entry()).seq == 6
    assert store.check().clean


def test_stale_meta_after_a_crash_between_fold_steps(tmp_path: Path, make_entry: MakeEntry) -> None:
    """meta.json is derived: one that lags behind the chunk files must not hide unsynced entries."""
    data, entries = _folded_store(tmp_path, make_entry)
    stale = (data / "meta.json").read_bytes()
    store = EntryStore(data)
    store.mark_acked([(e.entry_id, 0) for e in entries], at=at(9))
    store.fold()
    store.record(make_entry())
    store.fold()
    store.close()
    (data / "meta.json").write_bytes(stale)
    store = EntryStore(data)
    assert [e.seq for e in store.unsynced_batch(10)] == [6]
    assert store.record(make_entry()).seq == 7


def test_damaged_notices_file_is_moved_aside(tmp_path: Path) -> None:
    notices = NoticeStore(tmp_path)
    notice = Notice("n1", "通知", "https://news.bnu.edu.cn/1", "2026-11-28T08:00:00+08:00", "center")
    notices.add(notice)
    (tmp_path / "notices.json").write_bytes((tmp_path / "notices.json").read_bytes()[:-3])
    fresh = NoticeStore(tmp_path)
    assert fresh.all() == [] and "moved to notices.json.corrupt-" in fresh.warnings[0]
    fresh.add(notice)
    assert NoticeStore(tmp_path).all() == [notice]


# -- two processes -----------------------------------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import sys, time
    from dataclasses import replace
    from pathlib import Path
    from kiosk.domain.models import Direction, Entry, Method, Reason, Role, Verdict, new_entry_id
    from storage.entries import EntryStore

    data, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = EntryStore(data)
    mine = []
    for i in range(count):
        entry = Entry(new_entry_id(), "test-01", 0, f"{name}-{i}", Role.STUDENT, name, Method.KEYBOARD_SCAN,
                      Direction.IN, "2026-11-28T07:30:00+08:00", time.monotonic(),
                      Verdict.DENIED if i % 5 == 0 else Verdict.ADMITTED, (Reason.ON_ROSTER,), "t", name)
        mine.append(store.record(entry))
        if i % 7 == 3:
            store.record(mine[-2].amended(operator=f"{name}-amended"))
        if i % 3 == 0:
            batch = store.unsynced_batch(4)
            store.mark_acked([(e.entry_id, e.revision) for e in batch], at="2026-11-28T08:00:00+08:00")
        if i % 25 == 24:
            store.fold()
        if i % 10 == 0:
            assert store.counts("2026-11-28").admitted + store.counts("2026-11-28").denied >= len(mine)
    print(" ".join(e.entry_id for e in mine))
    """
)


def test_two_processes_write_ack_and_fold_without_losing_anything(tmp_path: Path) -> None:
    count = 150
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path), name, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for name in ("app", "nightly")
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    written = {name: out.split() for name, (out, _) in zip(("app", "nightly"), outputs, strict=True)}
    store = EntryStore(tmp_path)
    stored = store.entries_of_day(DAY)
    assert len(stored) == 2 * count
    assert sorted(e.seq for e in stored) == list(range(1, 2 * count + 1)), "every seq used exactly once"
    assert {e.entry_id for e in stored} == set(written["app"]) | set(written["nightly"])
    amended = [e for e in stored if e.operator.endswith("-amended")]
    assert len(amended) == 2 * sum(1 for i in range(count) if i % 7 == 3)
    assert all(e.revision == 1 for e in amended)
    assert store.counts(DAY) == recount(stored)
    unsynced = [e for e in stored if e.acked_at is None]
    assert store.unsynced_count() == len(unsynced)
    assert {e.entry_id for e in store.unsynced_batch(10_000)} == {e.entry_id for e in unsynced}
    assert store.warnings == []


# -- full disk -------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB file system (tmpfs), so that ENOSPC comes from the kernel."""
    mount = tmp_path / "small"
    mount.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount)],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (subprocess.CalledProcessError, FileNotFoundError, PermissionError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True, timeout=30)


BIG = "备注" * 400


def _fill_until_full(store: EntryStore, make_entry: MakeEntry) -> list[Entry]:
    """Record (folding when due, as the app does) until record() itself refuses."""
    recorded = []
    with pytest.raises(StoreFullError, match="disk full"):
        for _ in range(100_000):
            recorded.append(store.record(make_entry(name=BIG)))
            try:
                store.fold_if_due()
            except StoreFullError:
                pass  # a fold needs room for a new chunk file; the journal keeps everything meanwhile
    return recorded


def test_full_disk_refuses_loudly_and_keeps_everything(small_disk: Path, make_entry: MakeEntry) -> None:
    store = EntryStore(small_disk / "data")
    recorded = _fill_until_full(store, make_entry)
    assert len(recorded) > 50
    with pytest.raises(StoreFullError):
        store.record(make_entry(name=BIG))
    with pytest.raises(StoreFullError):
        store.fold()
    assert store.entries_of_day(DAY) == recorded
    store.close()
    again = EntryStore(small_disk / "data")
    assert again.entries_of_day(DAY) == recorded
    assert [e.seq for e in again.unsynced_batch(10_000)] == [e.seq for e in recorded]
    assert again.warnings == []
    again.close()
    # the administrator makes room: the store records and folds again, without a restart of the data
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_disk)], check=True, timeout=30)
    store = EntryStore(small_disk / "data")
    more = store.record(make_entry())
    assert more.seq == len(recorded) + 1
    store.fold()
    assert reopen(store).entries_of_day(DAY) == [*recorded, more]


FSIZE_WRITER = textwrap.dedent(
    """
    import resource, signal, sys, time
    from pathlib import Path
    from kiosk.domain.models import Direction, Entry, Method, Reason, Role, Verdict, new_entry_id
    from storage.entries import EntryStore
    from storage.files import StoreError, StoreFullError

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so that a write past the limit fails with EFBIG
    store = EntryStore(Path(sys.argv[1]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
    try:
        while True:
            entry = Entry(new_entry_id(), "test-01", 0, "2023000101", Role.STUDENT, "张三" * 200,
                          Method.KEYBOARD_SCAN, Direction.IN, "2026-11-28T07:30:00+08:00", time.monotonic(),
                          Verdict.ADMITTED, (Reason.ON_ROSTER,), "t", "T1001")
            print(store.record(entry).entry_id, flush=True)
            store.fold_if_due()
    except StoreFullError as exc:
        print("FULL", exc, flush=True)
    """
)


def test_file_size_limit_is_treated_like_a_full_disk(tmp_path: Path) -> None:
    """Where no tmpfs can be mounted, RLIMIT_FSIZE gives a real write failure (EFBIG) in a subprocess."""
    result = subprocess.run(
        [sys.executable, "-c", FSIZE_WRITER, str(tmp_path), str(256 * 1024)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    *ids, last = result.stdout.split("\n")[:-1]
    assert last.startswith("FULL") and "disk full" in last
    assert len(ids) > 50
    store = EntryStore(tmp_path)
    assert [e.entry_id for e in store.entries_of_day(DAY)] == ids


def test_load_numbered_writes_chunks_and_the_sequence_goes_on(store: EntryStore, make_entry: MakeEntry) -> None:
    live = store.record(make_entry())
    loaded = [
        make_entry(seq=seq, captured_at=at(8, day=day), acked_at=None if seq % 2 else at(9, day=day))
        for seq, day in ((2, "2026-11-27"), (3, DAY), (4, DAY), (5000, DAY))
    ]
    assert store.load_numbered(loaded) == 4
    assert store.record(make_entry()).seq == 5001
    store = reopen(store)
    assert [e.seq for e in store.entries_of_day(DAY)] == [1, 3, 4, 5000, 5001]
    assert store.entries_of_day("2026-11-27") == [loaded[0]]
    assert [e.seq for e in store.unsynced_batch(10)] == [1, 3, 5001]
    assert store.counts(DAY).admitted == 5 and live in store.entries_of_day(DAY)
    assert {p.name for p in (store.root / "entries").iterdir()} == {
        "2026-11-27.00000.json",
        f"{DAY}.00000.json",
        f"{DAY}.00001.json",
    }


def test_temp_files_of_killed_writers_are_removed_on_open(tmp_path: Path, make_entry: MakeEntry) -> None:
    data = tmp_path / "data"
    EntryStore(data).close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left_over = data / "entries" / f".2026-11-28.00000.json.{int(dead.stdout)}.tmp"
    left_over.write_bytes(b'{"entries": {')
    live = data / "entries" / f".2026-11-28.00000.json.{os.getppid()}.tmp"
    live.write_bytes(b"{}")
    reopened = EntryStore(data)
    assert not left_over.exists()
    assert live.exists(), "a temp file of a live process is still being written"
    assert reopened.record(make_entry()).seq == 1


def test_latest_reads_the_newest_entries_of_a_day(store: EntryStore, make_entry: MakeEntry) -> None:
    recorded = [store.record(make_entry(person_id=f"P{i}")) for i in range(10)]
    store.fold()
    amended = store.record(recorded[8].amended(verdict=Verdict.REFERRED))
    newer = store.record(make_entry(person_id="P10"))
    latest = store.latest("2026-11-28", 3)
    assert [e.seq for e in latest] == [newer.seq, recorded[9].seq, amended.seq]
    assert latest[2].verdict is Verdict.REFERRED
    assert store.latest("2026-11-27", 3) == []


def test_a_deferred_store_reads_its_indexes_on_load_or_first_use(tmp_path: Path, make_entry: MakeEntry) -> None:
    data = tmp_path / "data"
    first = EntryStore(data)
    first.record(make_entry())
    first.close()
    deferred = EntryStore(data, load=False)
    assert deferred.unsynced_count() == 1
    assert deferred.record(make_entry()).seq == 2


def test_a_record_lacking_a_field_is_damage_even_with_a_good_checksum(tmp_path: Path, make_entry: MakeEntry) -> None:
    """What a bug (or an older version) might write: the checksum holds, the record is still not believed."""
    from storage import records

    data, entries = _folded_store(tmp_path, make_entry)
    chunk = data / "entries" / f"{DAY}.00000.json"
    lines = chunk.read_bytes().split(b"\n")
    doc = json.loads(lines[2][9:])
    del doc["verdict"]
    lines[2] = records.encode(doc)[:-1]
    chunk.write_bytes(b"\n".join(lines))
    store = EntryStore(data)
    broken = make_entry(captured_at=at(9)).to_dict() | {"seq": 6}
    del broken["captured_at"]
    with open(data / "journal.jsonl", "ab") as journal:
        journal.write(records.encode({"op": "put", "entry": broken}))
    store = reopen(store)
    assert [e.seq for e in store.entries_of_day(DAY)] == [1, 3, 4, 5]
    assert store.lost_seqs() == [2, 6] and any("incomplete journal record" in w for w in store.warnings)
    assert store.record(make_entry()).seq == 7


def test_files_of_the_earlier_format_are_read_and_check_rewrites_them_with_checksums(
    tmp_path: Path, make_entry: MakeEntry
) -> None:
    data = tmp_path / "data"
    (data / "entries").mkdir(parents=True)
    (data / "audit").mkdir()
    entries = [
        make_entry(captured_at=at(7, i)).__class__.from_dict(
            make_entry(captured_at=at(7, i)).to_dict() | {"seq": i + 1}
        )
        for i in range(3)
    ]
    chunk = data / "entries" / f"{DAY}.00000.json"
    chunk.write_text(json.dumps({"entries": {str(e.seq): e.to_dict() for e in entries}}), encoding="utf-8")
    (data / "audit" / f"{DAY}.json").write_text(
        json.dumps({"audit": {"1": {"kind": "rejected_scan", "detail": "x", "at": at(8)}}}), encoding="utf-8"
    )
    (data / "meta.json").write_text(json.dumps({"chunks": {}, "last_seq": 3}), encoding="utf-8")
    store = EntryStore(data)
    assert store.entries_of_day(DAY) == entries and store.audit_of_day(DAY)[0]["detail"] == "x"
    assert store.warnings == [], "the earlier format is not damage"
    assert store.check().clean
    assert chunk.read_bytes()[:1] != b"{" and (data / "audit" / f"{DAY}.json").read_bytes()[:1] != b"{"
    store = reopen(store)
    assert store.entries_of_day(DAY) == entries and store.record(make_entry()).seq == 4


@pytest.mark.parametrize("lost", ["journal.jsonl", "meta.json", "seqs.json", f"entries/{DAY}.00000.json"])
def test_losing_any_one_file_never_lets_a_seq_be_given_twice(tmp_path: Path, make_entry: MakeEntry, lost: str) -> None:
    data, folded = _folded_store(tmp_path, make_entry)  # seqs 1-5 in a chunk file
    store = EntryStore(data)
    recent = [store.record(make_entry(captured_at=at(8, i))) for i in range(4)]  # seqs 6-9 in the journal only
    store.close()
    (data / lost).unlink()
    store = EntryStore(data)
    held = {e.seq for e in store.entries_of_day(DAY)}
    gone = {e.seq for e in folded + recent} - held
    report = store.check()
    assert gone <= set(report.lost_pending), "every entry the lost file held is reported lost"
    assert store.record(make_entry()).seq > 9, "no sequence number given twice"
    if lost in ("meta.json", "seqs.json"):
        assert not gone and report.lost_pending == [], "a summary file's loss loses no entry"

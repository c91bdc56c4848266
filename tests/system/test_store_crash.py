"""kill -9 a writer at random moments, folds included: whatever record() or mark_acked() acknowledged survives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from storage.entries import EntryStore

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 40

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from kiosk.domain.models import Direction, Entry, Method, Reason, Role, Verdict, new_entry_id
    from storage.entries import EntryStore

    store = EntryStore(Path(sys.argv[1]))
    print("OPEN", flush=True)
    i = 0
    while True:
        i += 1
        entry = Entry(new_entry_id(), "test-01", 0, f"p{i}", Role.STUDENT, "张三", Method.KEYBOARD_SCAN,
                      Direction.IN, f"2026-11-28T{7 + i % 12:02d}:30:00+08:00", time.monotonic(),
                      Verdict.DENIED if i % 4 == 0 else Verdict.ADMITTED, (Reason.ON_ROSTER,), "t", "T1001")
        entry = store.record(entry)
        print("R", entry.entry_id, flush=True)
        if i % 5 == 0:
            amended = store.record(entry.amended(operator="T2"))
            print("M", amended.entry_id, amended.revision, flush=True)
        if i % 3 == 0:
            batch = store.unsynced_batch(5)
            store.mark_acked([(e.entry_id, e.revision) for e in batch], at="2026-11-28T20:00:00+08:00")
            print("A", *(f"{e.entry_id}:{e.revision}" for e in batch), flush=True)
        if i % 8 == 0:
            store.fold()  # far more often than the app would, so that kills land inside folds
        if i % 50 == 0:
            store.audit("rejected_scan", str(i), "2026-11-28T09:00:00+08:00")
    """
)


@pytest.mark.slow
def test_kill_9_loop_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed = int(os.environ.get("CRASH_SEED", time.time_ns()))
    print(f"CRASH_SEED={seed}")  # shown on failure: rerun with it to replay the same kill times
    rng = random.Random(seed)
    recorded: set[str] = set()
    revisions: dict[str, int] = {}
    acked: dict[str, int] = {}
    deadline = time.monotonic() + 50
    rounds = 0
    while rounds < ROUNDS and time.monotonic() < deadline:
        rounds += 1
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            bufsize=0,  # unbuffered: readline takes only "OPEN\n", so the lines after it reach communicate()
        )
        assert writer.stdout is not None
        assert writer.stdout.readline() == b"OPEN\n", writer.stderr.read() if writer.stderr else ""
        time.sleep(rng.uniform(0.0, 0.4))
        writer.send_signal(signal.SIGKILL)
        out, err = writer.communicate(timeout=30)
        assert writer.returncode == -signal.SIGKILL, err.decode()
        for line in out.decode().split("\n")[:-1]:  # the last piece may be a line cut by the kill
            kind, *rest = line.split()
            if kind == "R":
                recorded.add(rest[0])
                revisions.setdefault(rest[0], 0)
            elif kind == "M":
                revisions[rest[0]] = max(revisions[rest[0]], int(rest[1]))
            elif kind == "A":
                for item in rest:
                    entry_id, revision = item.split(":")
                    acked[entry_id] = max(acked.get(entry_id, -1), int(revision))

        store = EntryStore(data)
        try:
            stored = {e.entry_id: e for e in store.entries_of_day("2026-11-28")}
            assert store.warnings == [], f"round {rounds}: {store.warnings}"
            missing = recorded - stored.keys()
            assert not missing, f"round {rounds}: {len(missing)} acknowledged entries lost"
            seqs = [e.seq for e in stored.values()]
            assert len(seqs) == len(set(seqs)), f"round {rounds}: a sequence number was reused"
            assert all(stored[i].revision >= r for i, r in revisions.items()), f"round {rounds}: amendment lost"
            for entry_id, revision in acked.items():
                entry = stored[entry_id]
                assert entry.revision > revision or entry.acked_at is not None, f"round {rounds}: ack lost"
        finally:
            store.close()
    assert rounds >= 20, "too few rounds to mean anything"
    assert len(recorded) > 100
    leftovers = [p.name for p in data.rglob(".*.tmp")]
    assert len(leftovers) <= rounds, leftovers

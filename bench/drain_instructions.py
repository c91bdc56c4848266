"""Instructions each side of a backlog drain executes (callgrind): a measure other work on the machine cannot move.

Run: .venv/bin/python bench/drain_instructions.py [--entries 50000] [--batch 500] [--tree /tmp/before ...]

Both sides run in-process, without HTTP, under `valgrind --tool=callgrind`:
- station: batches read from a pre-filled EntryStore (as `EntryStore.load_numbered` leaves a backlog), the push
  body built, the batch marked acknowledged: what `Syncer.push` does around its requests.
- center: `api.receive_entries` on pre-encoded bodies of --batch entries, denied first as a station sends them,
  into a fresh SQLite database (checks, rows, upsert, summaries, commit).
Each side is also run with the set-up only (imports, opening the store or the database); the table shows the
difference. Every --tree (a worktree of another commit; default: the one this file is in) is measured with the
same backlog and bodies. Needs valgrind; 50k entries take a few minutes a run.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AT = "2026-12-02T10:00:00+08:00"


def prepare(work: Path, count: int, batch: int) -> None:
    """The station's backlog and the center's push bodies, made once for every tree."""
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT / "tests" / "system"))
    from sync import entry, make_backlog  # bench/sync.py

    make_backlog(work / "station", "s1", count)
    start = datetime.now().astimezone() - timedelta(days=3)
    docs = [entry("s1", seq, start + timedelta(seconds=seq // 4)).to_dict() for seq in range(1, count + 1)]
    docs.sort(key=lambda doc: (doc["verdict"] != "denied", doc["seq"]))
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    bodies = [json.dumps({"entries": docs[i : i + batch]}, **compact).encode() for i in range(0, count, batch)]
    (work / "bodies.pickle").write_bytes(pickle.dumps(bodies))


def child(side: str, tree: Path, data: Path, drain: bool, batch: int) -> None:
    """One measured run, in the process valgrind started: `tree`'s code on a copy of the prepared data."""
    sys.path.insert(0, str(tree))
    if side == "station":
        from kiosk.station import sync
        from storage.entries import EntryStore

        store = EntryStore(data / "station")
        while drain:
            if hasattr(store, "unsynced_json"):
                texts = store.unsynced_json(batch)
                docs = [doc for doc, _ in texts]
                sync._body(text for _, text in texts)
            else:  # before the store gave the documents' JSON: the Syncer encoded each batch
                docs = store.unsynced_documents(batch)
                sync._encode(docs)  # type: ignore[attr-defined]
            if not docs:
                break
            store.mark_acked([sync._key(doc) for doc in docs], AT)
        store.close()
    else:
        from kiosk.center.api import receive_entries
        from kiosk.center.db import Database
        from kiosk.center.entries import Receiver

        bodies = pickle.loads((data / "bodies.pickle").read_bytes()) if drain else []
        receiver = Receiver(Database(f"sqlite:///{data / 'center.db'}"))
        for body in bodies:
            receive_entries(receiver, "s1", body)


def instructions(work: Path, side: str, tree: Path, drain: bool, batch: int) -> int:
    """Instructions of one child run under callgrind, on its own copy of the prepared data."""
    run = Path(tempfile.mkdtemp(dir=work))
    shutil.copytree(work / "station", run / "station")
    shutil.copy(work / "bodies.pickle", run / "bodies.pickle")
    out = run / "callgrind.out"
    command = [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
        sys.executable, __file__, "--child", side, str(tree), str(run), "drain" if drain else "open", str(batch),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, cwd=run)
    found = re.search(rb"^(?:summary|totals): (\d+)", out.read_bytes(), re.MULTILINE)
    assert found, "no totals in the callgrind output"
    shutil.rmtree(run)
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--tree", action="append", type=Path, help="a worktree to measure (repeatable)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        side, tree, data, mode, batch = args.child
        child(side, Path(tree), Path(data), mode == "drain", int(batch))
        return
    trees = [tree.resolve() for tree in args.tree or [ROOT]]
    with tempfile.TemporaryDirectory(prefix="bench-drain-", dir="/var/tmp") as tmp:
        work = Path(tmp)
        prepare(work, args.entries, args.batch)
        runs = [(tree, side, drain) for tree in trees for side in ("station", "center") for drain in (False, True)]
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            counts = list(pool.map(lambda run: instructions(work, run[1], run[0], run[2], args.batch), runs))
    found = dict(zip(runs, counts, strict=True))
    print(f"{datetime.now():%Y-%m-%d %H:%M}, {args.entries} entries, batch {args.batch}")
    print("| tree | side | instructions (drain minus set-up) |")
    print("|---|---|---|")
    for tree in trees:
        for side in ("station", "center"):
            print(f"| {tree} | {side} | {(found[tree, side, True] - found[tree, side, False]) / 1e9:.2f} G |")


if __name__ == "__main__":
    main()

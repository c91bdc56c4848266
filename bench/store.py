"""Benchmark of the entry store: insert latency against history size, queries and memory at 1M entries.

Run: .venv/bin/python bench/store.py [--reps 5] [--work /tmp/bench-store] [--sizes 1000,100000,1000000]

Each scenario runs in its own subprocess so that its peak RSS is its own. Stores are pre-filled once (and kept
in --work between runs, one per file format) through `EntryStore.load_numbered`, which writes the chunk files the
way a fold does. Scenarios that write (insert, memory) run on a scratch copy, so the cached store is left as it was
found. TinyDB's default JSONStorage is measured in the same run for comparison. "scan during fold" is the worst
`record()` while a fold of ~1,300 entries over 30 days runs in another thread: what a scan waits for a fold.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.domain.models import Direction, Entry, Method, Person, Reason, Role, Verdict, new_entry_id  # noqa: E402
from storage.entries import EntryStore  # noqa: E402
from storage.roster import RosterStore  # noqa: E402

DAYS = 30
TODAY = date(2026, 11, 28)
BACKLOG = 1000
"""Entries at the end of the pre-filled history still waiting for the center."""
INSERTS = 1000
SIZES = (1_000, 100_000, 1_000_000)
TINYDB_SIZES = ((1_000, 1000), (10_000, 200))
"""(pre-filled documents, inserts timed): at 10k each TinyDB insert rewrites ~4.5 MB, so fewer are timed."""


def make_entry(seq: int, day: date, second: int, acked: bool) -> Entry:
    """A realistic entry: a student scanned at a canteen gate, now and then a fever reading or a denial."""
    hour, rest = divmod(6 * 3600 + second % (16 * 3600), 3600)
    captured = f"{day.isoformat()}T{hour:02d}:{rest // 60:02d}:{rest % 60:02d}+08:00"
    denied = seq % 40 == 0
    return Entry(
        entry_id=new_entry_id(),
        station_id="bnu-hd-canteen5-east",
        seq=seq,
        person_id=f"2023{seq % 50_000:06d}",
        role=Role.STUDENT,
        name="欧阳娜娜",
        method=Method.SERIAL_SCAN,
        direction=Direction.IN if seq % 3 else Direction.OUT,
        captured_at=captured,
        monotonic=float(seq),
        verdict=Verdict.DENIED if denied else Verdict.ADMITTED,
        reasons=(Reason.NO_RETURN_APPROVAL,) if denied else (Reason.ON_ROSTER,),
        rules_version="2026.11-1",
        operator="T1001",
        acked_at=f"{day.isoformat()}T23:00:00+08:00" if acked else None,
    )


def history(total: int) -> Iterator[list[Entry]]:
    """`total` entries over DAYS days ending today, one list per day; the last BACKLOG unsynced."""
    per_day = -(-total // DAYS)
    seq = 0
    for offset in range(DAYS - 1, -1, -1):
        day = TODAY - timedelta(days=offset)
        batch = []
        for i in range(min(per_day, total - seq)):
            seq += 1
            batch.append(make_entry(seq, day, i * 57_600 // per_day, acked=seq <= total - BACKLOG))
        if batch:
            yield batch


FORMAT = "v2"
"""The store's file format: checksummed records (v1: plain TinyDB JSON). A cached store is kept per format."""


def prefill(work: Path, total: int) -> Path:
    path = work / f"store-{FORMAT}-{total}"
    done = path / "PREFILLED"
    if done.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    store = EntryStore(path)
    for batch in history(total):
        store.load_numbered(batch)
    store.close()
    done.write_text(str(total))
    return path


def roster_file(work: Path) -> Path:
    path = work / f"roster-50k-{FORMAT}"
    if not (path / "roster.json").exists():
        people = (
            Person(f"2023{i:06d}", f"学生{i:05d}", Role.STUDENT, "海淀校园", f"{i % 40}号楼", return_approved=i % 3 > 0)
            for i in range(50_000)
        )
        RosterStore(path).replace_all(people, version="bench")
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6  # noqa: E731
    return {"p50": pick(0.50), "p99": pick(0.99), "max": ordered[-1] / 1e6}


# -- scenarios (each runs in a fresh interpreter) ------------------------------------------------------


def scratch_copy(path: Path) -> Path:
    """A copy of a cached store to write into, so that the cache stays as it was."""
    copy = path.with_name(path.name + "-scratch")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(path, copy)
    return copy


def scenario_insert(path: Path) -> dict[str, object]:
    """Record INSERTS entries one by one into an already filled store, as the gate does (fold_if_due after)."""
    path = scratch_copy(path)
    store = EntryStore(path)
    seq0 = store.last_seq
    record_ns, folds_ns = [], []
    for i in range(INSERTS):
        entry = make_entry(0, TODAY, 50_000 + i, acked=False)
        start = time.perf_counter_ns()
        store.record(entry)
        record_ns.append(time.perf_counter_ns() - start)
        start = time.perf_counter_ns()
        if store.fold_if_due():
            folds_ns.append(time.perf_counter_ns() - start)
    start = time.perf_counter_ns()
    store.fold()
    folds_ns.append(time.perf_counter_ns() - start)
    assert store.last_seq == seq0 + INSERTS
    during_ns = scan_during_fold(store)
    store.close()
    shutil.rmtree(path)
    return {
        **percentiles(record_ns),
        "fold_ms": max(folds_ns) / 1e6,
        "during_fold_ms": max(during_ns) / 1e6,
        "rss_mb": peak_rss_mb(),
    }


def scan_during_fold(store: EntryStore) -> list[int]:
    """Each `record()` made while a fold of ~1,300 entries over 30 days runs in another thread (ns)."""
    for i in range(1300):
        store.record(make_entry(0, TODAY - timedelta(days=i % DAYS), 40_000 + i, acked=False))
    fold = threading.Thread(target=store.fold)
    samples = []
    fold.start()
    while fold.is_alive():
        start = time.perf_counter_ns()
        store.record(make_entry(0, TODAY, 70_000 + len(samples), acked=False))
        samples.append(time.perf_counter_ns() - start)
    fold.join()
    return samples or [0]


def scenario_tinydb(path: Path, total: int, inserts: int) -> dict[str, object]:
    """TinyDB(path) with its default JSONStorage, pre-filled with `total` documents, then `inserts` inserts."""
    from tinydb import TinyDB

    path.unlink(missing_ok=True)
    db = TinyDB(path)
    db.insert_multiple(make_entry(seq, TODAY, seq, acked=True).to_dict() for seq in range(1, total + 1))
    samples = []
    for i in range(inserts):
        doc = make_entry(total + i + 1, TODAY, i, acked=False).to_dict()
        start = time.perf_counter_ns()
        db.insert(doc)
        samples.append(time.perf_counter_ns() - start)
    db.close()
    return {**percentiles(samples), "rss_mb": peak_rss_mb()}


def scenario_queries(path: Path) -> dict[str, object]:
    """Cost of each query the station and scripts make, at the store's size (best of 3 for the warm ones)."""
    timings: dict[str, float] = {}

    def timed(name: str, call, repeat: int = 1) -> object:  # noqa: ANN001
        best, result = float("inf"), None
        for _ in range(repeat):
            start = time.perf_counter_ns()
            result = call()
            best = min(best, (time.perf_counter_ns() - start) / 1e6)
        timings[name] = best
        return result

    store = timed("open", lambda: EntryStore(path))
    unsynced = store.unsynced_count()
    today = TODAY.isoformat()
    batch = timed("unsynced_batch(500)", lambda: store.unsynced_batch(500), 3)
    assert len(batch) == 500
    timed("counts(today) first", lambda: store.counts(today))
    timed("counts(today) cached", lambda: store.counts(today), 3)
    day = timed("entries_of_day(today)", lambda: store.entries_of_day(today), 3)
    start = datetime.fromisoformat(f"{today}T12:00:00+08:00")
    window = timed("entries_between(1 h)", lambda: store.entries_between(start, start + timedelta(hours=1)), 3)
    assert 0 < len(window) < len(day)  # type: ignore[arg-type]
    store.close()
    return {"timings": timings, "day_entries": len(day), "unsynced": unsynced, "rss_mb": peak_rss_mb()}  # type: ignore[arg-type]


def scenario_memory(path: Path, roster: Path) -> dict[str, object]:
    """What the station holds: a 50k roster and a filled entry store, in use (counts, unsynced, records)."""
    path = scratch_copy(path)
    people = RosterStore(roster)
    assert len(people) == 50_000
    get_ns = []
    for i in range(0, 50_000, 50):
        start = time.perf_counter_ns()
        people.get(f"2023{i:06d}")
        get_ns.append(time.perf_counter_ns() - start)
    start = time.perf_counter_ns()
    found = people.search("学生4999")
    search_ms = (time.perf_counter_ns() - start) / 1e6
    assert found
    store = EntryStore(path)
    store.counts(TODAY.isoformat())
    store.unsynced_batch(500)
    for i in range(100):
        store.record(make_entry(0, TODAY, 60_000 + i, acked=False))
    store.close()
    shutil.rmtree(path)
    return {"rss_mb": peak_rss_mb(), "roster_get_us": statistics.median(get_ns) / 1e3, "roster_search_ms": search_ms}


# -- driver ------------------------------------------------------------------------------------------


def run(args: list[str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, __file__, "--scenario", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"scenario {args} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def median_of(runs: list[dict[str, object]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-store"))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="stored entries, comma-separated")
    parser.add_argument("--no-tinydb", action="store_true", help="skip TinyDB's own storage (slow, never changes)")
    parser.add_argument("--scenario", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = tuple(int(size) for size in args.sizes.split(","))
    if args.scenario:
        kind, *rest = args.scenario
        if kind == "prefill":
            print(json.dumps({"path": str(prefill(Path(rest[0]), int(rest[1])))}))
        elif kind == "insert":
            print(json.dumps(scenario_insert(Path(rest[0]))))
        elif kind == "tinydb":
            print(json.dumps(scenario_tinydb(Path(rest[0]), int(rest[1]), int(rest[2]))))
        elif kind == "queries":
            print(json.dumps(scenario_queries(Path(rest[0]))))
        elif kind == "memory":
            print(json.dumps(scenario_memory(Path(rest[0]), roster_file(Path(rest[1])))))
        return

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    size = len(json.dumps(make_entry(1, TODAY, 0, True).to_dict(), ensure_ascii=False, separators=(",", ":")))
    print(f"entry: {size} bytes of JSON; {INSERTS} inserts per run, median of {args.reps} runs")
    print(f"load average: {Path('/proc/loadavg').read_text().split()[0:3]}")
    print(
        f"{'store':<28} {'stored':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'fold ms':>8} "
        f"{'scan during fold':>16} {'RSS MB':>7}"
    )
    paths, prefill_s = {}, {}
    for total in sizes:
        start = time.monotonic()
        paths[total] = Path(str(run(["prefill", str(work), str(total)])["path"]))
        prefill_s[total] = time.monotonic() - start
    # Interleave the sizes in every repetition, so that a noisy moment of the shared disk hits all of them.
    by_size: dict[int, list[dict[str, object]]] = {total: [] for total in sizes}
    for _ in range(args.reps):
        for total in sizes:
            by_size[total].append(run(["insert", str(paths[total])]))
    p99: dict[int, float] = {}
    for total, runs in by_size.items():
        p99[total] = median_of(runs, "p99")
        print(
            f"{'EntryStore (journal+chunks)':<28} {total:>9,} {median_of(runs, 'p50'):>8.3f} {p99[total]:>8.3f} "
            f"{median_of(runs, 'max'):>8.2f} {median_of(runs, 'fold_ms'):>8.1f} "
            f"{median_of(runs, 'during_fold_ms'):>16.2f} {median_of(runs, 'rss_mb'):>7.1f}"
            f"   (pre-fill {prefill_s[total]:.0f} s)"
        )
    for total, inserts in () if args.no_tinydb else TINYDB_SIZES:
        runs = [run(["tinydb", str(work / "tinydb.json"), str(total), str(inserts)]) for _ in range(args.reps)]
        print(
            f"{'TinyDB JSONStorage':<28} {total:>9,} {median_of(runs, 'p50'):>8.3f} {median_of(runs, 'p99'):>8.3f} "
            f"{median_of(runs, 'max'):>8.2f} {'-':>8} {median_of(runs, 'rss_mb'):>7.1f}   ({inserts} inserts)"
        )
    largest, smallest = max(sizes), min(sizes)
    print(
        f"p99 at {largest:,} / p99 at {smallest:,}: {p99[largest] / p99[smallest]:.2f} "
        "(goal at 1M / 1k <= 1.5; p99 at 1M goal <= 3 ms)"
    )
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[0:3]}")

    big = paths[largest]
    queries = [run(["queries", str(big)]) for _ in range(args.reps)]
    print(
        f"\nqueries at {largest:,} entries ({queries[0]['day_entries']:,} today, "
        f"{queries[0]['unsynced']:,} unsynced), ms:"
    )
    for name in queries[0]["timings"]:  # type: ignore[union-attr]
        values = [q["timings"][name] for q in queries]  # type: ignore[index]
        print(f"  {name:<26} {statistics.median(values):>8.2f}")
    memory = [run(["memory", str(big), str(work)]) for _ in range(args.reps)]
    print(
        f"\n50k roster + {largest:,} entries, in use: peak RSS {median_of(memory, 'rss_mb'):.1f} MB (goal <= 120); "
        f"roster get {median_of(memory, 'roster_get_us'):.1f} µs, search by name "
        f"{median_of(memory, 'roster_search_ms'):.1f} ms"
    )


if __name__ == "__main__":
    main()

"""Benchmark of sync: one station draining a long offline backlog, and many stations pushing at once.

Run: .venv/bin/python bench/sync.py [--entries 100000] [--stations 200] [--db sqlite,postgresql]

The center is the real one (`kiosk center serve` in a subprocess on loopback, tests/system/servers.py), on
SQLite and on a PostgreSQL cluster started for the run (fsync on). The station side is the real Syncer over a
real EntryStore whose backlog is pre-filled through `EntryStore.load_numbered` (as a fold leaves it).

Goals: 100k entries drained in <= 10 s on SQLite; >= 20k entries/s into PostgreSQL; 200 stations pushing
concurrently with p99 <= 200 ms and no errors. Client and center share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "system"))

import httpx  # noqa: E402
from servers import Center, fresh_postgres_database, run_center, start_postgres  # noqa: E402

from kiosk.config import CenterConfig  # noqa: E402
from kiosk.models import Direction, Entry, Method, Reason, Role, Verdict, new_entry_id  # noqa: E402
from kiosk.sync import Syncer, wire_entry  # noqa: E402
from storage.entries import EntryStore  # noqa: E402
from storage.notices import NoticeStore  # noqa: E402
from storage.roster import RosterStore  # noqa: E402

OFFLINE_DAYS = 3
PER_PUSH = 20
"""Entries in each push of the many-stations scenario: a busy gate's 15 seconds at 7 a.m."""


@dataclass
class Row:
    scenario: str
    db: str
    detail: str
    value: str
    goal: str
    met: bool | None


def entry(station_id: str, seq: int, captured: datetime) -> Entry:
    verdict = Verdict.DENIED if seq % 17 == 0 else Verdict.ADMITTED
    return Entry(
        entry_id=new_entry_id(),
        station_id=station_id,
        seq=seq,
        person_id=f"2023{seq % 40000:06d}",
        role=Role.STUDENT,
        name="张三",
        method=Method.SERIAL_SCAN,
        direction=Direction.IN,
        captured_at=captured.isoformat(timespec="seconds"),
        monotonic=float(seq),
        verdict=verdict,
        reasons=(Reason.NOT_ON_ROSTER,) if verdict is Verdict.DENIED else (Reason.ON_ROSTER,),
        rules_version="bench",
        operator="T1001",
        offline=True,
    )


def make_backlog(path: Path, station_id: str, count: int) -> None:
    """A station that was offline for days: `count` unacknowledged entries folded into chunk files."""
    start = datetime.now().astimezone().replace(hour=7, minute=0, second=0, microsecond=0)
    start -= timedelta(days=OFFLINE_DAYS)
    per_day = -(-count // OFFLINE_DAYS)
    store = EntryStore(path)
    try:
        store.load_numbered(
            entry(station_id, seq, start + timedelta(days=(seq - 1) // per_day, seconds=((seq - 1) % per_day) // 4))
            for seq in range(1, count + 1)
        )
    finally:
        store.close()


def drain(center: Center, db: str, template: Path, count: int, batch_size: int, work: Path) -> list[Row]:
    station_id = f"drain-{batch_size}"
    token = center.add_station(station_id)
    data = work / f"{db}-{station_id}"
    shutil.copytree(template, data)
    store = EntryStore(data)
    config = CenterConfig(url=center.url, batch_size=batch_size, timeout=60.0)
    syncer = Syncer(config, station_id, store, RosterStore(data), NoticeStore(data), token)
    try:
        started = time.perf_counter()
        result = syncer.push()
        seconds = time.perf_counter() - started
        left = store.unsynced_count()
    finally:
        syncer.close()
        store.close()
    ok = result.error is None and result.count == count and left == 0
    rate = count / seconds
    goal, met = ("<= 10 s", seconds <= 10) if db == "sqlite" else (">= 20k entries/s", rate >= 20_000)
    detail = f"{count} entries, batch {batch_size}" + ("" if ok else f" INCOMPLETE: {result.error} left {left}")
    return [Row("drain backlog", db, detail, f"{seconds:.1f} s = {rate:,.0f} entries/s", goal, met and ok)]


async def one_station(
    url: str, station_id: str, token: str, pushes: int, interval: float, burst: bool, rand: random.Random
) -> tuple[list[float], int]:
    """Push `pushes` batches, every `interval` seconds from a random phase (all at once when `burst`)."""
    latencies: list[float] = []
    errors = 0
    now = datetime.now().astimezone()
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        if not burst:
            await asyncio.sleep(rand.uniform(0, interval))
        for push in range(pushes):
            started = time.perf_counter()
            batch = [wire_entry(entry(station_id, push * PER_PUSH + i + 1, now)) for i in range(PER_PUSH)]
            try:
                reply = await client.post(f"/api/v1/stations/{station_id}/entries", json={"entries": batch})
                results = reply.json()["results"] if reply.status_code == 200 else []
                errors += len(results) != len(batch) or any(r["status"] != "stored" for r in results)
            except (httpx.HTTPError, ValueError, KeyError):
                errors += 1
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))
    return latencies, errors


def many_stations(center: Center, db: str, prefix: str, stations: int, pushes: int, interval: float) -> Row:
    """`stations` clients pushing `pushes` batches each; prefix "burst" starts them all at once."""
    burst = prefix == "burst"
    tokens = {f"{prefix}-{n:03d}": center.add_station(f"{prefix}-{n:03d}") for n in range(stations)}
    rand = random.Random(7)

    async def run() -> list[tuple[list[float], int]]:
        return await asyncio.gather(
            *(one_station(center.url, sid, token, pushes, interval, burst, rand) for sid, token in tokens.items())
        )

    started = time.perf_counter()
    outcomes = asyncio.run(run())
    seconds = time.perf_counter() - started
    latencies = sorted(ms * 1000 for lat, _ in outcomes for ms in lat)
    errors = sum(e for _, e in outcomes)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    detail = (
        f"{stations} stations x {pushes} pushes of {PER_PUSH}"
        + (", all at once" if burst else f", every {interval:g} s" if interval else ", back to back")
        + f" ({len(latencies) / seconds:.0f} req/s)"
    )
    value = f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {latencies[-1]:.0f} ms, errors {errors}"
    goal, met = ("p99 <= 200 ms, 0 errors", p99 <= 200 and errors == 0) if stations > 1 else ("-", None)
    return Row(f"{prefix} pushes", db, detail, value, goal, met)


@contextmanager
def database(kind: str, work: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{work / 'center.db'}"
        return
    with start_postgres() as server, fresh_postgres_database(server) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batches", default="500,5000", help="station batch sizes to drain with")
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--pushes", type=int, default=5)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between one station's pushes")
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-sync-", dir="/var/tmp") as tmp:
        work = Path(tmp)
        batches = [int(b) for b in args.batches.split(",")]
        templates = {b: work / f"template-{b}" for b in batches}
        for size, template in templates.items():
            make_backlog(template, f"drain-{size}", args.entries)
        for kind in args.db.split(","):
            kind_dir = work / kind
            kind_dir.mkdir()
            with database(kind, kind_dir) as url, run_center(url, kind_dir) as center:
                for size, template in templates.items():
                    rows += drain(center, kind, template, args.entries, size, kind_dir)
                rows.append(many_stations(center, kind, "alone", 1, 50, 0.0))
                rows.append(many_stations(center, kind, "steady", args.stations, args.pushes, args.interval))
                rows.append(many_stations(center, kind, "burst", args.stations, 1, args.interval))
    print_table(rows)


def print_table(rows: list[Row]) -> None:
    headers = ("scenario", "db", "workload", "result", "goal", "met")
    cells = [(r.scenario, r.db, r.detail, r.value, r.goal, {True: "yes", False: "NO", None: "-"}[r.met]) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for cell in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()

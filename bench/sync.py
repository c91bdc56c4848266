"""Benchmark of sync: one station draining a long offline backlog, many stations pushing, raw ingest rate.

Run: .venv/bin/python bench/sync.py [--entries 100000] [--stations 200] [--db sqlite,postgresql]

The center is the real one (`kiosk center serve` in a subprocess on loopback, tests/system/servers.py; one
process on SQLite, one worker per CPU on PostgreSQL), on SQLite and on a PostgreSQL cluster started for the run
(fsync on). The station side is the real Syncer over a real EntryStore whose backlog is pre-filled through
`EntryStore.load_numbered` (as a fold leaves it).

Scenarios:
- drain: one station sends its whole backlog (batch 500, the configured size, and 5000, the most allowed).
  The Syncer waits for each reply, so its own time and the center's add up; both CPU times are reported.
- ingest: 4 clients post pre-encoded bodies of 5000 entries at once (building them is not timed), so that
  the figure is the center's rate into the database rather than one station's.
- steady: every station pushes PER_PUSH entries every --interval seconds (default 5 s) from a random phase and,
  as the sync loop does, makes a full pass every FULL_EVERY seconds (the default sync_interval): a heartbeat,
  the roster asked with its version (304 unchanged) and the notices. The offered rate is reported; the latency
  goal holds for every request, pushes and pulls.
- peak: the same at one push per station per second (15 times the configured rate): a stress test.
- burst: every station pushes once, all at the same instant (after an outage): a stress test.
The clients run on the same cores as the center: the CPU seconds each used are in every row.

Goals: 100k entries drained in <= 8 s on SQLite; one station's drain into PostgreSQL as fast as it can go
(>= 20k entries/s is the center's goal, the ingest row); 200 stations pushing and making their full passes
concurrently with p99 <= 200 ms and no errors (the steady scenario).

--scenarios picks some (drain,ingest,alone,steady,peak,burst). To compare with an older Syncer, run this same file
from a worktree of that commit (it imports the kiosk package beside it): `git worktree add /tmp/before <rev>`,
copy bench/sync.py there, run it with this venv's Python.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import ssl
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The center subprocess too runs the kiosk package beside this file, whichever one the venv has installed.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
sys.path.insert(0, str(ROOT / "tests" / "system"))

import httpx  # noqa: E402
from servers import Center, fresh_postgres_database, run_center, start_postgres  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from kiosk.domain.config import CenterConfig  # noqa: E402
from kiosk.domain.models import Direction, Entry, Method, Reason, Role, Verdict, new_entry_id  # noqa: E402
from kiosk.station.sync import Syncer  # noqa: E402
from storage.entries import EntryStore  # noqa: E402
from storage.notices import NoticeStore  # noqa: E402
from storage.roster import RosterStore  # noqa: E402

OFFLINE_DAYS = 3
PER_PUSH = 20
"""Entries in each push of the many-stations scenarios: a busy gate's 15 seconds at 7 a.m."""
INGEST_CLIENTS = 4
INGEST_BATCH = 5000
FULL_EVERY = 15.0
"""Seconds between one station's full passes in the steady scenario: [center] sync_interval's default."""
ROSTER_SIZE = 1000
"""People on the bench center's roster (stations ask whether it changed: 304)."""
SCENARIOS = ("drain", "ingest", "alone", "steady", "peak", "burst")


@dataclass
class Row:
    scenario: str
    db: str
    detail: str
    value: str
    goal: str
    met: bool | None
    cpu: str


class CpuMeter:
    """CPU seconds used over a block by the center (with its workers), by PostgreSQL's server when the center
    uses one on this machine, and by this process (the clients); and how busy the whole machine was."""

    def __init__(self, center: Center) -> None:
        assert center.process is not None
        self.pids = {"center": center.process.pid, "postgresql": _postmaster(center.db_url)}
        self.used = dict.fromkeys(["center", "postgresql", "clients"], 0.0)
        self.machine = 0.0

    def __enter__(self) -> CpuMeter:
        self._before = self._seconds()
        self._machine = _machine_ticks()
        return self

    def __exit__(self, *_: object) -> None:
        self.used = {name: after - self._before[name] for name, after in self._seconds().items()}
        busy, total = (after - before for after, before in zip(_machine_ticks(), self._machine, strict=True))
        self.machine = busy / total if total else 0.0

    def shown(self, seconds: float, clients: str = "clients") -> str:
        """CPU seconds and share of all cores over `seconds` of wall time, then the machine's whole load."""
        cores = os.cpu_count() or 1
        parts = [
            f"{clients if name == 'clients' else name} {used:.1f} s ({used / seconds / cores:.0%})"
            for name, used in self.used.items()
            if name != "postgresql" or self.pids["postgresql"] is not None
        ]
        return ", ".join([*parts, f"machine {self.machine:.0%} busy"])

    def _seconds(self) -> dict[str, float]:
        found = {name: _tree_seconds(pid) for name, pid in self.pids.items() if pid is not None}
        return {"center": found["center"], "postgresql": found.get("postgresql", 0.0), "clients": time.process_time()}


def _tree_seconds(pid: int) -> float:
    """CPU seconds of a process, its reaped children and its live children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(t) for t in fields[11:15])  # utime, stime, cutime, cstime
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            ticks += sum(int(t) for t in Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[11:13])
        except FileNotFoundError:  # ended meanwhile: counted in cutime from now on
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def _postmaster(db_url: str) -> int | None:
    """The pid of the PostgreSQL server on this machine listening on the port of `db_url`, if any."""
    port = make_url(db_url).port
    if port is None:
        return None
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"postgres") and b"-p" in args and str(port).encode() in args:
            return int(cmdline.parent.name)
    return None


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


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
        with CpuMeter(center) as cpu:
            started = time.perf_counter()
            result = syncer.push()
            seconds = time.perf_counter() - started
        left = store.unsynced_count()
    finally:
        syncer.close()
        store.close()
    ok = result.error is None and result.count == count and left == 0
    rate = count / seconds
    goal, met = ("<= 8 s", seconds <= 8) if db == "sqlite" else (">= 20k entries/s", rate >= 20_000)
    detail = f"{count} entries, batch {batch_size}" + ("" if ok else f" INCOMPLETE: {result.error} left {left}")
    value = f"{seconds:.1f} s = {rate:,.0f} entries/s"
    return [Row("drain backlog", db, detail, value, goal, met and ok, cpu.shown(seconds, clients="station"))]


def ingest(center: Center, db: str, count: int) -> Row:
    """INGEST_CLIENTS clients posting pre-encoded bodies of INGEST_BATCH entries, `count` entries in all."""
    now = datetime.now().astimezone()
    pushes = []
    for n in range(INGEST_CLIENTS):
        station_id = f"ingest-{n}"
        token = center.add_station(station_id)
        for first in range(1, count // INGEST_CLIENTS + 1, INGEST_BATCH):
            batch = [entry(station_id, seq, now).to_dict() for seq in range(first, first + INGEST_BATCH)]
            pushes.append((station_id, token, json.dumps({"entries": batch}).encode()))

    def post(push: tuple[str, str, bytes]) -> bool:
        station_id, token, body = push
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        reply = httpx.post(f"{center.url}/api/v1/stations/{station_id}/entries", content=body, headers=headers)
        return reply.status_code == 200 and all(r["status"] == "stored" for r in reply.json()["results"])

    with CpuMeter(center) as cpu, ThreadPoolExecutor(INGEST_CLIENTS) as pool:
        started = time.perf_counter()
        stored = list(pool.map(post, pushes))
        seconds = time.perf_counter() - started
    sent = len(pushes) * INGEST_BATCH
    rate = sent / seconds
    detail = f"{sent} entries, {INGEST_CLIENTS} clients x batch {INGEST_BATCH}, bodies pre-encoded"
    value = f"{seconds:.1f} s = {rate:,.0f} entries/s" + ("" if all(stored) else " ERRORS")
    goal, met = (">= 20k entries/s", rate >= 20_000 and all(stored)) if db == "postgresql" else ("-", None)
    return Row("ingest", db, detail, value, goal, met, cpu.shown(seconds))


async def one_station(
    client: httpx.AsyncClient, station_id: str, bodies: list[bytes], interval: float, start: float
) -> tuple[list[float], int]:
    """Post `bodies` one by one at `start`, `start + interval`, ... (perf_counter times); latencies and errors."""
    latencies: list[float] = []
    errors = 0
    for push, body in enumerate(bodies):
        await asyncio.sleep(max(0.0, start + push * interval - time.perf_counter()))
        started = time.perf_counter()
        try:
            reply = await client.post(f"/api/v1/stations/{station_id}/entries", content=body)
            results = reply.json()["results"] if reply.status_code == 200 else []
            if len(results) != PER_PUSH or any(r["status"] != "stored" for r in results):
                errors += 1
                print(f"{station_id}: HTTP {reply.status_code} {reply.text[:200]}", file=sys.stderr)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            errors += 1
            print(f"{station_id}: {exc!r}", file=sys.stderr)
        latencies.append(time.perf_counter() - started)
    return latencies, errors


async def full_passes(
    client: httpx.AsyncClient, station_id: str, version: int, start: float, until: float
) -> tuple[list[float], int]:
    """A full pass's requests (heartbeat, roster unchanged, notices) every FULL_EVERY s from `start` to `until`."""
    latencies: list[float] = []
    errors = 0
    moment = start
    while moment < until:
        await asyncio.sleep(max(0.0, moment - time.perf_counter()))
        heartbeat = {"clock": datetime.now().astimezone().isoformat(), "pending": 0, "version": "bench"}
        requests = (
            ("POST", f"/api/v1/stations/{station_id}/heartbeat", {"json": heartbeat}, 200),
            (
                "GET",
                "/api/v1/roster",
                {"params": {"since": version}, "headers": {"If-None-Match": f'"{version}"'}},
                304,
            ),
            ("GET", "/api/v1/notices", {}, 200),
        )
        for method, path, options, expected in requests:
            started = time.perf_counter()
            try:
                reply = await client.request(method, path, **options)  # type: ignore[arg-type]
                if reply.status_code != expected:
                    errors += 1
                    print(f"{station_id}: {path} HTTP {reply.status_code} {reply.text[:200]}", file=sys.stderr)
            except httpx.HTTPError as exc:
                errors += 1
                print(f"{station_id}: {exc!r}", file=sys.stderr)
            latencies.append(time.perf_counter() - started)
        moment += FULL_EVERY
    return latencies, errors


def many_stations(
    center: Center, db: str, prefix: str, stations: int, pushes: int, interval: float, full: int | None = None
) -> Row:
    """`stations` clients, each posting `pushes` batches `interval` s apart from a random phase ("burst": all at
    the same instant); with `full` (the roster version) each also makes its full passes. Clients and bodies are
    made before the clock starts: a station has them ready."""
    burst = prefix == "burst"
    now = datetime.now().astimezone()
    rand = random.Random(7)
    tls = ssl.create_default_context()  # one for all: httpx would build one per client, ~20 ms of CPU each
    plans = []
    for n in range(stations):
        station_id = f"{prefix}-{n:03d}"
        headers = {"Authorization": f"Bearer {center.add_station(station_id)}", "Content-Type": "application/json"}
        bodies = [
            json.dumps(
                {"entries": [entry(station_id, k * PER_PUSH + i + 1, now).to_dict() for i in range(PER_PUSH)]}
            ).encode()
            for k in range(pushes)
        ]
        full_phase = rand.uniform(0, FULL_EVERY)
        plans.append((station_id, headers, bodies, 0.0 if burst else rand.uniform(0, interval), full_phase))

    async def run() -> tuple[list[tuple[list[float], int]], list[tuple[list[float], int]]]:
        clients = [httpx.AsyncClient(base_url=center.url, headers=h, timeout=30, verify=tls) for _, h, *_ in plans]
        start = time.perf_counter() + 0.5
        until = start + pushes * interval
        try:
            pushing = asyncio.gather(
                *(
                    one_station(client, station_id, bodies, interval, start + phase)
                    for client, (station_id, _, bodies, phase, _) in zip(clients, plans, strict=True)
                )
            )
            pulling = asyncio.gather(
                *(
                    full_passes(client, station_id, full, start + full_phase, until)
                    for client, (station_id, _, _, _, full_phase) in zip(clients, plans, strict=True)
                    if full is not None
                )
            )
            return await pushing, await pulling
        finally:
            await asyncio.gather(*(client.aclose() for client in clients))

    with CpuMeter(center) as cpu:
        started = time.perf_counter()
        outcomes, passes = asyncio.run(run())
        seconds = time.perf_counter() - started
    latencies = sorted(ms * 1000 for lat, _ in outcomes for ms in lat)
    pulls = sorted(ms * 1000 for lat, _ in passes for ms in lat)
    every = sorted(latencies + pulls)
    errors = sum(e for _, e in outcomes) + sum(e for _, e in passes)
    if burst:
        pace = ", all at once"
    elif interval:
        offered = f"{stations / interval:.0f} req/s = {stations * PER_PUSH / interval:,.0f} entries/s"
        pace = f", every {interval:g} s (offered {offered})"
    else:
        pace = ", back to back"
    detail = f"{stations} stations x {pushes} pushes of {PER_PUSH}{pace}"
    value = f"p50 {_pick(latencies, 0.5):.0f} ms, p99 {_pick(latencies, 0.99):.0f} ms, max {latencies[-1]:.0f} ms"
    if pulls:
        detail += f"; full passes every {FULL_EVERY:g} s (heartbeat, roster 304, notices)"
        value = (
            f"pushes {value}; pass requests p50 {_pick(pulls, 0.5):.0f} ms, p99 {_pick(pulls, 0.99):.0f} ms; "
            f"all {len(every)} requests p99 {_pick(every, 0.99):.0f} ms"
        )
    value += f", errors {errors}"
    p99 = _pick(every, 0.99)
    goal, met = ("p99 <= 200 ms, 0 errors", p99 <= 200 and errors == 0) if prefix == "steady" else ("-", None)
    return Row(f"{prefix} pushes", db, detail, value, goal, met, cpu.shown(seconds))


def _pick(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def seed_center(center: Center) -> int:
    """A roster and notices on the center, as the stations' full passes find them; returns the roster version."""
    people = [
        {"person_id": f"2023{n:06d}", "name": "张三", "role": "student", "campus": "海淀校园"}
        for n in range(ROSTER_SIZE)
    ]
    put = httpx.put(f"{center.url}/api/v1/admin/roster", headers=center.admin, json={"people": people, "replace": True})
    put.raise_for_status()
    for n in range(3):
        notice = {"title": f"通知 {n}", "title_en": f"Notice {n}", "url": f"https://www.bnu.edu.cn/tzgg/{n}.htm"}
        httpx.post(f"{center.url}/api/v1/admin/notices", headers=center.admin, json=notice).raise_for_status()
    return int(put.json()["version"])


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
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between one station's steady pushes")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the steady scenario runs")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="some of " + ",".join(SCENARIOS))
    args = parser.parse_args()
    scenarios = set(args.scenarios.split(","))
    load = os.getloadavg()[0]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-sync-", dir="/var/tmp") as tmp:
        work = Path(tmp)
        batches = [int(b) for b in args.batches.split(",")]
        templates = {b: work / f"template-{b}" for b in batches}
        for size, template in templates.items():
            if "drain" in scenarios:
                make_backlog(template, f"drain-{size}", args.entries)
        for kind in args.db.split(","):
            kind_dir = work / kind
            kind_dir.mkdir()
            with database(kind, kind_dir) as url, run_center(url, kind_dir) as center:
                version = seed_center(center)
                if "drain" in scenarios:
                    for size, template in templates.items():
                        rows += drain(center, kind, template, args.entries, size, kind_dir)
                if "ingest" in scenarios:
                    rows.append(ingest(center, kind, args.entries))
                if "alone" in scenarios:
                    rows.append(many_stations(center, kind, "alone", 1, 50, 0.0))
                if "steady" in scenarios:
                    pushes = max(1, round(args.seconds / args.interval))
                    rows.append(many_stations(center, kind, "steady", args.stations, pushes, args.interval, version))
                if "peak" in scenarios:
                    rows.append(many_stations(center, kind, "peak", args.stations, 5, 1.0))
                if "burst" in scenarios:
                    rows.append(many_stations(center, kind, "burst", args.stations, 1, 0.0))
    print(f"{datetime.now():%Y-%m-%d %H:%M}, load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print_table(rows)


def print_table(rows: list[Row]) -> None:
    headers = ("scenario", "db", "workload", "result", "goal", "met", "CPU used (share of all cores)")
    met = {True: "yes", False: "NO", None: "-"}
    cells = [(r.scenario, r.db, r.detail, r.value, r.goal, met[r.met], r.cpu) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for cell in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()

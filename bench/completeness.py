"""Benchmark of the center's completeness report as the office asks for it, at growing history lengths.

Run: .venv/bin/python bench/completeness.py [--entries 100000,1000000] [--stations 200] [--db sqlite,postgresql]

For each size, a fresh center database gets that many entries spread over --stations stations (about one seq in
500 withheld, so that there are gaps to report), loaded in bulk and summarised once by `rebuild_summaries`, as a
migration does. Then, medians of --reps runs:
- report: `reports.completeness` as it is now (it reads the per-station summaries kept as entries arrive);
- HTTP: GET /api/v1/admin/completeness on the real center (`kiosk center serve`) over loopback, on a kept-alive
  connection (a new httpx client costs ~100 ms of its own, building its TLS context);
- full scan: the query the report made before (a window over every entry for the gaps, a GROUP BY for the
  totals), for comparison.
Goal (issue 15): completeness at 1M entries <= 200 ms, its cost independent of the history's length.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "system"))

import httpx  # noqa: E402
from servers import fresh_postgres_database, run_center, start_postgres  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from kiosk.center import reports  # noqa: E402
from kiosk.center.auth import add_station  # noqa: E402
from kiosk.center.db import Database, entries, rebuild_summaries  # noqa: E402
from kiosk.center.entries import ROW_COLUMNS  # noqa: E402

WITHHELD_EVERY = 499
"""One seq in this many is never sent: the report has gaps to find."""
_DATA = '{"name":"张三","verdict":"admitted","reasons":["on_roster"],"operator":"T1001","padding":"' + "x" * 250 + '"}'


def load(db: Database, count: int, stations: int) -> None:
    """`count` entries over `stations` stations, bulk-inserted, then the summaries built once."""
    for number in range(stations):
        add_station(db, f"gate-{number:03d}", actor="bench")
    per_station = count // stations
    placeholders = ", ".join(["?" if db.is_sqlite else "%s"] * len(ROW_COLUMNS))
    statement = f"INSERT INTO entries ({', '.join(ROW_COLUMNS)}) VALUES ({placeholders})"
    with db.write() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for number in range(stations):
            station_id = f"gate-{number:03d}"
            rows = [
                (
                    station_id,
                    f"{station_id}-{seq}",
                    seq,
                    f"2023{seq % 40000:06d}",
                    "2026-11-27 23:30:00.000000",
                    "2026-11-28T07:30:00+08:00",
                    "2026-11-28",
                    7,
                    "admitted",
                    False,
                    0,
                    "2026-11-28 00:00:00.000000",
                    _DATA,
                )
                for seq in range(1, per_station + 1)
                if seq % WITHHELD_EVERY
            ]
            cursor.executemany(statement, rows)
        rebuild_summaries(conn)


def full_scan(db: Database) -> int:
    """The report's former queries: every entry read for the gaps and the totals."""
    previous = func.lag(entries.c.seq, 1, 0).over(partition_by=entries.c.station_id, order_by=entries.c.seq)
    ordered = select(entries.c.station_id, entries.c.seq, previous.label("previous")).subquery()
    gaps = select(ordered.c.station_id, ordered.c.previous + 1, ordered.c.seq - 1).where(
        ordered.c.seq > ordered.c.previous + 1
    )
    totals = select(entries.c.station_id, func.count(), func.max(entries.c.seq), func.max(entries.c.received_at))
    with db.read() as conn:
        found = len(conn.execute(gaps).all())
        conn.execute(totals.group_by(entries.c.station_id)).all()
    return found


def median_ms(run: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@contextmanager
def database(kind: str, work: Path, server: str | None) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{work / 'center.db'}"
        return
    assert server is not None
    with fresh_postgres_database(server) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="100000,1000000")
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    rows = []
    kinds = args.db.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-completeness-", dir="/var/tmp") as tmp:
        with start_postgres() if "postgresql" in kinds else _nothing() as server:
            for kind in kinds:
                for count in (int(n) for n in args.entries.split(",")):
                    work = Path(tmp) / f"{kind}-{count}"
                    work.mkdir()
                    with database(kind, work, server) as url:
                        db = Database(url)
                        started = time.perf_counter()
                        load(db, count, args.stations)
                        loaded = time.perf_counter() - started
                        report = reports.completeness(db, 60)
                        gaps = sum(len(station.gaps) for station in report.stations)
                        assert gaps == full_scan(db), "the summaries disagree with the entries"
                        mine = median_ms(lambda db=db: reports.completeness(db, 60), args.reps)
                        scan = median_ms(lambda db=db: full_scan(db), max(1, args.reps // 2))
                        with run_center(url, work) as center, httpx.Client(headers=center.admin) as client:
                            url_of = f"{center.url}/api/v1/admin/completeness"
                            over_http = median_ms(lambda c=client, u=url_of: c.get(u), args.reps)
                        db.close()
                        load_now = os.getloadavg()[0]
                        rows.append((kind, count, gaps, loaded, mine, over_http, scan, load_now))
    print(
        f"{'db':<11} {'entries':>9} {'gaps':>6} {'load s':>7} {'report ms':>10} {'HTTP ms':>8} {'full scan ms':>13} "
        f"{'load avg':>8}"
    )
    for kind, count, gaps, loaded, mine, over_http, scan, load_now in rows:
        print(
            f"{kind:<11} {count:>9,} {gaps:>6} {loaded:>7.1f} {mine:>10.1f} {over_http:>8.1f} {scan:>13.1f} "
            f"{load_now:>8.2f}"
        )
    print("goal: report at 1M entries <= 200 ms, independent of the history's length")


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    main()

"""Benchmark of the dashboard: the overview and the daily report at a center holding a whole campus.

Run: .venv/bin/python bench/dashboard.py [--stations 200] [--entries 1000000] [--days 10] [--requests 40]
         [--keep DIR]   (keep the filled center in DIR, and reuse it on the next run: filling takes minutes)

The center is the real one (`kiosk center serve` on SQLite in a subprocess on loopback, tests/system/servers.py),
filled through its own Receiver with --entries spread over --stations and --days (kiosk.demo.campus: meal-time
peaks, ~4% denied, ~1% referred), today's share included. A signed-in client then asks each page --requests
times, one after the other, and the time from request to the last byte is reported (loopback: that is the
server's time). The live overview recomputes the same parts as the overview page every 2 s per open browser.

Goal: overview p99 ≤ 1 s and the daily report (page and XLSX) p99 ≤ 3 s at 200 stations and 1M entries.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "system"))

import httpx  # noqa: E402
from servers import run_center  # noqa: E402
from webkit import sign_in_http  # noqa: E402

from kiosk.center.db import Database  # noqa: E402
from kiosk.center.web.accounts import add_user, ensure_tables  # noqa: E402
from kiosk.demo.campus import fill_center  # noqa: E402
from kiosk.demo.data import demo_people  # noqa: E402

PAGES = {
    "overview": ("/web/", 2.1),
    "overview (2nd)": ("/web/", 0.0),
    "completeness": ("/web/completeness", 0.0),
    "daily report": ("/web/daily", 0.0),
    "daily XLSX": ("/web/daily.xlsx", 0.0),
}
"""Page and pause before each request. The overview's day-wide parts are shared by every browser for 2 s
(TodayCache): "overview" waits that long, so each request computes them; "overview (2nd)" is another browser
within the same 2 s."""


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] if len(samples) > 1 else samples[0]


def fill(db_url: str, stations: int, entries: int, days: int) -> None:
    today = datetime.now().astimezone().date()
    dates = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    per_station_day = entries // (stations * days)
    started = time.perf_counter()
    fill_center(db_url, stations, dates, per_station_day, demo_people(3000), silent=stations // 20)
    total = per_station_day * stations * days
    seconds = time.perf_counter() - started
    print(f"filled {total:,} entries ({stations} stations × {days} days) in {seconds:.0f} s; load {load()}", flush=True)
    db = Database(db_url)
    ensure_tables(db)
    add_user(db, "bench", "viewer", "bench-password")
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the filled center in DIR; reuse it if there")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{workdir / 'center.db'}"
    if not (workdir / "center.db").exists():
        fill(db_url, args.stations, args.entries, args.days)
    with run_center(db_url, workdir) as center, httpx.Client(base_url=center.url, timeout=120) as client:
        assert sign_in_http(client, center.url, "bench", "bench-password").status_code == 303
        print(f"{'page':<14} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'bytes':>10}  load (1/5/15 min)", flush=True)
        for name, (path, pause) in PAGES.items():
            client.get(path)  # warm: first import of openpyxl, templates compiled
            times = []
            size = 0
            for _ in range(args.requests):
                time.sleep(pause)
                begun = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - begun) * 1000)
                assert response.status_code == 200, response.text[:300]
                size = len(response.content)
            print(
                f"{name:<14} {percentile(times, 50):>9.1f} {percentile(times, 99):>9.1f} {max(times):>9.1f}"
                f" {size:>10,}  {load()}",
                flush=True,
            )
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

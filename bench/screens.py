"""Benchmark of the officer's record screens on a busy day, as the officer feels them.

Run: .venv/bin/python bench/screens.py [--entries 33000] [--reps 5]

The station holds one day of --entries entries (bench/store.py's realistic entries, the whole day in the open
shift) and a 3,000-person roster; the app (`KioskApp`, headless `run_test` at 120×40) is started, the roster and
today's counts loaded, then F8 (shift handover), F5 (entry log) and F6 (statistics) are opened in turn, --reps
times each, after the gate has been idle long enough for the app's quiet-time work (up to 25 s: the kept staff
screens, such as the handover, are built then, not at the first opening). The first opening of each screen is
also shown apart. For each opening:
- open → up: from the key press to the new screen drawn (its content may still be loading, in a worker);
- open → shown: from the key press to the screen's content in place (its loading text gone) and drawn (the
  first refresh after it is in);
- UI-thread CPU: the CPU time the app's thread used meanwhile (`time.thread_time`: what the opening costs the
  thread that draws the gate, whatever else the machine is doing);
- longest UI-thread stall: an asyncio heartbeat every 2 ms on the app's loop, and the largest lateness of any
  beat while the screen opened (work on the UI thread delays every beat behind it; a worker thread does not,
  except through the GIL).
Goal (issue 15): the handover opens in ≤ 100 ms with no UI-thread work over 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from statistics import median

from textual import events

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.store import TODAY, make_entry  # noqa: E402
from kiosk.app import KioskApp  # noqa: E402
from kiosk.domain.clock import FrozenClock  # noqa: E402
from kiosk.domain.config import Config, DutyStaff, SecurityConfig, StationConfig, StorageConfig  # noqa: E402
from kiosk.domain.models import Person, Role  # noqa: E402
from kiosk.domain.pins import hash_pin  # noqa: E402
from kiosk.station.collector import COLLECT_EVERY, tune_for_the_gate  # noqa: E402
from kiosk.station.station import Station  # noqa: E402
from storage.entries import EntryStore  # noqa: E402
from storage.notices import NoticeStore  # noqa: E402
from storage.roster import RosterStore  # noqa: E402

PIN = "246813"
BEAT = 0.002
ZONE = timezone(timedelta(hours=8))


def busy_day(station: Station, entries: int) -> None:
    """`entries` entries of one day recorded in `station`'s open shift (folded into chunk files, as after a day at
    the gate) and counted by its shift tally as `Station` counts each entry it records."""
    day = [make_entry(seq, TODAY, (seq * 57_600) // entries, acked=True) for seq in range(1, entries + 1)]
    station.store.load_numbered(day)
    assert station.tally is not None
    for entry in day:
        station.tally.recorded(entry)


def roster(data: Path) -> None:
    RosterStore(data).replace_all(
        Person(f"2023{i:06d}", f"学生{i:05d}", Role.STUDENT, return_approved=True) for i in range(3000)
    )


def loaded(app: KioskApp, name: str) -> bool:
    """The staff screen `name` is open and its content is in."""
    screen = app.screen
    if name == "handover":
        return screen.id != "_default" and bool(screen.query("#summary")) and "…" not in _text(screen, "#summary")
    if name == "log":
        tables = screen.query("DataTable")
        return bool(tables) and tables.first().row_count > 0  # type: ignore[attr-defined]
    return bool(screen.query("#counts")) and "…" not in _text(screen, "#counts") and bool(screen.query("#morning"))


def _text(screen: object, selector: str) -> str:
    return str(screen.query_one(selector).content)  # type: ignore[attr-defined]


async def measure(data: Path, entries: int, reps: int) -> dict[str, list[tuple[float, float, float, float]]]:
    """(open → up ms, open → shown ms, UI-thread CPU ms, longest stall ms) per opening of each screen."""
    clock = FrozenClock(datetime.combine(TODAY, datetime.min.time(), ZONE) + timedelta(hours=5, minutes=55))
    config = Config(
        station=StationConfig(id="bench-screens"),
        storage=StorageConfig(data_dir=str(data)),
        security=SecurityConfig(duty=(DutyStaff("T1001", "王老师", hash_pin(PIN)),)),
    )
    roster(data)
    station = Station(config, EntryStore(data), RosterStore(data, load=False), clock)
    station.open_shift("T1001", PIN)
    busy_day(station, entries)
    clock.advance(16 * 3600)  # the whole day in the shift
    app = KioskApp(config, station, NoticeStore(data), clock)
    results: dict[str, list[tuple[float, float, float, float]]] = {"handover": [], "log": [], "stats": []}
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        # As at a gate before the officer's first F8: quiet for a while, so the app has built its kept screens.
        deadline = time.monotonic() + COLLECT_EVERY + 5
        while not app.is_screen_installed("staff-handover-zh") and time.monotonic() < deadline:
            clock.advance(1)  # the station's quiet time is on its clock
            await asyncio.sleep(0.5)
        await pilot.pause()
        for _ in range(reps):
            for name, key in (("handover", "f8"), ("log", "f5"), ("stats", "f6")):
                results[name].append(await open_once(app, pilot, key, lambda n=name: loaded(app, n)))
                await pilot.press("escape")
                await app.workers.wait_for_complete()
                await pilot.pause()
    return results


async def open_once(
    app: KioskApp, pilot: object, key: str, shown: Callable[[], bool]
) -> tuple[float, float, float, float]:
    stalls: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        expected = time.perf_counter() + BEAT
        while not done.is_set():
            await asyncio.sleep(BEAT)
            now = time.perf_counter()
            stalls.append(now - expected)
            expected = now + BEAT

    beats = asyncio.ensure_future(heartbeat())
    start, cpu = time.perf_counter(), time.thread_time()
    gate = app.screen
    app.post_message(events.Key(key, None))  # as the terminal's input thread does (Pilot.press waits for idle)
    while app.screen is gate:
        await asyncio.sleep(BEAT)
    drawn = asyncio.Event()
    app.screen.call_after_refresh(drawn.set)
    await drawn.wait()
    up = time.perf_counter() - start
    while not shown():
        await asyncio.sleep(BEAT)
    drawn = asyncio.Event()
    app.screen.call_after_refresh(drawn.set)
    await drawn.wait()
    took, cpu = time.perf_counter() - start, time.thread_time() - cpu
    done.set()
    await beats
    return up * 1000, took * 1000, cpu * 1000, max(stalls, default=0.0) * 1000


def _median_max(values: list[float]) -> str:
    return f"{median(values):.1f} (max {max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=33_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-screens-"))
    try:
        (work / "data").mkdir()
        load = os.getloadavg()[0]
        tune_for_the_gate()  # as `kiosk run`
        results = asyncio.run(measure(work / "data", args.entries, args.reps))
        print(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, {platform.machine()}, "
            f"Python {platform.python_version()}; {args.entries:,} entries today; medians of {args.reps}; "
            f"load {load:.2f} → {os.getloadavg()[0]:.2f}"
        )
        print(
            "| screen | open → up ms | open → shown ms | UI-thread CPU ms | longest UI-thread stall ms | goal |\n"
            "|---|---|---|---|---|---|"
        )
        goals = {"handover": "≤ 100 ms, stall ≤ 20 ms", "log": "–", "stats": "–"}
        for name, samples in results.items():
            figures = " | ".join(_median_max([sample[i] for sample in samples]) for i in range(4))
            print(f"| {name} | {figures} | {goals[name]} |")
        for name, samples in results.items():
            up, shown, cpu, stall = samples[0]
            print(f"first opening of {name}: up {up:.1f} ms, shown {shown:.1f} ms, CPU {cpu:.1f} ms, stall {stall:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

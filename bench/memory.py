"""Where the station's peak RSS comes from: `kiosk run` with a center, through its first full roster pull.

Run: .venv/bin/python bench/memory.py [--runs 3] [--changed] [--tree DIR ...] [--work /tmp/bench-memory] [--trace]

The same set-up as bench/gate.py's terminal scenario (1M entries and the 50k roster at the station, the same 50k
people at a real center on loopback, `kiosk run` on a 120x40 pty): the first sync pass pulls the whole roster.
`kiosk` runs with probes around its start-up steps (the store's and the roster's load, the roster pull, the roster
write, the push): each step's VmRSS and VmHWM (from /proc/self/status) and its thread's CPU time as it starts and
ends. The run ends 2 s after the station wrote the pulled roster; the table gives the steps of the last run, then
the peak (VmHWM) of each run and the roster pull's wall and CPU time.
--tree runs `kiosk` from other checkouts in turn (e.g. the code before a change, for before/after in one session).
--changed: everyone's dorm differs at the center (the worst full pull: the station can share no one with the
roster it holds).
--trace: tracemalloc runs in the kiosk too, and the largest allocation sites alive at the roster load's and the
roster write's start and end are printed (tracemalloc's own memory inflates that run's RSS; one run).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "system"))

from servers import run_center  # noqa: E402

from bench.gate import (  # noqa: E402
    COLUMNS,
    LINES,
    TOTAL,
    Screen,
    open_screen,
    prepare,
    proc_kb,
    put_roster,
    roster_stamp,
    station_of,
    wait_for_roster,
)
from storage.files import AtomicJSONStorage  # noqa: E402

PROBED = """
import json, os, sys, threading, time
log = open(os.environ["KIOSK_MEMORY_LOG"], "a", buffering=1)
trace = bool(os.environ.get("KIOSK_MEMORY_TRACE"))
if trace:
    import tracemalloc
    tracemalloc.start(1)
start = time.monotonic()

def status():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

def note(step, when):
    rss, hwm = status()
    at = {"t": time.monotonic() - start, "cpu": time.thread_time(), "rss": rss, "hwm": hwm}
    log.write(json.dumps({"step": step, "when": when, **at}) + "\\n")

def snap(step):
    if trace:
        top = tracemalloc.take_snapshot().statistics("lineno")[:20]
        log.write(json.dumps({"trace": step, "top": [[str(s.traceback), s.size, s.count] for s in top]}) + "\\n")

def probe(owner, name, step, snapshot=False):
    plain = getattr(owner, name)
    def probed(*args, **kwargs):
        note(step, "start")
        if snapshot:
            snap(step + " start")
        try:
            return plain(*args, **kwargs)
        finally:
            if snapshot:
                snap(step + " end")
            note(step, "end")
    setattr(owner, name, probed)

from storage.entries import EntryStore
from storage.roster import RosterStore
from kiosk.station.sync import Syncer
import kiosk.app
note("imported", "end")
probe(EntryStore, "load", "store load")
probe(RosterStore, "load", "roster load", snapshot=True)
probe(Syncer, "push", "push")
probe(Syncer, "pull_roster", "roster pull")
probe(RosterStore, "_write_snapshot", "roster write", snapshot=True)
probe(kiosk.app.KioskApp, "_roster_loaded", "roster loaded (gc.freeze)")
probe(kiosk.app.KioskApp, "load_today", "load today")
from kiosk.cli.main import main
sys.exit(main())
"""
"""`kiosk` with probes around its start-up steps (see the module docstring)."""


def start_probed(config: Path, screen_slave: int, log: Path, tree: Path, trace: bool) -> subprocess.Popen[bytes]:
    """`kiosk run` of `tree` with the probes, on the screen's pty (as bench/gate.py starts it)."""
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_ALLOW_SIGNALS"} | {
        "PYTHONPATH": str(tree),
        "TERM": "xterm-256color",
        "COLUMNS": str(COLUMNS),
        "LINES": str(LINES),
        "KIOSK_MEMORY_LOG": str(log),
    }
    if trace:
        env["KIOSK_MEMORY_TRACE"] = "1"
    return subprocess.Popen(
        [sys.executable, "-c", PROBED, "run", "--config", str(config)],
        stdin=screen_slave,
        stdout=screen_slave,
        stderr=screen_slave,
        env=env,
        cwd=tree,  # before the editable install's path: `kiosk` is imported from `tree`
        start_new_session=True,
    )


def run_once(work: Path, total: int, tree: Path, trace: bool, changed: bool) -> tuple[list[dict[str, Any]], float]:
    """One start through the first full pull: the probes' lines, and VmHWM (MB) 2 s after the roster was written.
    With `changed`, everyone's dorm differs at the center: the pull cannot share a person with the roster held."""
    data = prepare(work, "memory", total)
    people = list((AtomicJSONStorage(data / "roster.json").read() or {})["people"].values())
    if changed:
        people = [{**person, "dorm": f"新{person['dorm']}"} for person in people]
    center_dir = work / "memory-center"
    if center_dir.exists():
        for child in center_dir.iterdir():
            child.unlink()
    center_dir.mkdir(exist_ok=True)
    log = work / "memory.log"
    log.unlink(missing_ok=True)
    with run_center(f"sqlite:///{center_dir / 'center.db'}", center_dir) as center:
        put_roster(center, people, replace=True)
        del people
        config, scanner_master, scanner_slave = station_of(center, work, data)
        screen_master, screen_slave = open_screen()
        before = roster_stamp(data)
        process = start_probed(config, screen_slave, log, tree, trace)
        screen = Screen(screen_master)
        try:
            if screen.wait_for("请刷卡".encode(), 60) is None:
                raise SystemExit(f"the prompt never appeared; the screen ended with: {screen.tail()}")
            if not wait_for_roster(data, before, 120):
                raise SystemExit("the first full pass never wrote the roster")
            screen.read_for(2.0)
            hwm = proc_kb(process.pid, "VmHWM") / 1024
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            for fd in (scanner_master, scanner_slave, screen_master, screen_slave):
                os.close(fd)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return lines, hwm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=TOTAL)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-memory"))
    parser.add_argument("--trace", action="store_true", help="tracemalloc's top allocation sites at the roster write")
    parser.add_argument("--changed", action="store_true", help="everyone changed at the center (nothing shared)")
    parser.add_argument("--tree", type=Path, action="append", help="checkouts to measure in turn (default: this one)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    trees: list[Path] = args.tree or [ROOT]
    peaks: dict[Path, list[float]] = {tree: [] for tree in trees}
    loads: dict[Path, list[str]] = {tree: [] for tree in trees}
    steps: dict[Path, list[dict[str, Any]]] = {}
    pulls: dict[Path, list[tuple[float, float]]] = {tree: [] for tree in trees}
    for _ in range(1 if args.trace else args.runs):
        for tree in trees:
            load = os.getloadavg()[0]
            steps[tree], hwm = run_once(args.work, args.entries, tree, args.trace, args.changed)
            peaks[tree].append(hwm)
            pull = [line for line in steps[tree] if line.get("step") == "roster pull"]
            pulls[tree].append((pull[-1]["t"] - pull[0]["t"], pull[-1]["cpu"] - pull[0]["cpu"]))
            loads[tree].append(f"{load:.2f}→{os.getloadavg()[0]:.2f}")
    what = "everyone changed at the center" if args.changed else "the same 50k people at the center"
    for tree in trees:
        print(f"\n{tree} (the last run's steps)")
        print(f"{'step':<28}{'when':>6}{'t s':>8}{'VmRSS MB':>10}{'VmHWM MB':>10}")
        for line in steps[tree]:
            if "trace" not in line:
                print(
                    f"{line['step']:<28}{line['when']:>6}{line['t']:>8.2f}"
                    f"{line['rss'] / 1024:>10.1f}{line['hwm'] / 1024:>10.1f}"
                )
        for line in steps[tree]:
            if "trace" in line:
                print(f"tracemalloc, the largest sites alive at {line['trace']}:")
                for site, size, count in line["top"]:
                    print(f"{size / 1024 / 1024:8.1f} MB {count:>9} {site}")
        print(
            f"peak RSS (VmHWM) 2 s after the full 50k pull ({what}) was written: "
            f"median {statistics.median(peaks[tree]):.1f} MB of {[round(p, 1) for p in peaks[tree]]} "
            f"(goal ≤ 120 MB); load {loads[tree]}"
        )
        wall, cpu = (statistics.median(times) for times in zip(*pulls[tree], strict=True))
        print(f"the roster pull (its request, parse and write): median {wall:.2f} s, its thread's CPU {cpu:.2f} s")


if __name__ == "__main__":
    main()

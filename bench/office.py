"""Benchmark of what the office and the roster feel: imports, exports, a roster change, a full roster pull.

Run: .venv/bin/python bench/office.py [--reps 3] [--work /tmp/bench-office] [--tree DIR ...]

Scenarios, each in its own subprocess so that its time and peak RSS are its own (time measured inside):
- `import-csv`, `import-xlsx`: `kiosk roster import` of a 50k-row office file (GBK CSV; XLSX with the IDs as
  numbers), into an empty station;
- `export-csv`, `export-xlsx`: `kiosk export` of a 40k-entry day;
- `change-10`: 10 people changed (`RosterStore.upsert`) in a loaded 50k roster; the time of the change, the
  memory it allocates (tracemalloc peak), and the time another process's store takes to catch up;
- `pull-full`, `pull-10`: a station's roster pull from a real center on loopback (`kiosk center serve`, SQLite):
  the whole 50k roster into an empty station, then 10 changed people. Peak RSS of the station process.

`--tree` runs the same scenarios against other checkouts (e.g. /work/main, for before/after in one run), the
trees' runs interleaved: the scenarios only use the command line and APIs that all have. The load average is
printed beside each figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
PEOPLE = 50_000
ENTRIES = 40_000
DAY = "2026-11-28"
SCENARIOS = ("import-csv", "import-xlsx", "export-csv", "export-xlsx", "change-10", "pull-full", "pull-10")


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_mb(key: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset_peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux: "5" to clear_refs), to measure one step's peak."""
    Path("/proc/self/clear_refs").write_text("5")


# -- data, made once in --work -----------------------------------------------------------------------------


def rows() -> list[list[Any]]:
    return [
        [
            f"2023{i:06d}",
            f"学生{i:05d}",
            "student" if i % 10 else "staff",
            "海淀校园",
            f"{i % 40}号楼",
            "是" if i % 3 else "否",
        ]
        for i in range(PEOPLE)
    ]


HEADER = ["person_id", "name", "role", "campus", "dorm", "return_approved"]
"""English headers and roles, no title row: the code before issue 10 reads the same files, so the figures compare
(the Chinese forms cost nothing measurable on top: one header lookup, one dict hit per value)."""


def prepare(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / "roster-50k.csv"
    if not csv_path.exists():
        lines = [",".join(HEADER)] + [",".join(row) for row in rows()]
        csv_path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    xlsx_path = work / "roster-50k.xlsx"
    if not xlsx_path.exists():
        import xlsxwriter

        book = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True})
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, HEADER)
        for number, row in enumerate(rows(), start=1):
            sheet.write_row(number, 0, [int(row[0]), *row[1:]])  # IDs typed as numbers, as Excel keeps them
        book.close()


def day_dir(work: Path, tree: Path) -> Path:
    """A 40k-entry day written by `tree`'s own store: each version reads only the files it writes."""
    return work / f"day-40k-{hashlib.sha1(str(tree.resolve()).encode()).hexdigest()[:8]}"


def prepare_day(work: Path, tree: Path) -> None:
    day = day_dir(work, tree)
    if not (day / "PREFILLED").exists():
        shutil.rmtree(day, ignore_errors=True)
        run_in(tree, "make-day", work)
        (day / "PREFILLED").write_text(str(ENTRIES))


def this_tree() -> Path:
    """The checkout whose code this process runs (PYTHONPATH of a --tree)."""
    import kiosk

    return Path(kiosk.__file__).resolve().parents[1]


def make_day(work: Path) -> None:
    from kiosk.domain.models import Direction, Entry, Method, Reading, Reason, Role, Verdict, new_entry_id
    from storage.entries import EntryStore

    start = datetime.fromisoformat(f"{DAY}T06:00:00+08:00")
    entries = []
    for seq in range(1, ENTRIES + 1):
        denied = seq % 40 == 0
        moment = (start + timedelta(seconds=seq * 57_600 // ENTRIES)).isoformat(timespec="seconds")
        readings = (Reading(36.4 + seq % 10 / 10, moment, "T1001"),) if seq % 5 == 0 else ()
        entries.append(
            Entry(
                new_entry_id(),
                "bnu-hd-canteen5-east",
                seq,
                f"2023{seq % PEOPLE:06d}",
                Role.STUDENT,
                "欧阳娜娜",
                Method.SERIAL_SCAN,
                Direction.IN if seq % 3 else Direction.OUT,
                moment,
                float(seq),
                Verdict.DENIED if denied else Verdict.ADMITTED,
                (Reason.NO_RETURN_APPROVAL,) if denied else (Reason.ON_ROSTER,),
                "2026.11-1",
                "T1001",
                readings=readings,
            )
        )
    store = EntryStore(day_dir(work, this_tree()) / "data")
    store.load_numbered(entries)
    store.close()


# -- scenarios (each runs in its own process) ----------------------------------------------------------------


def station_config(directory: Path, data: Path, center: str = "", token: Path | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "kiosk.toml"
    text = f'[station]\nid = "bench-01"\n[storage]\ndata_dir = "{data}"\n'
    if center:
        text += f'[center]\nurl = "{center}"\ntoken_file = "{token}"\n'
    config.write_text(text, encoding="utf-8")
    return config


def scenario(name: str, work: Path, scratch: Path) -> dict[str, Any]:
    from kiosk.cli.main import main

    if name in ("import-csv", "import-xlsx"):
        source = work / ("roster-50k.csv" if name == "import-csv" else "roster-50k.xlsx")
        config = station_config(scratch, scratch / "data")
        started = time.perf_counter()
        status = main(["roster", "import", str(source), "--config", str(config)])
        seconds = time.perf_counter() - started
        from storage.roster import RosterStore

        if status != 0 or len(RosterStore(scratch / "data")) != PEOPLE:
            raise SystemExit(f"the import did not take all {PEOPLE} people (exit {status})")
        return {"seconds": seconds}
    if name in ("export-csv", "export-xlsx"):
        config = station_config(scratch, day_dir(work, this_tree()) / "data")
        fmt = name.split("-")[1]
        started = time.perf_counter()
        output = scratch / f"out.{fmt}"
        status = main(["export", "--date", DAY, "--format", fmt, "--output", str(output), "--config", str(config)])
        seconds = time.perf_counter() - started
        if status != 0 or output.stat().st_size < 1_000_000:
            raise SystemExit(f"the export did not write the {ENTRIES} entries (exit {status})")
        return {"seconds": seconds}
    if name == "change-10":
        return change_ten(work, scratch)
    if name in ("pull-full", "pull-10"):
        return pull(work, scratch, name)
    raise SystemExit(f"unknown scenario {name}")


def roster_people() -> list[Any]:
    from kiosk.domain.models import Person, Role

    return [
        Person(f"2023{i:06d}", f"学生{i:05d}", Role.STUDENT, "海淀校园", f"{i % 40}号楼", i % 3 > 0)
        for i in range(PEOPLE)
    ]


def change_ten(work: Path, scratch: Path) -> dict[str, Any]:
    from dataclasses import replace

    from storage.roster import RosterStore

    data = scratch / "data"
    RosterStore(data).replace_all(roster_people(), version="1")
    store = RosterStore(data)
    other = subprocess.Popen(  # another process's store (the app, while the nightly job pulls), loaded
        [sys.executable, __file__, "--catch-up", str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    assert other.stdout is not None and other.stdin is not None
    assert other.stdout.readline().strip() == "ready"
    changed = [replace(person, return_approved=not person.return_approved) for person in roster_people()[:10]]
    before = vm_mb("VmRSS")
    reset_peak()
    tracemalloc.start()
    started = time.perf_counter()
    count = store.upsert(changed, version="2")
    seconds = time.perf_counter() - started
    _, allocated = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    growth = vm_mb("VmHWM") - before
    other.stdin.write("go\n")
    other.stdin.flush()
    catch_up = float(other.stdout.readline())
    other.wait(30)
    assert count == 10
    return {"seconds": seconds, "allocated_mb": allocated / 2**20, "catch_up_seconds": catch_up, "growth_mb": growth}


def catch_up(data: Path) -> None:
    from storage.roster import RosterStore

    store = RosterStore(data)
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    store.load()
    assert store.version == "2"
    print(time.perf_counter() - started, flush=True)


def pull(work: Path, scratch: Path, name: str) -> dict[str, Any]:
    from kiosk.domain.config import load_config
    from kiosk.station.sync import syncer_from_config
    from storage.entries import EntryStore
    from storage.notices import NoticeStore
    from storage.roster import RosterStore

    center = json.loads((work / "center.json").read_text())
    if name == "pull-10":
        center_cli(work, "import-roster", str(work / "change-10.csv"))  # 10 people changed since the full pull
    config = load_config(station_config(scratch, scratch / "data", center["url"], Path(center["token_file"])))
    store, roster = EntryStore(config.data_dir), RosterStore(config.data_dir)
    if name == "pull-10":
        roster.replace_all(roster_people(), version=str(center["version"]))
    syncer = syncer_from_config(config, store, roster, NoticeStore(config.data_dir))
    before = vm_mb("VmRSS")
    reset_peak()
    started = time.perf_counter()
    result = syncer.pull_roster()
    seconds = time.perf_counter() - started
    growth = vm_mb("VmHWM") - before
    store.close()
    return {"seconds": seconds, "changed": result.count, "rss_before_mb": before, "growth_mb": growth}


# -- the center for the pulls --------------------------------------------------------------------------------


def center_cli(work: Path, *args: str) -> str:
    db = f"sqlite:///{work / 'center.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "center", *args, "--db", db],
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=600,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    return done.stdout


def start_center(work: Path) -> subprocess.Popen[bytes]:
    (work / "center.db").unlink(missing_ok=True)
    center_cli(work, "import-roster", str(work / "roster-50k.csv"))
    token = center_cli(work, "add-station", "bench-01").strip().splitlines()[-1]
    (work / "token").write_text(token)
    os.chmod(work / "token", 0o600)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "center",
            "serve",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{work / 'center.db'}",
        ],
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    change = [",".join(HEADER)] + [",".join([*row[:5], "否" if row[5] == "是" else "是"]) for row in rows()[:10]]
    (work / "change-10.csv").write_text("\n".join(change) + "\n", encoding="utf-8")
    (work / "center.json").write_text(
        json.dumps({"url": f"http://127.0.0.1:{port}", "token_file": str(work / "token"), "version": 1})
    )
    return server


# -- driver -------------------------------------------------------------------------------------------------


def run_in(tree: Path, name: str, work: Path, scratch: Path | None = None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    args = [sys.executable, str(Path(__file__).resolve()), "--run", name, "--work", str(work)]
    if scratch is not None:
        args += ["--scratch", str(scratch)]
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tree, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{name} in {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}


def _medians(results: list[tuple[dict[str, Any], str]]) -> Any:
    return lambda key: statistics.median(r[key] for r, _ in results)


def _figures(name: str, results: list[tuple[dict[str, Any], str]]) -> str:
    median = _medians(results)
    other = ""
    if name == "change-10":
        other = (
            f"+{median('growth_mb'):.1f} MB RSS, alloc {median('allocated_mb'):.2f} MB,"
            f" catch-up {median('catch_up_seconds') * 1000:.0f} ms"
        )
    elif name.startswith("pull"):
        other = f"RSS {median('rss_before_mb'):.0f} → +{median('growth_mb'):.0f} MB"
        other += f", {median('changed'):.0f} rows"
    loads = "/".join(load for _, load in results)
    shown = f"{median('seconds') * 1000:.0f} ms" if name == "change-10" else f"{median('seconds'):.2f}"
    return f"{shown:>9} {median('cpu_seconds'):>6.2f} {median('peak_rss_mb'):>12.0f} {other:>52} {loads:>6}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-office"))
    parser.add_argument("--tree", type=Path, action="append", help="checkouts to measure (default: this one)")
    parser.add_argument("--only", action="append", choices=SCENARIOS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--catch-up", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.catch_up:
        catch_up(args.catch_up)
        return
    if args.run == "make-day":
        make_day(args.work)
        return
    if args.run:
        result = scenario(args.run, args.work, args.scratch)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(json.dumps({**result, "peak_rss_mb": peak_rss_mb(), "cpu_seconds": usage.ru_utime + usage.ru_stime}))
        return

    prepare(args.work)
    trees = args.tree or [HERE]
    names = args.only or list(SCENARIOS)
    server = start_center(args.work) if any(n.startswith("pull") for n in names) else None
    try:
        print(f"{date.today()} {os.cpu_count()} CPUs; medians of {args.reps} runs; load = 1-minute load average")
        print(
            f"{'tree':<28} {'scenario':<12} {'seconds':>9} {'cpu s':>6} {'peak RSS MB':>12} {'other':>52} {'load':>6}"
        )
        for tree in trees:
            prepare_day(args.work, tree)
        for name in names:
            results: dict[Path, list[tuple[dict[str, Any], str]]] = {tree: [] for tree in trees}
            for rep in range(args.reps):
                for tree in trees:  # interleaved, run by run: the other jobs' load falls on every tree alike
                    scratch = args.work / f"scratch-{rep}"
                    shutil.rmtree(scratch, ignore_errors=True)
                    results[tree].append((run_in(tree, name, args.work, scratch), load()))
            for tree in trees:
                print(f"{str(tree)[-28:]:<28} {name:<12} {_figures(name, results[tree])}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()

"""Mutation testing of the core with mutmut 3, and a floor on the score.

    .venv/bin/python scripts/mutation.py              # run the core's mutants, print the score, check the floor
    .venv/bin/python scripts/mutation.py --report     # only print the score of the last run (mutants/)
    .venv/bin/python scripts/mutation.py --floor 90   # another floor
    .venv/bin/python scripts/mutation.py --only journal --survivors   # re-run one part, list what survived

The core is the gate's own logic: the rules, the station's decisions and recording, the notice allowlist, the
journal, and the sync acknowledgement (with the notice intake). Which tests run is set in pyproject.toml
([tool.mutmut]); the sync mutants run against a real center on loopback, so a run takes several minutes on two
cores and is not part of the default `pytest`. A mutant counts as killed when a test failed or timed out; one that
no test reaches counts as a survivor. Exit status 1 when the score is below the floor.
"""

from __future__ import annotations

import argparse
import fnmatch
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")

CORE = {
    "rules": ["kiosk.domain.rules.*"],
    "station": [
        f"kiosk.station.station.xǁStationǁ{name}__mutmut_*"
        # Not _forget_old_scans: it only bounds memory past 4,096 people in the duplicate window.
        for name in ("scan", "add_reading", "register_visitor", "_record_new", "toggle_direction")
    ],
    "notice allowlist": [
        f"kiosk.domain.notices.x_{name}__mutmut_*"
        for name in ("url_problem", "title_problem", "notice_problem", "sort_out", "showable")
    ],
    "journal": ["storage.journal.*", "storage.records.x_encode__mutmut_*", "storage.records.x_decode__mutmut_*"],
    "sync acknowledgement": [
        f"kiosk.station.sync.{name}__mutmut_*" for name in ("x__key", "xǁSyncerǁpush", "xǁSyncerǁ_post_entries")
    ],
    "notice intake": ["kiosk.station.sync.xǁSyncerǁpull_notices__mutmut_*"],
}
KILLED = {"killed", "timeout"}
"""mutmut's statuses for a mutant that a test caught (a mutant that hangs the tests is caught too)."""
FLOOR = 80.0
"""Percent of the core's mutants that must be killed (README, Development, has the last measured score)."""


def run_mutants(groups: list[str]) -> None:
    """Run (again) every mutant of these groups; the others keep their last results."""
    patterns = [pattern for group in groups for pattern in CORE[group]]
    subprocess.run([str(MUTMUT), "run", *patterns], cwd=ROOT, check=False, stdout=subprocess.DEVNULL)


def statuses() -> dict[str, str]:
    """Every mutant of the last run and its status, from `mutmut results --all true`."""
    done = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    found = {}
    for line in done.stdout.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            found[name] = status
    return found


def score(found: dict[str, str]) -> tuple[list[tuple[str, int, int, list[str]]], int, int]:
    """Per group: (name, killed, total, survivors); and the totals."""
    rows = []
    for group, patterns in CORE.items():
        mine = {n: s for n, s in found.items() if any(fnmatch.fnmatchcase(n, p) for p in patterns)}
        counts = Counter("killed" if s in KILLED else s for s in mine.values())
        survivors = sorted(n for n, s in mine.items() if s not in KILLED)
        rows.append((group, counts["killed"], len(mine), survivors))
    return rows, sum(r[1] for r in rows), sum(r[2] for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", action="store_true", help="print the last run's score without running")
    parser.add_argument("--floor", type=float, default=FLOOR, help=f"minimum score in percent (default {FLOOR})")
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants (mutmut show NAME)")
    parser.add_argument("--only", action="append", choices=list(CORE), help="run only this part (repeatable)")
    args = parser.parse_args(argv)
    if not args.report:
        run_mutants(args.only or list(CORE))
    rows, killed, total = score(statuses())
    if total == 0:
        print("no mutants found: run without --report first", file=sys.stderr)
        return 1
    print(f"{'core module':<22} {'killed':>7} {'mutants':>8} {'score':>7}")
    for group, group_killed, group_total, survivors in rows:
        percent = 100.0 * group_killed / group_total if group_total else 0.0
        print(f"{group:<22} {group_killed:>7} {group_total:>8} {percent:>6.1f}%")
        if args.survivors:
            for name in survivors:
                print(f"    {name}")
    percent = 100.0 * killed / total
    print(f"{'total':<22} {killed:>7} {total:>8} {percent:>6.1f}%  (floor {args.floor:.1f}%)")
    if percent < args.floor:
        print(f"mutation score {percent:.1f}% is below the floor {args.floor:.1f}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

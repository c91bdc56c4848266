"""Power loss for the roster (snapshot + change log), with the model of tests/unit/test_store_power_loss.py: at
every fsync the roster makes, the data directory is cut back to what a power cut would leave and opened. Every
change a call returned from must be there; remove any fsync in storage/roster.py and the test fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_store_power_loss import ROOT, DurableState

import storage.roster
from kiosk.domain.models import Person, Role
from storage.roster import RosterStore

FSYNCS = [
    ("            os.fsync(fd)\n            self._log_seen", "            self._log_seen"),
    ("        os.fsync(fd)\n    except BaseException", "        pass\n    except BaseException"),
    ("    os.replace(tmp, path)\n    fsync_dir(path.parent)\n", "    os.replace(tmp, path)\n"),
    ("            fsync_dir(self.root)  #", "            pass  #"),
]
"""Every fsync in storage/roster.py (log line, snapshot content, snapshot name, a new log's name), as removals."""
RUN_ONE = "test_every_roster_change_survives_a_power_cut_at_any_fsync"


def people(count: int, start: int = 0, name: str = "学生") -> list[Person]:
    return [Person(f"2023{i:06d}", f"{name}{i}", Role.STUDENT) for i in range(start, start + count)]


def test_every_roster_change_survives_a_power_cut_at_any_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.roster, "LOG_FOLD_MIN", 700)  # a few changes, then a fold into a new snapshot
    root = tmp_path / "data"
    root.mkdir()
    state = DurableState(root)
    done: dict[str, Person] = {}
    """The roster as of the last call that returned."""
    doing: dict[str, Person] | None = None
    """The roster the call in flight makes: a cut inside it may show either."""
    cuts = iter(range(1_000_000))
    checking = False

    def check_now() -> None:
        nonlocal checking
        checking = True
        try:
            cut = RosterStore(state.cut(tmp_path / f"cut-{next(cuts)}"))
            assert cut.warnings == [], f"a power cut looked like damage: {cut.warnings}"
            held = cut.people()
            assert held == done or held == doing, f"{len(held)} people after a cut; {len(done)} acknowledged"
        finally:
            checking = False

    real_open, real_fsync = os.open, os.fsync

    def watched_open(path: object, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        existed = os.path.exists(path) if dir_fd is None else True  # type: ignore[arg-type]
        fd = real_open(path, flags, mode, dir_fd=dir_fd)  # type: ignore[arg-type]
        if not checking and str(path).startswith(str(root)):
            state.opened(fd, existed, flags)
        return fd

    def watched_fsync(fd: int) -> None:
        if not checking and os.readlink(f"/proc/self/fd/{fd}").startswith(str(root)):
            check_now()
            real_fsync(fd)
            state.synced(fd)
        else:
            real_fsync(fd)

    monkeypatch.setattr(os, "open", watched_open)
    monkeypatch.setattr(os, "fsync", watched_fsync)
    store = RosterStore(root)

    def step(call: Callable[[], object], after: dict[str, Person]) -> None:
        nonlocal done, doing
        doing = after
        call()
        done, doing = after, None
        check_now()

    first = {p.person_id: p for p in people(40)}
    step(lambda: store.replace_all(first.values(), version="1"), first)
    current = dict(first)
    for round_ in range(8):
        changed = people(3, start=round_ * 3, name=f"改{round_}-")
        after = {**current, **{p.person_id: p for p in changed}}
        after.pop(f"2023{39 - round_:06d}")
        step(lambda c=changed, r=round_: store.upsert(c, str(r + 2), [f"2023{39 - r:06d}"]), after)
        current = after
    last = {p.person_id: p for p in people(10, start=100)}
    step(lambda: store.replace_all(last.values(), version="99"), last)
    assert state.fsyncs >= 12, "the workload went through the log and the snapshot"


@pytest.mark.slow
@pytest.mark.parametrize(("line", "without"), FSYNCS, ids=[f"roster.py:{i}" for i in range(len(FSYNCS))])
def test_removing_any_roster_fsync_fails_the_power_cut_test(tmp_path: Path, line: str, without: str) -> None:
    text = (ROOT / "storage" / "roster.py").read_text(encoding="utf-8")
    assert text.count("os.fsync(") + text.count("fsync_dir(") == len(FSYNCS), "list every fsync in FSYNCS"
    scratch = tmp_path / "scratch"
    shutil.copytree(ROOT / "storage", scratch / "storage")
    assert text.count(line) == 1, line
    (scratch / "storage" / "roster.py").write_text(text.replace(line, without), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", f"{__file__}::{RUN_ONE}"],
        env={**os.environ, "PYTHONPATH": f"{scratch}{os.pathsep}{Path(__file__).parent}"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1 and "AssertionError" in result.stdout, result.stdout[-2000:]

"""Power loss, not only kill -9: at every fsync the store makes, and after every call it returns from, the data
directory is cut back to what a power cut would leave, then opened. Every acknowledged entry, amendment,
acknowledgement and purge must be there.

The model is POSIX at its weakest: a file's bytes are durable as of its last fsync/fdatasync (a file never
fsynced is empty), and a directory's names as of the last fsync of that directory (a directory never fsynced
is empty). A kill -9 keeps the page cache and could not tell; remove any fsync in storage/ (the entry store's and
the roster's) and a test here fails.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pytest

from kiosk.domain.models import Entry, Person, Reading, Role
from storage.entries import EntryStore
from storage.roster import RosterStore

DAYS = ("2026-11-20", "2026-11-28")


class DurableState:
    """What would survive a power cut, kept up to date by watching os.open, os.fsync and os.fdatasync."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.content: dict[int, bytes] = {}
        """Durable bytes by inode."""
        self.listing: dict[Path, dict[str, tuple[int, bool]]] = {}
        """Durable names of each directory: name -> (inode, is a directory)."""
        self.fsyncs = 0
        for folder, _dirs, files in os.walk(root):
            self._list(Path(folder))
            for name in files:
                path = Path(folder) / name
                self.content[path.stat().st_ino] = path.read_bytes()

    def opened(self, fd: int, existed: bool, flags: int) -> None:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and (not existed or flags & os.O_TRUNC):
            self.content[info.st_ino] = b""  # a new file (perhaps on a reused inode) holds nothing durable yet

    def synced(self, fd: int) -> None:
        self.fsyncs += 1
        info = os.fstat(fd)
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if stat.S_ISDIR(info.st_mode):
            self._list(path)
        else:
            with open(f"/proc/self/fd/{fd}", "rb") as handle:
                self.content[info.st_ino] = handle.read()

    def _list(self, folder: Path) -> None:
        self.listing[folder] = {
            entry.name: (entry.inode(), entry.is_dir(follow_symlinks=False)) for entry in os.scandir(folder)
        }

    def cut(self, target: Path) -> Path:
        """Write into `target` the directory tree a power cut would leave now."""
        self._write(self.root, target)
        return target

    def _write(self, folder: Path, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        for name, (inode, is_dir) in self.listing.get(folder, {}).items():
            if is_dir:
                self._write(folder / name, target / name)
            else:
                (target / name).write_bytes(self.content.get(inode, b""))


@dataclass
class Expected:
    """What the store has acknowledged so far."""

    entries: dict[str, Entry] = field(default_factory=dict)
    """The newest acknowledged revision of each entry, with its acknowledgement by the center if recorded."""
    purged: set[str] = field(default_factory=set)
    """Entries a returned purge deleted: they must stay deleted."""
    purging: set[str] = field(default_factory=set)
    """Entries a running purge may delete."""
    audit_purged: bool = False
    """The old day's audit records were purged (by a purge that returned)."""
    people: dict[str, Person] = field(default_factory=dict)
    """The roster as the last roster write that returned left it."""


def check_cut(state: DurableState, expected: Expected, target: Path) -> None:
    store = EntryStore(state.cut(target))
    try:
        assert store.warnings == [], f"a power cut looked like damage: {store.warnings}"
        held = {e.entry_id: e for day in DAYS for e in store.entries_of_day(day)}
        for entry_id, entry in expected.entries.items():
            if entry_id in expected.purged or entry_id in expected.purging:
                continue
            assert entry_id in held, f"acknowledged entry seq {entry.seq} lost"
            assert held[entry_id].revision == entry.revision, f"seq {entry.seq}: acknowledged revision lost"
            assert (held[entry_id].acked_at is None) == (entry.acked_at is None), f"seq {entry.seq}: ack lost"
        assert not expected.purged & held.keys(), "purged entries came back"
        roster = RosterStore(target)
        assert roster.warnings == [], f"a power cut looked like damage: {roster.warnings}"
        assert {person_id: roster.get(person_id) for person_id in expected.people} == expected.people, "roster"
        if expected.audit_purged:
            assert store.audit_of_day(DAYS[0]) == [], "purged audit records came back"
        if expected.entries:
            model = next(iter(expected.entries.values()))
            later = replace(model, entry_id="0190ffff-0000-7000-8000-000000000000", seq=0, revision=0, acked_at=None)
            assert store.record(later).seq > max(e.seq for e in expected.entries.values()), "a seq given twice"
    finally:
        store.close()


@dataclass
class PowerCuts:
    state: DurableState
    expected: Expected
    check_now: Callable[[], None]
    """Cut the power now (in a copy) and check what is left against `expected`."""


@pytest.fixture
def durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PowerCuts]:
    """Watch the store's durability calls, cutting the power (in a copy) just before each fsync."""
    root = tmp_path / "data"
    root.mkdir()
    state = DurableState(root)
    cuts = iter(range(1_000_000))
    expected = Expected()
    checking = False

    def check_now() -> None:
        nonlocal checking
        if checking:
            return
        checking = True
        try:
            check_cut(state, expected, tmp_path / f"cut-{next(cuts)}")
        finally:
            checking = False

    real_open, real_fsync, real_fdatasync = os.open, os.fsync, os.fdatasync

    def watched_open(path: object, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        existed = os.path.exists(path) if dir_fd is None else True  # type: ignore[arg-type]
        fd = real_open(path, flags, mode, dir_fd=dir_fd)  # type: ignore[arg-type]
        if not checking and str(path).startswith(str(root)):
            state.opened(fd, existed, flags)
        return fd

    def watched_sync(real: Callable[[int], None]) -> Callable[[int], None]:
        def sync(fd: int) -> None:
            if not checking and os.readlink(f"/proc/self/fd/{fd}").startswith(str(root)):
                check_now()  # a cut just before this fsync: what the previous ones made durable must do
                real(fd)
                state.synced(fd)
            else:
                real(fd)

        return sync

    monkeypatch.setattr(os, "open", watched_open)
    monkeypatch.setattr(os, "fsync", watched_sync(real_fsync))
    monkeypatch.setattr(os, "fdatasync", watched_sync(real_fdatasync))
    yield PowerCuts(state, expected, check_now)


def test_every_acknowledged_change_survives_a_power_cut_at_any_fsync(
    durable: PowerCuts, make_entry: Callable[..., Entry]
) -> None:
    state, expected, check_now = durable.state, durable.expected, durable.check_now
    store = EntryStore(state.root)

    def record(entry: Entry) -> Entry:
        stored = store.record(entry)
        expected.entries[stored.entry_id] = stored
        check_now()
        return stored

    def acked(entries: list[Entry]) -> None:
        store.mark_acked([(e.entry_id, e.revision) for e in entries], at=f"{DAYS[1]}T12:00:00+08:00")
        for e in entries:
            expected.entries[e.entry_id] = Entry.from_dict({**e.to_dict(), "acked_at": "x"})
        check_now()

    roster = RosterStore(state.root)
    people = [Person(f"2023{n:06d}", f"学生{n}", Role.STUDENT) for n in range(20)]
    roster.replace_all(people, "1")
    expected.people = {p.person_id: p for p in people}
    check_now()
    old = [record(make_entry(captured_at=f"{DAYS[0]}T07:{i:02d}:00+08:00")) for i in range(12)]
    acked(old)
    store.audit("rejected_scan", "garbage", f"{DAYS[0]}T08:00:00+08:00")
    store.fold()
    check_now()
    changed = [
        Person("2023000003", "学生3", Role.STUDENT, return_approved=True),
        Person("2099000001", "新人", Role.STAFF),
    ]
    roster.upsert(changed, "2")
    expected.people |= {p.person_id: p for p in changed}
    check_now()
    new = [record(make_entry(captured_at=f"{DAYS[1]}T07:{i:02d}:00+08:00")) for i in range(12)]
    for entry in new[:4]:
        record(entry.amended(readings=(Reading(36.6, entry.captured_at, "T1001"),)))
    store.fold()
    check_now()
    acked([expected.entries[e.entry_id] for e in new[:6]])
    record(make_entry(captured_at=f"{DAYS[1]}T09:00:00+08:00"))
    expected.purging = {e.entry_id for e in old}
    store.purge(5, date(2026, 11, 29))
    expected.purged, expected.purging, expected.audit_purged = expected.purging, set(), True
    check_now()
    for _ in range(3):
        record(make_entry(captured_at=f"{DAYS[1]}T10:00:00+08:00"))
    store.close()
    assert state.fsyncs > 60, "the workload went through the store's durable paths"


ROOT = Path(__file__).resolve().parents[2]
FSYNCS = [
    ("journal.py", "                os.fdatasync(self.fd)\n", "                pass\n"),
    ("journal.py", "                os.fdatasync(fd)\n", "                pass\n"),  # an acknowledgement's, deferred
    ("files.py", "        os.fsync(fd)\n    except OSError as exc:", "        pass\n    except OSError as exc:"),
    ("files.py", "    os.replace(tmp, path)\n    fsync_dir(path.parent)\n", "    os.replace(tmp, path)\n"),
    ("files.py", "        os.fsync(fd)\n    finally:", "        pass\n    finally:"),
    ("entries.py", "for folder in (self.entries_dir, self.audit_dir):", "for folder in (self.audit_dir,):"),
    ("entries.py", "for folder in (self.entries_dir, self.audit_dir):", "for folder in (self.entries_dir,):"),
    ("roster.py", "            os.fsync(fd)\n            self._log_seen", "            self._log_seen"),
    ("roster.py", "            fsync_dir(self.root)  # a new log file", "            pass  # a new log file"),
    ("roster.py", "        os.fsync(fd)\n    except BaseException", "        pass\n    except BaseException"),
    ("roster.py", "    os.replace(tmp, path)\n    fsync_dir(path.parent)\n", "    os.replace(tmp, path)\n"),
]
"""Every fsync and fdatasync in storage/, each as a one-line removal."""


@pytest.mark.slow
@pytest.mark.parametrize(("module", "line", "without"), FSYNCS, ids=[f"{m}:{i}" for i, (m, _, _) in enumerate(FSYNCS)])
def test_removing_any_fsync_fails_the_power_cut_test(tmp_path: Path, module: str, line: str, without: str) -> None:
    """Run the test above against a scratch copy of storage/ with one fsync removed: it must fail."""
    every_sync = sum(
        path.read_text(encoding="utf-8").count(call) for path in (ROOT / "storage").glob("*.py") for call in SYNC_CALLS
    )
    assert every_sync == 10, "an fsync was added or removed in storage/: list it in FSYNCS"
    scratch = tmp_path / "scratch"
    shutil.copytree(ROOT / "storage", scratch / "storage")
    source = scratch / "storage" / module
    text = source.read_text(encoding="utf-8")
    assert text.count(line) == 1, line
    source.write_text(text.replace(line, without), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", f"{__file__}::{RUN_ONE}"],
        env={**os.environ, "PYTHONPATH": str(scratch)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1 and "AssertionError" in result.stdout, result.stdout[-2000:]


SYNC_CALLS = ("os.fsync(", "os.fdatasync(", "fsync_dir(folder)", "fsync_dir(path.parent)", "fsync_dir(self.root)")
RUN_ONE = "test_every_acknowledged_change_survives_a_power_cut_at_any_fsync"

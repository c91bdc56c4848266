"""Folding runs beside the scans: the store's lock is held only for moments, so a scan never waits for a fold."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from kiosk.domain.models import Entry
from storage.entries import EntryStore


def folding(root: Path) -> bool:
    """Whether a fold holds the fold lock now (probed the way another process would)."""
    fd = os.open(root / "fold.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_scans_are_recorded_while_a_fold_runs_and_nothing_is_lost(
    tmp_path: Path, make_entry: Callable[..., Entry]
) -> None:
    store = EntryStore(tmp_path / "data")
    first = date(2026, 10, 1)
    before = [
        store.record(make_entry(captured_at=f"{first + timedelta(days=n % 60)}T07:00:00+08:00")) for n in range(600)
    ]
    fold = threading.Thread(target=store.fold)
    fold.start()
    while not folding(store.root) and fold.is_alive():
        pass
    during = []
    while fold.is_alive():
        entry = store.record(make_entry(captured_at="2026-11-28T08:00:00+08:00"))
        if folding(store.root):
            during.append(entry)  # recorded, and the fold still running: the scan did not wait for it
    fold.join()
    assert during, "no scan was recorded while the fold ran: the fold held the store's lock throughout"
    store.close()
    store = EntryStore(tmp_path / "data")
    held = {e.entry_id: e for day in store.days() for e in store.entries_of_day(day)}
    assert all(held.get(e.entry_id) == e for e in before + during), "an entry recorded around the fold was lost"
    assert store.unsynced_count() == len(held)
    store.fold()
    assert store.check().clean and store.warnings == []
    store.close()

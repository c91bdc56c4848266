"""Progress bars for long commands (roster import, export, a sync of a backlog, the nightly job run by hand),
drawn by Rich on a terminal only: a cron job or a pipe gets no control characters."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from kiosk.station.sync import Syncer, SyncReport
    from storage.entries import EntryStore

Advance = Callable[[int, int], None]
"""Called with (done, total); a total of 0 means unknown."""


@contextmanager
def progress_bar(description: str, stream: TextIO | None = None) -> Iterator[Advance]:
    """A bar on `stream` (standard error) while the block runs, if it is a terminal; otherwise nothing is drawn."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=stream)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)

        yield advance


def sync_with_progress(syncer: Syncer, store: EntryStore, stream: TextIO | None = None) -> SyncReport:
    """One sync pass; on a terminal, a bar of the entries acknowledged so far (a backlog can take minutes)."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return syncer.sync_once()
    waiting = store.unsynced_count()
    outcome: list[SyncReport] = []
    worker = threading.Thread(target=lambda: outcome.append(syncer.sync_once()), name="sync", daemon=True)
    with progress_bar("上传 / pushing", stream) as advance:
        worker.start()
        while worker.is_alive():
            advance(max(0, waiting - store.unsynced_count()), waiting)
            worker.join(0.25)
        advance(max(0, waiting - store.unsynced_count()), waiting)
    if not outcome:
        raise RuntimeError("sync pass ended without a report")  # its exception was printed by the thread
    return outcome[0]

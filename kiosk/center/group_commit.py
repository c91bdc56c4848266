"""Group commit: pushes that arrive while a transaction is being written share the next one.

SQLite has one writer, and every commit waits for an fsync. With many stations pushing at once, writing their
batches one transaction each would queue them behind as many fsyncs; instead the first caller becomes the
leader, writes everything that has queued up in one transaction, and wakes the others once it has committed.
Nobody gets an answer before the transaction holding their rows has committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Row = tuple[Any, ...]
"""One entry's stored values, its entry_id first."""
Rows = list[Row]


@dataclass
class _Job:
    rows: Rows
    done: bool = False
    written: set[str] = field(default_factory=set)
    error: BaseException | None = None


class GroupCommit:
    """Calls `write(rows) -> ids written` for the rows of every caller waiting, in one call, from one thread."""

    def __init__(self, write: Callable[[Rows], set[str]]) -> None:
        self._write = write
        self._changed = threading.Condition()
        self._queue: list[_Job] = []
        self._writing = False

    def write(self, rows: Rows) -> set[str]:
        """The ids among `rows` that the committed transaction wrote; raises what the transaction raised."""
        job = _Job(rows)
        with self._changed:
            self._queue.append(job)
            while self._writing and not job.done:
                self._changed.wait()
            if not job.done:
                self._writing = True
                group, self._queue = self._queue, []
        if not job.done:
            self._lead(group)
        if job.error is not None:
            raise job.error
        return job.written

    def _lead(self, group: list[_Job]) -> None:
        try:
            written = self._write([row for job in group for row in job.rows])
        except BaseException as exc:  # every caller of the group must hear of the failure, whatever it is
            for job in group:
                job.error = exc
        else:
            for job in group:
                job.written = {row[0] for row in job.rows} & written
        finally:
            with self._changed:
                for job in group:
                    job.done = True
                self._writing = False
                self._changed.notify_all()

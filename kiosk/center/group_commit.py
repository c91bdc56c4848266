"""Group commit: pushes that arrive while a transaction is being written share the next one.

SQLite has one writer, and every commit waits for an fsync. With many stations pushing at once, writing their
batches one transaction each would queue them behind as many fsyncs; instead the first caller becomes the
leader, writes everything that has queued up in one transaction, and wakes the others once it has committed.
Nobody gets an answer before the transaction holding their rows has committed. When the shared transaction
fails, each caller's rows are written again in a transaction of their own: one caller's bad row must not cost
the others their commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Row = tuple[Any, ...]
"""One entry's stored values, its key (station_id, entry_id) first."""
Rows = list[Row]
Key = tuple[str, str]


@dataclass
class _Job:
    rows: Rows
    done: bool = False
    written: set[Key] = field(default_factory=set)
    error: BaseException | None = None


class GroupCommit:
    """Calls `write(rows) -> keys written` for the rows of every caller waiting, in one call, from one thread."""

    def __init__(self, write: Callable[[Rows], set[Key]]) -> None:
        self._write = write
        self._changed = threading.Condition()
        self._queue: list[_Job] = []
        self._writing = False

    def write(self, rows: Rows) -> set[Key]:
        """The keys among `rows` that the committed transaction wrote; raises what the transaction raised."""
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
            try:
                written = self._write([row for job in group for row in job.rows])
            except Exception:
                if len(group) == 1:
                    raise
                for job in group:
                    self._write_alone(job)
            else:
                for job in group:  # alone, a caller's keys are all of them
                    job.written = written if len(group) == 1 else {row[:2] for row in job.rows} & written
        except BaseException as exc:  # every caller of the group must hear of the failure, whatever it is
            for job in group:
                job.error = exc
        finally:
            with self._changed:
                for job in group:
                    job.done = True
                self._writing = False
                self._changed.notify_all()

    def _write_alone(self, job: _Job) -> None:
        try:
            job.written = {row[:2] for row in job.rows} & self._write(job.rows)
        except Exception as exc:
            job.error = exc

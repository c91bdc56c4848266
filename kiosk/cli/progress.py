"""Progress bars for long commands (roster import, export, sync of a backlog), drawn by Rich on a terminal only."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

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

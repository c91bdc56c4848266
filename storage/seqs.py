"""The sequence-number ledger: a high-water mark reserved ahead, and the numbers lost to damage.

Sequence numbers are reserved `RESERVE` at a time in their own small file, so that one file write every few
hundred entries (not one per entry) keeps a mark no entry's number can pass. When the journal is damaged or
lost, the store resumes above the mark: a number is never given twice, whichever one file is lost.

Numbers whose entries were lost to damage wait here ("pending") until the center settles them: it sends back
the ones it holds, and records the others as lost at this station ("reported").
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from storage import records
from storage.files import move_aside, write_atomic

RESERVE = 256
"""Sequence numbers reserved per write of the ledger: few enough that the numbers skipped after a damaged journal
(reported to the center as possibly lost) stay few, rare enough that the write stays off the insert p99."""


class SeqLedger:
    """The file `seqs.json`. Not thread-safe: the entry store serialises access under its lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reserved = 0
        """No sequence number above this one has been handed out."""
        self.pending: set[int] = set()
        """Lost here, not yet settled with the center."""
        self.reported: set[int] = set()
        """Lost here, and recorded as lost by the center."""
        self.exists = False

    def load(self) -> list[str]:
        """Read the file; return warnings when it was damaged (it is then moved aside and starts empty)."""
        found = records.read(self.path)
        self.exists = found.exists
        ledger = next((r for r in found.records if r.get("op") == "seqs"), None)
        try:
            if ledger is not None:
                reserved = ledger["reserved"]
                if not isinstance(reserved, int):
                    raise TypeError("reserved")
                pending, reported = records.expand(ledger["pending"]), records.expand(ledger["reported"])
                if not found.damaged:
                    self.reserved, self.pending, self.reported = reserved, pending, reported
                    return []
        except (KeyError, TypeError, ValueError):
            pass
        if not found.exists:
            return []
        aside = move_aside(self.path)
        self.exists = False
        return [f"序号记录已损坏,已移至 {aside.name},已重建 / sequence ledger damaged, moved to {aside.name}; rebuilt"]

    def reserve(self, seq: int) -> None:
        """Make sure `seq` may be handed out: raise the mark (a durable write) when it would pass it."""
        if seq > self.reserved or not self.exists:
            self.reserved = max(self.reserved, seq + RESERVE - 1)
            self.save()

    def lose(self, seqs: Iterable[int]) -> set[int]:
        """Note numbers whose entries are lost; return those that were not known lost before."""
        new = set(seqs) - self.pending - self.reported
        if new:
            self.pending |= new
            self.save()
        return new

    def settle(self, recovered: Iterable[int] = (), reported: Iterable[int] = ()) -> None:
        """Numbers the center sent back (entry restored) or recorded as lost."""
        recovered, reported = set(recovered), set(reported)
        if (recovered | reported) & (self.pending | self.reported):
            self.pending -= recovered | reported
            self.reported = (self.reported - recovered) | reported
            self.save()

    def save(self) -> None:
        record = {
            "op": "seqs",
            "reserved": self.reserved,
            "pending": records.ranges(self.pending),
            "reported": records.ranges(self.reported),
        }
        write_atomic(self.path, records.encode(record))
        self.exists = True

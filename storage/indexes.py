"""In-memory indexes of the entry store: running day tallies, and the entries waiting for the center."""

from __future__ import annotations

import itertools

from kiosk.domain.models import DayCounts, Direction, Entry, Verdict


class Tally:
    """Running counts for one day, kept exact across amendments."""

    def __init__(self) -> None:
        self.by_entry: dict[str, tuple[Verdict, Direction, int]] = {}
        self.verdicts = {v: 0 for v in Verdict}
        self.entered = self.left = 0
        self.by_hour = [0] * 24

    def add(self, entry: Entry) -> None:
        self.count(entry.entry_id, entry.verdict, entry.direction, entry.hour)

    def count(self, entry_id: str, verdict: Verdict, direction: Direction, hour: int) -> None:
        """Count an entry's newest revision (replacing what an earlier revision counted)."""
        old = self.by_entry.get(entry_id)
        if old is not None:
            self._count(*old, sign=-1)
        self.by_entry[entry_id] = (verdict, direction, hour)
        self._count(verdict, direction, hour, sign=1)

    def _count(self, verdict: Verdict, direction: Direction, hour: int, sign: int) -> None:
        self.verdicts[verdict] += sign
        self.by_hour[hour] += sign
        if verdict is Verdict.ADMITTED:
            if direction is Direction.IN:
                self.entered += sign
            else:
                self.left += sign

    def counts(self) -> DayCounts:
        return DayCounts(
            admitted=self.verdicts[Verdict.ADMITTED],
            denied=self.verdicts[Verdict.DENIED],
            referred=self.verdicts[Verdict.REFERRED],
            entered=self.entered,
            left=self.left,
            by_hour=tuple(self.by_hour),
        )


class SeqIndex:
    """Entries waiting for the center, by entry id: (seq, chunk, revision, captured_at), cheap to take in seq order.

    Entries arrive in sequence order almost always; an amendment of an old entry or a reload breaks the order,
    and the next `first` sorts once instead of searching the whole index on every batch.
    """

    def __init__(self) -> None:
        self._items: dict[str, tuple[int, str, int, str]] = {}
        self._last_seq = 0
        self._ordered = True

    def __len__(self) -> int:
        return len(self._items)

    def add(self, entry_id: str, item: tuple[int, str, int, str]) -> None:
        if item[0] < self._last_seq:
            self._ordered = False
        self._last_seq = max(self._last_seq, item[0])
        self._items[entry_id] = item

    def get(self, entry_id: str) -> tuple[int, str, int, str] | None:
        return self._items.get(entry_id)

    def pop(self, entry_id: str) -> None:
        self._items.pop(entry_id, None)

    def first(self, limit: int) -> list[tuple[str, tuple[int, str, int, str]]]:
        """The `limit` entries with the lowest sequence numbers."""
        if not self._ordered:
            self._items = dict(sorted(self._items.items(), key=lambda pair: pair[1][0]))
            self._ordered = True
        return list(itertools.islice(self._items.items(), limit))

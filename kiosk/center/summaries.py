"""Per-station summaries kept as entries arrive, so that the completeness report never reads the entries.

In the transaction that stores a batch, each station's totals (entries received, highest seq, last arrival) are
bumped and its newly received seqs merged into `seq_runs`, the maximal runs of consecutive seqs it has sent. The
gaps are what lies between the runs: the report costs as much as there are stations and gaps, whatever the
length of the history. `db.rebuild_summaries` builds the same tables from scratch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from kiosk.center.db import seq_runs, station_totals

Range = tuple[int, int]


@dataclass
class StationSummary:
    """What the center has received from one station."""

    received: int = 0
    max_seq: int = 0
    last_received: datetime | None = None
    runs: list[Range] = field(default_factory=list)

    @property
    def gaps(self) -> list[Range]:
        """Missing seq ranges [first, last] between 1 and max_seq."""
        missing, expected = [], 1
        for first, last in self.runs:
            if first > expected:
                missing.append((expected, first - 1))
            expected = last + 1
        return missing


def record(cursor: Any, postgresql: bool, arrived: Iterable[tuple[str, int]], touched: Iterable[str], at: str) -> None:
    """Add to the summaries, inside the storing transaction: `arrived` are the (station_id, seq) of entries
    stored for the first time, `touched` the stations with anything written (new or newer revisions) at `at`.

    The totals row is written first: on PostgreSQL its row lock orders two transactions of the same station,
    so that the second reads the runs the first committed.
    """
    mark = "%s" if postgresql else "?"
    larger = "GREATEST" if postgresql else "max"
    counts: dict[str, int] = defaultdict(int)
    highest: dict[str, int] = defaultdict(int)
    seqs: dict[str, set[int]] = defaultdict(set)
    for station_id, seq in arrived:
        counts[station_id] += 1
        highest[station_id] = max(highest[station_id], seq)
        seqs[station_id].add(seq)
    for station_id in sorted(set(touched) | counts.keys()):
        cursor.execute(
            f"INSERT INTO station_totals (station_id, received, max_seq, last_received) VALUES ({mark}, {mark},"
            f" {mark}, {mark}) ON CONFLICT (station_id) DO UPDATE SET received = station_totals.received"
            f" + excluded.received, max_seq = {larger}(station_totals.max_seq, excluded.max_seq),"
            " last_received = excluded.last_received",
            (station_id, counts.get(station_id, 0), highest.get(station_id, 0), at),
        )
        runs = _joined([(seq, seq) for seq in sorted(seqs.get(station_id, ()))])
        if runs:
            _merge(cursor, mark, station_id, runs)


def _joined(ranges: list[Range]) -> list[Range]:
    """Sorted ranges with those that overlap or touch joined: the maximal runs they cover."""
    runs: list[Range] = []
    for first, last in ranges:
        if runs and first <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], max(runs[-1][1], last))
        else:
            runs.append((first, last))
    return runs


def _merge(cursor: Any, mark: str, station_id: str, runs: list[Range]) -> None:
    """Merge a batch's runs (sorted, apart) into the station's: a few statements per batch, whatever it holds.

    The stored runs that can touch the batch's are those ending within its span, and at most one ending past
    it (runs never overlap): both found through the primary key (station_id, last_seq).
    """
    low, high = runs[0][0] - 1, runs[-1][1] + 1
    cursor.execute(
        f"SELECT first_seq, last_seq FROM seq_runs WHERE station_id = {mark} AND last_seq >= {mark}"
        f" AND last_seq <= {mark}",
        (station_id, low, high),
    )
    stored = [(first, last) for first, last in cursor.fetchall()]
    cursor.execute(
        f"SELECT first_seq, last_seq FROM seq_runs WHERE station_id = {mark} AND last_seq > {mark}"
        " ORDER BY last_seq LIMIT 1",
        (station_id, high),
    )
    stored += [(first, last) for first, last in cursor.fetchall() if first <= high]
    before = set(stored)
    after = set(_joined(sorted(stored + runs)))
    gone = [(station_id, last) for _, last in before - after]
    if gone:
        cursor.executemany(f"DELETE FROM seq_runs WHERE station_id = {mark} AND last_seq = {mark}", gone)
    made = [(station_id, last, first) for first, last in sorted(after - before)]
    if made:
        insert = f"INSERT INTO seq_runs (station_id, last_seq, first_seq) VALUES ({mark}, {mark}, {mark})"
        cursor.executemany(insert, made)


def read(conn: Connection) -> dict[str, StationSummary]:
    """Every station's summary (stations that never sent anything are absent)."""
    summaries: dict[str, StationSummary] = {}
    for station_id, received, max_seq, last_received in conn.execute(select(station_totals)):
        summaries[station_id] = StationSummary(received, max_seq, last_received)
    query = select(seq_runs.c.station_id, seq_runs.c.first_seq, seq_runs.c.last_seq).order_by(
        seq_runs.c.station_id, seq_runs.c.last_seq
    )
    for station_id, first, last in conn.execute(query):
        summaries.setdefault(station_id, StationSummary()).runs.append((first, last))
    return summaries

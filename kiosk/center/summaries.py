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
        for first, last in _runs(sorted(seqs.get(station_id, ()))):
            _merge(cursor, mark, station_id, first, last)


def _runs(ordered: list[int]) -> list[Range]:
    runs: list[Range] = []
    for seq in ordered:
        if runs and seq == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], seq)
        else:
            runs.append((seq, seq))
    return runs


def _merge(cursor: Any, mark: str, station_id: str, first: int, last: int) -> None:
    """Merge [first, last] into the station's runs, joining every run it overlaps or touches."""
    cursor.execute(
        f"SELECT first_seq, last_seq FROM seq_runs WHERE station_id = {mark} AND last_seq >= {mark}"
        f" AND first_seq <= {mark}",
        (station_id, first - 1, last + 1),
    )
    joined = cursor.fetchall()
    if joined:
        first = min(first, *(run[0] for run in joined))
        last = max(last, *(run[1] for run in joined))
        ends = [run[1] for run in joined]
        cursor.execute(
            f"DELETE FROM seq_runs WHERE station_id = {mark} AND last_seq IN ({', '.join([mark] * len(ends))})",
            (station_id, *ends),
        )
    cursor.execute(
        f"INSERT INTO seq_runs (station_id, last_seq, first_seq) VALUES ({mark}, {mark}, {mark})",
        (station_id, last, first),
    )


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

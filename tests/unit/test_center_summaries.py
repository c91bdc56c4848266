"""The completeness summaries kept as entries arrive agree with the entries themselves, whatever the order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kiosk.center import summaries  # noqa: E402
from kiosk.center.db import Database, rebuild_summaries  # noqa: E402
from kiosk.center.entries import Receiver  # noqa: E402
from kiosk.domain.models import Entry  # noqa: E402


def expected_gaps(seqs: set[int]) -> list[tuple[int, int]]:
    gaps, start = [], None
    for seq in range(1, max(seqs, default=0) + 1):
        if seq not in seqs and start is None:
            start = seq
        if seq in seqs and start is not None:
            gaps.append((start, seq - 1))
            start = None
    return gaps


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pushes=st.lists(
        st.tuples(st.sampled_from(["s1", "s2"]), st.lists(st.integers(1, 60), min_size=1, max_size=15)),
        min_size=1,
        max_size=12,
    )
)
def test_summaries_match_the_entries(
    tmp_path_factory: pytest.TempPathFactory, make_entry: Callable[..., Entry], pushes: list[tuple[str, list[int]]]
) -> None:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('center') / 'center.db'}")
    receiver = Receiver(db)
    sent: dict[str, dict[int, Entry]] = {"s1": {}, "s2": {}}
    for station_id, seqs in pushes:
        # A seq sent again is the same entry again (a retry), sometimes a newer revision of it.
        batch = []
        for seq in seqs:
            entry = sent[station_id].get(seq) or make_entry(station_id=station_id, seq=seq)
            if seq in sent[station_id] and seq % 3 == 0:
                entry = entry.amended(operator="T2")
            sent[station_id][seq] = entry
            batch.append(entry.to_dict())
        receiver.push(station_id, batch)
    with db.read() as conn:
        kept = summaries.read(conn)
    for station_id, entries in sent.items():
        if not entries:
            assert station_id not in kept
            continue
        summary = kept[station_id]
        assert summary.received == len(entries)
        assert summary.max_seq == max(entries)
        assert summary.gaps == expected_gaps(set(entries))
    with db.write() as conn:
        rebuild_summaries(conn)
    with db.read() as conn:
        rebuilt = summaries.read(conn)
    assert {k: (s.received, s.max_seq, s.runs) for k, s in rebuilt.items()} == {
        k: (s.received, s.max_seq, s.runs) for k, s in kept.items()
    }
    db.close()


def test_a_gap_filled_later_joins_the_runs(tmp_path: Path, make_entry: Callable[..., Entry]) -> None:
    db = Database(f"sqlite:///{tmp_path / 'center.db'}")
    receiver = Receiver(db)
    receiver.push("s1", [make_entry(station_id="s1", seq=seq).to_dict() for seq in (1, 2, 5, 6, 9)])
    with db.read() as conn:
        assert summaries.read(conn)["s1"].runs == [(1, 2), (5, 6), (9, 9)]
    receiver.push("s1", [make_entry(station_id="s1", seq=seq).to_dict() for seq in (3, 4, 7, 8)])
    with db.read() as conn:
        summary = summaries.read(conn)["s1"]
    assert (summary.runs, summary.gaps, summary.received, summary.max_seq) == ([(1, 9)], [], 9, 9)
    db.close()

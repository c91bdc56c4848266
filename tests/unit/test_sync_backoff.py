"""Full-jitter backoff, the token file check and the wire form of entries, without a network."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.domain.models import Entry, Reading, Reason, Verdict, Visitor
from kiosk.station.backoff import Backoff
from kiosk.station.sync import SyncSetupError, read_token


def test_backoff_ceiling_doubles_up_to_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=30.0, rand=lambda: 0.999999)
    waits = [backoff.failed() for _ in range(8)]
    assert [round(w) for w in waits] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_backoff_is_full_jitter_between_zero_and_the_ceiling() -> None:
    source = random.Random(20261128)
    backoff = Backoff(base=2.0, cap=60.0, rand=source.random)
    for attempt in range(200):
        ceiling = min(60.0, 2.0 * 2 ** min(attempt, 10))
        assert 0.0 <= backoff.failed() < ceiling


def test_backoff_with_the_same_seed_repeats_and_spreads_stations_apart() -> None:
    def waits(seed: int) -> list[float]:
        backoff = Backoff(base=1.0, cap=300.0, rand=random.Random(seed).random)
        return [backoff.failed() for _ in range(10)]

    assert waits(7) == waits(7)
    assert waits(7) != waits(8)
    assert len({round(w, 6) for w in waits(7)}) == 10


def test_success_resets_the_backoff() -> None:
    backoff = Backoff(base=1.0, cap=300.0, rand=lambda: 0.5)
    for _ in range(5):
        backoff.failed()
    backoff.succeeded()
    assert backoff.failures == 0
    assert backoff.failed() == 0.5


def test_backoff_survives_a_week_offline() -> None:
    backoff = Backoff(base=1.0, cap=300.0, rand=lambda: 0.5)
    for _ in range(100_000):
        wait = backoff.failed()
    assert wait == 150.0


def test_token_is_read_and_stripped(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("abc123\n")
    path.chmod(0o600)
    assert read_token(path) == "abc123"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_token_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "token"
    path.write_text("abc123\n")
    path.chmod(mode)
    with pytest.raises(SyncSetupError, match="chmod 600"):
        read_token(path)


def test_missing_or_empty_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SyncSetupError, match="token file not found"):
        read_token(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    empty.chmod(0o600)
    with pytest.raises(SyncSetupError, match="empty"):
        read_token(empty)


def test_the_wire_form_of_an_entry_round_trips(make_entry: Callable[..., Entry]) -> None:
    plain = make_entry()
    full = make_entry(
        verdict=Verdict.REFERRED,
        reasons=(Reason.FEVER_REMEASURE, Reason.FEVER_REFERRED),
        readings=(
            Reading(37.9, "2026-11-28T07:31:00+08:00", "T1001"),
            Reading(38.1, "2026-11-28T07:33:00+08:00", "T1001"),
        ),
        visitor=Visitor(phone="13800000000", host="王老师", reason="送材料"),
        revision=2,
        acked_at="2026-11-28T08:00:00+08:00",
    )
    for entry in (plain, full):
        assert Entry.from_dict(json.loads(json.dumps(entry.to_dict()))) == entry

"""The handover is counted as the shift goes (`ShiftTally`): after any mix of scans, readings that amend entries
(before or during the shift), visitors, direction changes and shifts opened and closed, it says what counting the
stored entries says. Real stores in a temporary directory; seeded, the seed in the test's name."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config, DutyStaff, SecurityConfig
from kiosk.domain.models import Direction, Person, Reason, Verdict
from kiosk.domain.pins import hash_pin
from kiosk.station.shift import Handover
from kiosk.station.station import Station
from storage.entries import EntryStore
from storage.roster import RosterStore

START = datetime(2026, 11, 28, 6, 0, tzinfo=timezone(timedelta(hours=8)))
PIN = "864213"


@pytest.fixture(scope="module")
def pin_hash() -> str:
    return hash_pin(PIN)


def make_station(config: Config, people: tuple[Person, ...], clock: FrozenClock, pin_hash: str) -> Station:
    config = replace(config, security=SecurityConfig(duty=(DutyStaff("D01", "赵值班", pin_hash),)))
    roster = RosterStore(config.data_dir)
    roster.replace_all(people)
    return Station(config, EntryStore(config.data_dir), roster, clock)


def counted_from_the_store(station: Station) -> dict[str, Any]:
    """The handover as reading the store back gives it: the shift's entries (seq from the shift's first) counted
    by verdict and, admitted, by direction; listed, the denied and referred ones of the shift, after the earlier
    entries that a reading taken during the shift left denied or referred."""
    shift = station.shift
    assert shift is not None
    until = station.clock.now() + timedelta(seconds=1)
    documents = list(station.store.documents_between(shift.opened_at - timedelta(days=1), until))
    counts = dict.fromkeys(Verdict, 0)
    directions = dict.fromkeys(Direction, 0)
    amended, flagged = [], []
    for doc in sorted(documents, key=lambda d: d["seq"]):
        verdict, readings = Verdict(doc["verdict"]), doc.get("readings") or ()
        if doc["seq"] < shift.first_seq:
            read_during = any(datetime.fromisoformat(r["taken_at"]) >= shift.opened_at for r in readings)
            if verdict is not Verdict.ADMITTED and read_during:
                amended.append(doc["entry_id"])
            continue
        counts[verdict] += 1
        if verdict is Verdict.ADMITTED:
            directions[Direction(doc["direction"])] += 1
        else:
            flagged.append(doc["entry_id"])
    fever = [d["entry_id"] for d in documents if Reason.FEVER_REMEASURE.value in d["reasons"]]
    return {
        "counts": counts,
        "entered": directions[Direction.IN],
        "left": directions[Direction.OUT],
        "flagged": [*amended, *flagged],
        "open": [e for e in flagged if e in fever],
    }


def as_counted(handover: Handover) -> dict[str, Any]:
    return {
        "counts": handover.counts,
        "entered": handover.entered,
        "left": handover.left,
        "flagged": [e.entry_id for e in handover.flagged],
        "open": [e.entry_id for e in handover.open_exceptions],
    }


@pytest.mark.parametrize("seed", range(12))
def test_the_tally_says_what_the_stored_entries_say(
    seed: int, config: Config, people: tuple[Person, ...], pin_hash: str
) -> None:
    rng = random.Random(seed)
    clock = FrozenClock(START)
    station = make_station(config, people, clock, pin_hash)
    ids = [p.person_id for p in people] + ["20990000", "20990001"]
    entries: list[str] = []
    checked = 0
    for _ in range(160):
        clock.advance(rng.choice((1, 7, 45, 400)))
        action = rng.random()
        if action < 0.5:
            outcome = station.scan(rng.choice(ids))
            if outcome.entry is not None:
                entries.append(outcome.entry.entry_id)
        elif action < 0.7 and entries:
            entry_id = rng.choice(entries[-8:])
            if station.entry(entry_id) is not None:
                station.add_reading(rng.choice((36.4, 37.2, 37.6, 38.1, 38.6)), entry_id)
        elif action < 0.75:
            station.register_visitor("访客甲", f"11010119900101{rng.randrange(10000):04d}", "138", "王老师", "开会")
        elif action < 0.8:
            station.toggle_direction()
        elif action < 0.9:
            if station.shift is None:
                station.open_shift("D01", PIN)
            else:
                expected = counted_from_the_store(station)
                assert as_counted(station.close_shift()) == expected, f"seed {seed}"
        if station.shift is not None:
            assert as_counted(station.handover()) == counted_from_the_store(station), f"seed {seed}"
            checked += 1
    assert checked > 20, "the shift was open for enough of the run to be compared"

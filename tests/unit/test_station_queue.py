"""The station's logic for a queue, without a screen: readings bound to an entry id, repeat scans, the handover
with amendments, the unknown role, PIN attempts, full-width digits. Real stores in a temporary directory."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config, DutyStaff, SecurityConfig
from kiosk.domain.models import Method, Person, Reason, Role, Verdict
from kiosk.domain.pins import PinGuard, hash_pin
from kiosk.station.station import EntryGone, LoginError, PinWait, Station
from storage.entries import EntryStore
from storage.roster import RosterStore

START = datetime(2026, 11, 28, 7, 30, tzinfo=timezone(timedelta(hours=8)))
PIN = "864213"
TODAY = "2026-11-28"


@pytest.fixture(scope="module")
def pin_hash() -> str:
    return hash_pin(PIN)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def station(config: Config, people: tuple[Person, ...], clock: FrozenClock, pin_hash: str) -> Station:
    config = replace(config, security=SecurityConfig(duty=(DutyStaff("D01", "赵值班", pin_hash),)))
    roster = RosterStore(config.data_dir)
    roster.replace_all(people)
    return Station(config, EntryStore(config.data_dir), roster, clock)


def stored(station: Station) -> dict[str, list[float]]:
    """Each stored person's readings, from the store itself."""
    return {e.person_id: [r.celsius for r in e.readings] for e in station.store.entries_of_day(TODAY)}


# -- (1) a reading is bound to the entry the dialog named ----------------------------------------------------


def test_a_reading_goes_to_the_named_entry_even_after_someone_else_scanned(station: Station) -> None:
    first = station.scan("2023000101").entry
    assert first is not None
    station.scan("2023000102")  # the next student scans while the officer types
    outcome = station.add_reading(36.5, first.entry_id)
    assert outcome.entry is not None and outcome.entry.entry_id == first.entry_id
    assert stored(station) == {"2023000101": [36.5], "2023000102": []}


def test_a_fever_re_measure_stays_on_one_person_and_refers_them(station: Station) -> None:
    first = station.scan("2023000101").entry
    assert first is not None
    station.add_reading(38.5, first.entry_id)
    station.scan("2023000102")
    outcome = station.add_reading(38.6, first.entry_id)
    assert outcome.entry is not None and outcome.entry.verdict is Verdict.REFERRED
    assert Reason.FEVER_REFERRED in outcome.entry.reasons
    assert stored(station) == {"2023000101": [38.5, 38.6], "2023000102": []}


def test_the_station_says_when_the_named_person_is_no_longer_in_front(station: Station, clock: FrozenClock) -> None:
    first = station.scan("2023000101").entry
    assert first is not None
    assert station.still_reading_target(first.entry_id)
    station.scan("2023000102")
    assert not station.still_reading_target(first.entry_id)
    second = station.reading_target
    assert second is not None and station.still_reading_target(second.entry_id)
    clock.advance(121)
    assert not station.still_reading_target(second.entry_id), "two minutes later nobody is at the thermometer"
    assert station.still_reading_target(None)


def test_a_reading_before_a_scan_waits_for_the_next_scan(station: Station) -> None:
    outcome = station.add_reading(36.6, None)
    assert outcome.entry is None and station.pending_reading is not None
    station.scan("2023000101")
    assert station.pending_reading is None
    assert stored(station) == {"2023000101": [36.6]}


def test_a_reading_for_an_entry_no_longer_held_is_refused(station: Station) -> None:
    with pytest.raises(EntryGone):
        station.add_reading(36.5, "0190-not-an-entry")
    assert station.store.entries_of_day(TODAY) == []


# -- (5) a repeat scan shows the earlier verdict ---------------------------------------------------------------


def test_a_repeat_scan_carries_the_earlier_verdict_as_amended(station: Station, clock: FrozenClock) -> None:
    observed = station.scan("2023000103")
    assert observed.entry is not None and observed.entry.verdict is Verdict.REFERRED
    clock.advance(5)
    again = station.scan("2023000103")
    assert again.duplicate and again.entry is None
    assert again.earlier is not None and again.earlier.verdict is Verdict.REFERRED
    assert Reason.MEDICAL_OBSERVATION in again.earlier.reasons
    fever = station.scan("2023000101").entry
    assert fever is not None
    station.add_reading(38.4, fever.entry_id)
    station.add_reading(38.5, fever.entry_id)
    repeat = station.scan("2023000101")
    assert repeat.earlier is not None and repeat.earlier.verdict is Verdict.REFERRED, "the amended verdict"


# -- (6) the handover lists entries referred during the shift, amendments included ------------------------------


def test_the_handover_lists_an_entry_scanned_before_the_shift_and_referred_during_it(
    station: Station, clock: FrozenClock
) -> None:
    early = station.scan("2023000101").entry
    assert early is not None
    clock.advance(20)
    station.open_shift("D01", PIN)
    station.add_reading(38.5, early.entry_id)
    station.add_reading(38.7, early.entry_id)
    station.scan("20990000")
    flagged = {e.person_id: e.verdict for e in station.handover().flagged}
    assert flagged == {"2023000101": Verdict.REFERRED, "20990000": Verdict.DENIED}


# -- (7) not on the roster is its own role -----------------------------------------------------------------------


def test_an_unknown_id_is_recorded_as_unknown_not_visitor(station: Station) -> None:
    unknown = station.scan("2099000001").entry
    visitor = station.register_visitor("访客甲", "110101199001011234", "13800000000", "王老师", "开会").entry
    assert unknown is not None and unknown.role is Role.UNKNOWN
    assert visitor is not None and visitor.role is Role.VISITOR
    assert {e.role for e in station.store.entries_of_day(TODAY)} == {Role.UNKNOWN, Role.VISITOR}


# -- (8) PIN attempts are limited and audited -------------------------------------------------------------------


def test_wrong_pins_cost_growing_delays_then_a_lockout(station: Station, clock: FrozenClock) -> None:
    guard = station.pin_guard
    waits: list[int] = []
    for _ in range(guard.lock_after):
        try:
            assert not station.check_pin("000000", "exit")
        except PinWait:
            raise AssertionError("no attempt is refused before its delay is asked for") from None
        wait = guard.wait(clock.monotonic())
        waits.append(round(wait))
        if wait:
            with pytest.raises(PinWait):
                station.check_pin(PIN, "exit")  # even the right PIN is not checked during the wait
        clock.advance(wait)
    assert waits[: guard.free - 1] == [0] * (guard.free - 1)
    assert waits[guard.free - 1 : -1] == sorted(waits[guard.free - 1 : -1]) and waits[-2] > waits[guard.free - 1]
    assert waits[-1] == guard.lockout
    kinds = [row["kind"] for row in station.store.audit_of_day(TODAY)]
    assert kinds.count("pin_refused") == guard.lock_after and "pin_locked" in kinds and "pin_waiting" in kinds
    assert station.check_pin(PIN, "unmask"), "after the lockout the right PIN works again"


def test_logins_share_the_guard(station: Station) -> None:
    for _ in range(station.pin_guard.free):
        with pytest.raises(LoginError):
            station.open_shift("D01", "111111")
    with pytest.raises(PinWait):
        station.open_shift("D01", PIN)


def test_the_guard_starts_afresh_after_a_right_pin() -> None:
    guard = PinGuard(free=2, first_delay=1.0, lock_after=4, lockout=60.0)
    guard.failed(0.0)
    guard.succeeded()
    guard.failed(0.0)
    assert guard.wait(0.0) == 0.0
    guard.failed(0.0)
    assert guard.wait(0.0) == 1.0 and not guard.locked(0.0)


# -- (9) full-width digits --------------------------------------------------------------------------------------


def test_full_width_digits_are_the_same_person(station: Station) -> None:
    outcome = station.scan("２０２３０００１０１", Method.TYPED)
    assert outcome.entry is not None and outcome.entry.person_id == "2023000101"
    assert outcome.entry.verdict is Verdict.ADMITTED
    assert [p.person_id for p in station.find_people("２０２３０００１０")][:1] == ["2023000101"]

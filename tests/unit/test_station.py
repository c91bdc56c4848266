"""The Station's own logic over real stores and a frozen clock: the duplicate window (its key and length), which
person a typed reading belongs to, and the offline flag. Each test states one behaviour the rules table cannot."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config, DutyStaff, RulesConfig, SecurityConfig
from kiosk.domain.models import Direction, Method, Person, Reading, Reason, Role, Verdict, Visitor
from kiosk.domain.pins import hash_pin
from kiosk.domain.rules import RULES_VERSION, Decision
from kiosk.station.station import Outcome, Station
from storage.entries import EntryStore
from storage.roster import RosterStore

START_CLOCK = "2026-11-28T07:30:00+08:00"
ZHANG, OUYANG = "2023000101", "2023000102"
"""张三 and 欧阳娜娜 on the shared roster (tests/conftest.py: PEOPLE)."""


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.fromisoformat(START_CLOCK))


def with_officer(config: Config) -> Config:
    """`config` with duty officer D01, PIN 1357."""
    return replace(config, security=SecurityConfig(duty=(DutyStaff("D01", "赵值班", hash_pin("1357")),)))


def make_station(config: Config, people: tuple[Person, ...], clock: FrozenClock, window: int = 30) -> Station:
    config = replace(config, rules=replace(config.rules, duplicate_window=window))
    roster = RosterStore(config.data_dir)
    roster.replace_all(people)
    return Station(config, EntryStore(config.data_dir), roster, clock)


@pytest.fixture
def station(config: Config, people: tuple[Person, ...], clock: FrozenClock) -> Station:
    return make_station(config, people, clock)


def recorded(station: Station) -> list[tuple[str, Direction]]:
    return [(e.person_id, e.direction) for e in station.store.entries_of_day("2026-11-28")]


# -- the duplicate window: keyed by person AND direction ------------------------------------------------


def test_the_same_person_again_in_the_same_direction_is_a_duplicate(station: Station, clock: FrozenClock) -> None:
    assert not station.scan(ZHANG).duplicate
    clock.advance(5)
    again = station.scan(ZHANG)
    assert again.duplicate and again.entry is None
    assert recorded(station) == [(ZHANG, Direction.IN)]


def test_the_same_person_in_the_other_direction_is_recorded(station: Station, clock: FrozenClock) -> None:
    """Someone who walks in and straight back out is two entries (direction is part of the key)."""
    station.scan(ZHANG)
    clock.advance(5)
    station.toggle_direction()
    leaving = station.scan(ZHANG)
    assert not leaving.duplicate and leaving.entry is not None and leaving.entry.direction is Direction.OUT
    assert recorded(station) == [(ZHANG, Direction.IN), (ZHANG, Direction.OUT)]
    clock.advance(5)
    assert station.scan(ZHANG).duplicate  # out again: now a duplicate of the out scan


def test_another_person_in_the_same_direction_is_recorded(station: Station, clock: FrozenClock) -> None:
    """The person is part of the key: a queue of different people is never taken for duplicates."""
    station.scan(ZHANG)
    clock.advance(1)
    assert not station.scan(OUYANG).duplicate
    assert recorded(station) == [(ZHANG, Direction.IN), (OUYANG, Direction.IN)]


# -- the duplicate window: its length, in seconds ---------------------------------------------------------


@pytest.mark.parametrize("window", [30, 90])
def test_the_window_lasts_exactly_its_configured_seconds(
    config: Config, people: tuple[Person, ...], clock: FrozenClock, window: int
) -> None:
    station = make_station(config, people, clock, window)
    station.scan(ZHANG)
    clock.advance(window - 0.5)
    assert station.scan(ZHANG).duplicate, "inside the window"
    clock.advance(0.5)  # `window` seconds after the recorded scan (a duplicate does not restart it)
    assert not station.scan(ZHANG).duplicate, "the window is over"
    clock.advance(window + 1)
    assert not station.scan(ZHANG).duplicate
    assert len(recorded(station)) == 3


def test_a_zero_window_records_every_scan(config: Config, people: tuple[Person, ...], clock: FrozenClock) -> None:
    station = make_station(config, people, clock, window=0)
    station.scan(ZHANG)
    assert not station.scan(ZHANG).duplicate
    assert len(recorded(station)) == 2


def test_the_default_window_is_thirty_seconds() -> None:
    assert RulesConfig().duplicate_window == 30


# -- a typed reading belongs to the person scanned in the last 120 seconds (READING_WINDOW) -----------


def read_now(station: Station, celsius: float) -> Outcome:
    """A reading as the temperature dialog takes it: bound to whom the station names as its target now."""
    target = station.reading_target
    return station.add_reading(celsius, target.entry_id if target else None)


def test_a_reading_within_the_window_amends_the_person_just_scanned(station: Station, clock: FrozenClock) -> None:
    scanned = station.scan(ZHANG).entry
    assert scanned is not None
    clock.advance(120)
    outcome = read_now(station, 38.5)
    assert outcome.entry is not None and outcome.entry.entry_id == scanned.entry_id
    assert outcome.entry.revision == 1 and [r.celsius for r in outcome.entry.readings] == [38.5]
    assert station.pending_reading is None


def test_a_late_reading_waits_for_the_next_person(station: Station, clock: FrozenClock) -> None:
    """A reading typed more than 120 s after the scan never refers the wrong person."""
    station.scan(ZHANG)
    clock.advance(121)
    assert station.reading_target is None
    late = read_now(station, 38.5)
    assert late.entry is None and station.pending_reading is not None
    zhang = station.store.entries_of_day("2026-11-28")[0]
    assert zhang.readings == () and zhang.revision == 0 and zhang.verdict is Verdict.ADMITTED
    nxt = station.scan(OUYANG)
    assert nxt.entry is not None and [r.celsius for r in nxt.entry.readings] == [38.5]
    assert nxt.decision == Decision(Verdict.DENIED, (Reason.FEVER_REMEASURE,), True), "decided with the reading"


def test_a_reading_after_someone_left_waits_for_the_next_person(station: Station, clock: FrozenClock) -> None:
    station.toggle_direction()
    station.scan(ZHANG)
    assert station.reading_target is None
    assert read_now(station, 38.5).entry is None and station.pending_reading is not None


def test_a_second_high_reading_in_the_window_refers_the_same_person(station: Station, clock: FrozenClock) -> None:
    station.scan(ZHANG)
    clock.advance(30)
    first = read_now(station, 38.4)
    assert first.needs_remeasure
    clock.advance(60)  # 90 s after the scan: still the same person
    second = read_now(station, 38.2)
    assert second.entry is not None and second.entry.verdict is Verdict.REFERRED and second.entry.revision == 2


# -- an entry captured offline is flagged -------------------------------------------------------------


def test_an_entry_captured_offline_is_flagged(station: Station, clock: FrozenClock) -> None:
    station.online = False
    offline = station.scan(ZHANG).entry
    station.online = True
    online = station.scan(OUYANG).entry
    assert offline is not None and offline.offline
    assert online is not None and not online.offline
    stored = {e.person_id: e.offline for e in station.store.entries_of_day("2026-11-28")}
    assert stored == {ZHANG: True, OUYANG: False}


def test_a_visitor_registered_offline_is_flagged(station: Station) -> None:
    station.online = False
    outcome = station.register_visitor("陈访客", "110101199001011234", "13800138000", "王老师", "送文件")
    assert outcome.entry is not None and outcome.entry.offline


def test_an_amendment_keeps_the_offline_flag_and_sets_it_when_offline(station: Station, clock: FrozenClock) -> None:
    station.online = False
    station.scan(ZHANG)
    station.online = True
    amended = read_now(station, 36.6).entry
    assert amended is not None and amended.offline, "captured offline stays offline after an online amendment"
    clock.advance(200)
    station.scan(OUYANG)
    station.online = False
    later = read_now(station, 36.7).entry
    assert later is not None and later.offline, "amended while offline"


# -- what an entry records (stated field by field: sync, exports and the center read them) ----------------


def test_a_scan_records_the_person_the_decision_and_the_circumstances(
    config: Config, people: tuple[Person, ...], clock: FrozenClock
) -> None:
    dormitory = replace(config, station=replace(config.station, gate="dormitory"))
    station = make_station(dormitory, people, clock)
    outcome = station.scan(f"  {OUYANG} ", Method.SERIAL_SCAN)  # on the roster, no return approval
    entry = outcome.entry
    assert entry is not None and outcome.decision == Decision(Verdict.DENIED, (Reason.NO_RETURN_APPROVAL,))
    assert (entry.person_id, entry.name, entry.role) == (OUYANG, "欧阳娜娜", Role.STUDENT)
    assert (entry.station_id, entry.seq, entry.revision) == (config.station.id, 1, 0)
    assert (entry.method, entry.direction, entry.verdict) == (Method.SERIAL_SCAN, Direction.IN, Verdict.DENIED)
    assert entry.reasons == (Reason.NO_RETURN_APPROVAL,) and entry.rules_version == RULES_VERSION
    assert (entry.captured_at, entry.monotonic) == (START_CLOCK, clock.monotonic())
    assert entry.readings == () and entry.visitor is None and entry.operator == ""
    assert station.store.entries_of_day("2026-11-28") == [entry] and station.last_entry == entry


def test_a_scan_in_the_other_direction_is_decided_as_leaving(station: Station) -> None:
    assert station.toggle_direction() is Direction.OUT
    outcome = station.scan("2099999999")
    assert outcome.decision == Decision(Verdict.ADMITTED, (Reason.LEAVING, Reason.NOT_ON_ROSTER))
    assert outcome.entry is not None and outcome.entry.direction is Direction.OUT
    assert outcome.entry.role is Role.UNKNOWN and outcome.entry.name == ""
    assert station.toggle_direction() is Direction.IN


def test_a_reading_is_stamped_rounded_and_signed_by_the_officer(
    config: Config, people: tuple[Person, ...], clock: FrozenClock
) -> None:
    station = make_station(with_officer(config), people, clock)
    station.open_shift("D01", "1357")
    station.scan(ZHANG)
    clock.advance(10)
    amended = read_now(station, 37.06).entry
    assert amended is not None and amended.operator == "D01"
    assert amended.readings == (Reading(37.1, "2026-11-28T07:30:10+08:00", "D01"),)
    assert (amended.verdict, amended.reasons) == (Verdict.ADMITTED, (Reason.ON_ROSTER,))  # still on the roster
    clock.advance(10)
    fever = read_now(station, 38.3)
    assert fever.decision == Decision(Verdict.DENIED, (Reason.FEVER_REMEASURE,), True)
    stored = station.store.entries_of_day("2026-11-28")[0]
    assert (stored.revision, stored.verdict, stored.reasons) == (2, Verdict.DENIED, (Reason.FEVER_REMEASURE,))


def test_a_reading_for_a_visitor_keeps_the_visitor(station: Station) -> None:
    station.register_visitor("陈访客", "110101199001011234", "13800138000", "王老师", "送文件")
    amended = read_now(station, 36.6)
    assert amended.decision == Decision(Verdict.ADMITTED, (Reason.VISITOR_REGISTERED,))
    assert amended.entry is not None and amended.entry.visitor is not None and amended.entry.name == "陈访客"


def test_a_visitor_is_recorded_with_the_form_stripped_and_the_waiting_reading(station: Station) -> None:
    read_now(station, 38.6)  # taken before the form: waits for it
    outcome = station.register_visitor(" 陈访客 ", " 110101199001011234 ", " 13800138000 ", " 王老师 ", " 送文件 ")
    entry = outcome.entry
    assert entry is not None and outcome.decision == Decision(
        Verdict.DENIED, (Reason.VISITOR_REGISTERED, Reason.FEVER_REMEASURE), True
    )
    assert (entry.person_id, entry.name, entry.role, entry.method) == (
        "110101199001011234",
        "陈访客",
        Role.VISITOR,
        Method.VISITOR_FORM,
    )
    assert entry.visitor == Visitor(phone="13800138000", host="王老师", reason="送文件")
    assert [r.celsius for r in entry.readings] == [38.6] and station.pending_reading is None


def test_a_visitor_leaving_is_let_out(station: Station) -> None:
    station.toggle_direction()
    outcome = station.register_visitor("陈访客", "110101199001011234", "13800138000", "王老师", "送文件")
    assert outcome.decision == Decision(Verdict.ADMITTED, (Reason.LEAVING,))
    assert outcome.entry is not None and outcome.entry.direction is Direction.OUT


def test_a_visitor_form_without_a_name_is_incomplete(station: Station) -> None:
    outcome = station.register_visitor(" ", "110101199001011234", "13800138000", "王老师", "送文件")
    assert outcome.decision == Decision(Verdict.DENIED, (Reason.VISITOR_INCOMPLETE,))


def test_a_reading_at_a_dormitory_gate_keeps_the_approval_check(
    config: Config, people: tuple[Person, ...], clock: FrozenClock
) -> None:
    dormitory = replace(config, station=replace(config.station, gate="dormitory"))
    station = make_station(dormitory, people, clock)
    station.scan(OUYANG)  # no return approval
    outcome = read_now(station, 36.5)
    assert outcome.decision == Decision(Verdict.DENIED, (Reason.NO_RETURN_APPROVAL,))

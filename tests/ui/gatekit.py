"""A gate app over real stores in a temporary directory, a fixed roster and a frozen clock (for Pilot tests)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import cache

from qrscreen import screen_lines
from textual import events
from textual.pilot import Pilot

from kiosk.app import KioskApp
from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config, DutyStaff, SecurityConfig
from kiosk.domain.models import Person
from kiosk.domain.pins import hash_pin
from kiosk.station.station import Station
from storage.entries import EntryStore
from storage.notices import NoticeStore
from storage.roster import RosterStore

PIN = "2468"
STAFF_ID = "T1001"
START = datetime(2026, 11, 28, 7, 30, tzinfo=timezone(timedelta(hours=8)))


@cache
def pin_hash() -> str:
    return hash_pin(PIN)


def with_duty(config: Config) -> Config:
    """`config` with one duty officer whose PIN is `PIN`."""
    return replace(config, security=SecurityConfig(duty=(DutyStaff(STAFF_ID, "王老师", pin_hash()),)))


def make_app(
    config: Config, people: tuple[Person, ...], store: EntryStore | None = None, clock: FrozenClock | None = None
) -> KioskApp:
    """The app as `build_app` makes it, but on a frozen clock and with `people` on the roster."""
    config = with_duty(config)
    clock = clock or FrozenClock(START)
    roster = RosterStore(config.data_dir)
    roster.replace_all(people)
    station = Station(config, store or EntryStore(config.data_dir), roster, clock)
    return KioskApp(config, station, NoticeStore(config.data_dir), clock)


def screen_text(app: KioskApp) -> str:
    return "\n".join(screen_lines(app))



PERSON_GAP = 0.08
"""Seconds between a person's keys: a burst faster than 0.05 s per key ending in Enter is a wedge scan."""


async def type_as_person(pilot: Pilot, *keys: str) -> None:
    """Press `keys` with a person's gaps between them (on a staff screen a burst would be taken for a scan)."""
    for key in keys:
        await pilot.press(key)
        await pilot.pause(PERSON_GAP)


async def scan(pilot: Pilot, text: str) -> None:
    """Type `text` and Enter at the gate as a keyboard-wedge scanner does: in one burst, like the driver's keys."""
    for character in text:
        pilot.app.post_message(events.Key(character, character))
    pilot.app.post_message(events.Key("enter", "\r"))
    await pilot.pause()

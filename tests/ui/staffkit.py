"""Helpers for the staff screens' Pilot tests: a host app for one screen and a station over real stores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import cache

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config, DutyStaff, SecurityConfig
from kiosk.domain.models import Person
from kiosk.domain.pins import hash_pin
from kiosk.station.station import Station
from storage.entries import EntryStore
from storage.roster import RosterStore

PIN = "1357"
OFFICER = "D01"
START = datetime(2026, 11, 28, 7, 30, tzinfo=timezone(timedelta(hours=8)))
TODAY = "2026-11-28"
SIZE = (110, 40)


class Host(App[None]):
    """Pushes one screen and keeps what it is dismissed with."""

    def __init__(self, make: Callable[[], Screen]) -> None:
        super().__init__()
        self.make = make
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.make(), self.results.append)


@cache
def pin_hash() -> str:
    return hash_pin(PIN)


def make_station(config: Config, people: tuple[Person, ...], clock: FrozenClock) -> Station:
    """A station over real stores in the config's data directory, with officer D01's shift open."""
    config = replace(config, security=SecurityConfig(duty=(DutyStaff(OFFICER, "赵值班", pin_hash()),)))
    roster = RosterStore(config.data_dir)
    roster.replace_all(people)
    station = Station(config, EntryStore(config.data_dir), roster, clock)
    station.open_shift(OFFICER, PIN)
    return station


def shown(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)


async def clear_input(pilot: Pilot) -> None:
    await pilot.press("end", "shift+home", "backspace")

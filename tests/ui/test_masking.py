"""Names and IDs are masked wherever the gate or a staff screen draws a person: the full name and the full ID are
absent from what is on screen (not only different from a snapshot), while the masked forms are there."""

from __future__ import annotations

from collections.abc import Callable

from gatekit import PIN, STAFF_ID, make_app, scan, screen_text
from qrscreen import screen_lines
from staffkit import START, Host, make_station
from textual.app import App

from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config
from kiosk.domain.models import Entry, Person, Reason, Verdict
from kiosk.domain.privacy import mask_id, mask_name
from screens.handover import HandoverScreen
from screens.log import EntryLogScreen

SIZE = (120, 36)


def drawn(app: App) -> str:
    return "\n".join(screen_lines(app))


def assert_masked(text: str, people: tuple[Person, ...]) -> None:
    for person in people:
        assert person.name not in text, f"{person.name} drawn in full"
        assert person.person_id not in text, f"{person.person_id} drawn in full"
        assert mask_name(person.name) in text and mask_id(person.person_id) in text


async def test_the_gate_never_draws_a_full_name_or_id(config: Config, people: tuple[Person, ...]) -> None:
    app = make_app(config, people)
    app.station.open_shift(STAFF_ID, PIN)  # the duty line names the officer too
    async with app.run_test(size=SIZE) as pilot:
        for index, person in enumerate(people):
            await scan(pilot, person.person_id)
            text = screen_text(app)
            assert_masked(text, people[: index + 1])


async def test_the_log_and_the_handover_mask_every_person(
    config: Config, people: tuple[Person, ...], make_entry: Callable[..., Entry]
) -> None:
    clock = FrozenClock(START)
    station = make_station(config, people, clock)
    for minute, person in enumerate(people, start=1):
        clock.advance(60)
        stored = station.store.record(
            make_entry(
                person.person_id,
                name=person.name,
                operator="D01",
                role=person.role,
                captured_at=clock.now().isoformat(timespec="seconds"),
                verdict=Verdict.DENIED if minute % 2 else Verdict.ADMITTED,
                reasons=(Reason.NO_RETURN_APPROVAL,) if minute % 2 else (Reason.ON_ROSTER,),
            )
        )
        assert station.tally is not None
        station.tally.recorded(stored)  # as Station does after storing an entry it made
    log = Host(lambda: EntryLogScreen(station, "zh"))
    async with log.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert_masked(drawn(log), people)
    handover = Host(lambda: HandoverScreen(station, "en", config.data_dir / "handover"))
    async with handover.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert_masked(drawn(handover), tuple(p for i, p in enumerate(people, start=1) if i % 2))

"""`kiosk run`'s quick check: a damaged store opens, the gate says what was lost in its banner and goes on."""

from __future__ import annotations

from collections.abc import Callable

from gatekit import START, scan, screen_text, with_duty

from kiosk.app import KioskApp
from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import Config
from kiosk.domain.models import Entry, Person
from kiosk.station.station import Station
from storage.entries import EntryStore
from storage.notices import NoticeStore
from storage.roster import RosterStore


async def test_a_damaged_chunk_is_shown_in_the_banner_and_the_gate_goes_on(
    config: Config, people: tuple[Person, ...], make_entry: Callable[..., Entry]
) -> None:
    store = EntryStore(config.data_dir)
    for minute in range(5):
        store.record(make_entry(captured_at=f"2026-11-28T07:{minute:02d}:00+08:00"))
    store.fold()
    store.close()
    chunk = config.data_dir / "entries" / "2026-11-28.00000.json"
    lines = chunk.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"direction":"in"', b'"direction":"ix"')
    chunk.write_bytes(b"\n".join(lines))

    RosterStore(config.data_dir).replace_all(people)
    clock = FrozenClock(START)
    # As build_app makes it for `kiosk run`: both stores read in a worker after the first paint.
    station = Station(
        with_duty(config), EntryStore(config.data_dir, load=False), RosterStore(config.data_dir, load=False), clock
    )
    app = KioskApp(with_duty(config), station, NoticeStore(config.data_dir), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "1 entries lost to a damaged file" in text, text
        await scan(pilot, "2023000101")
        assert "准予通行" in screen_text(app)
    after = EntryStore(config.data_dir)
    assert [e.seq for e in after.entries_of_day("2026-11-28")] == [1, 3, 4, 5, 6] and after.lost_seqs() == [2]
    after.close()

"""Make docs/gate.svg, the README's screenshot: the demo gate after a few scans, on a frozen clock.

    .venv/bin/python docs/screenshot.py          # rewrites docs/gate.svg
    .venv/bin/python docs/screenshot.py --check  # exit 1 if docs/gate.svg is not what the code draws now

The same code and demo data give the same file, byte for byte.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.app import KioskApp
from kiosk.demo.data import DEMO_PIN, DEMO_STAFF_ID, demo_config, demo_examples, demo_notices, demo_people
from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import parse_config
from kiosk.domain.models import Method
from kiosk.domain.pins import hash_pin
from kiosk.station.scanner import Scanned, parse_scan
from kiosk.station.station import Station
from kiosk.station.sync import SyncStatus
from screens.messages import SyncStatusChanged
from storage.entries import EntryStore
from storage.notices import NoticeStore
from storage.roster import RosterStore

OUTPUT = Path(__file__).resolve().with_name("gate.svg")
START = datetime(2020, 2, 17, 7, 42, 5, tzinfo=timezone(timedelta(hours=8)))
"""A morning of the first week the dormitories reopened."""
SIZE = (160, 48)
"""Large enough for the notice's QR code beside the verdict."""


async def draw(data_dir: Path) -> str:
    """The SVG of the demo gate after four scans: referred, unknown, no return approval, admitted."""
    text = demo_config(center_url="http://127.0.0.1:8700", token_file="station.token", scanner_port="",
                       pin_hash=hash_pin(DEMO_PIN))
    config = parse_config(text, data_dir / "kiosk.toml")
    people = demo_people()
    examples = demo_examples(people)
    clock = FrozenClock(START)
    roster, notices = RosterStore(config.data_dir), NoticeStore(config.data_dir)
    roster.replace_all(people)
    for notice in demo_notices(START):
        notices.add(notice)
    store = EntryStore(config.data_dir)
    try:
        station = Station(config, store, roster, clock)
        station.open_shift(DEMO_STAFF_ID, DEMO_PIN)
        app = KioskApp(config, station, notices, clock)
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            for person_id in (examples.observation.person_id, examples.unknown, examples.no_approval.person_id,
                              examples.admitted.person_id):
                clock.advance(17)
                # Straight to the app, as the reader worker does: typed keys would be judged by real timing.
                scanned = parse_scan(person_id.encode(), config.scanner.id_pattern, config.scanner.max_line,
                                     method=Method.KEYBOARD_SCAN, now=clock.monotonic())
                assert isinstance(scanned, Scanned)
                app.admit(scanned)
                await pilot.pause()
            # What the sync worker reports after a pass (the screenshot has no center to talk to).
            app.post_message(SyncStatusChanged(SyncStatus(online=True, last_success=clock.now().isoformat())))
            await app.workers.wait_for_complete()
            await pilot.pause()
            return app.export_screenshot(title="kiosk demo · 西北楼 宿舍 北门")
    finally:
        store.close()


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="kiosk-screenshot-") as scratch:
        svg = asyncio.run(draw(Path(scratch)))
    if "--check" in argv:
        same = OUTPUT.exists() and OUTPUT.read_text(encoding="utf-8") == svg
        print(f"{OUTPUT}: {'up to date' if same else 'out of date: run docs/screenshot.py'}")
        return 0 if same else 1
    OUTPUT.write_text(svg, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`kiosk run`: the gate app on this terminal."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from kiosk.cli.main import EXIT_FAILURE, EXIT_USAGE, Subcommands, add_command, duty_missing, gate_frame_rate, load
from kiosk.domain.i18n import both

if TYPE_CHECKING:
    from kiosk.app import KioskApp, ReaderFactory
    from kiosk.domain.clock import Clock
    from kiosk.domain.config import Config
    from kiosk.station.sync import Syncer


def register(sub: Subcommands) -> None:
    """Add `kiosk run`."""
    add_command(sub, "run", "run the gate kiosk on this terminal (leaving it needs a duty PIN)", _run)


def _run(args: argparse.Namespace) -> int:
    if os.environ.get("TEXTUAL_ALLOW_SIGNALS"):
        # With it, the terminal turns ctrl+c / ctrl+z into signals and anyone passing could stop the kiosk.
        print(both("run.allow_signals"), file=sys.stderr)
        return EXIT_USAGE
    gate_frame_rate()
    config = load(args)
    if refusal := duty_missing(config):
        print(refusal, file=sys.stderr)
        return EXIT_FAILURE
    from storage.files import StoreError

    try:
        app = build_app(config)
    except (StoreError, OSError) as exc:
        print(both("run.store_failed", path=config.data_dir, error=exc), file=sys.stderr)
        return EXIT_FAILURE
    from kiosk.station.collector import tune_for_the_gate

    tune_for_the_gate()
    app.run()
    return app.return_code or 0


def build_app(config: Config, clock: Clock | None = None, reader_factory: ReaderFactory | None = None) -> KioskApp:
    """Open the stores in the config's data directory, build the Station and the App (and the syncer if set)."""
    from kiosk.app import KioskApp
    from kiosk.domain.clock import SystemClock
    from kiosk.station.station import Station
    from storage.entries import EntryStore
    from storage.notices import NoticeStore
    from storage.roster import RosterStore

    clock = clock or SystemClock(config.station.zone)
    data_dir = config.data_dir
    store = EntryStore(data_dir, load=False)  # both loaded by the app after its first paint
    roster = RosterStore(data_dir, load=False)
    notices = NoticeStore(data_dir)
    station = Station(config, store, roster, clock)
    syncer_factory = None
    if config.center.url:

        def syncer_factory() -> Syncer:
            from kiosk.station.sync import syncer_from_config

            return syncer_from_config(config, store, roster, notices, clock=clock.now)

    return KioskApp(config, station, notices, clock, reader_factory=reader_factory, syncer_factory=syncer_factory)

"""`kiosk sync`: one full pass with the center, for cron, the nightly job and a duty officer's terminal."""

from __future__ import annotations

import argparse
import sys

from kiosk.cli.main import EXIT_FAILURE, EXIT_OK, Subcommands, add_command, load


def register(sub: Subcommands) -> None:
    """Add `kiosk sync`."""
    add_command(sub, "sync", "push every waiting entry, pull roster and notices; exit 1 unless all acknowledged", _sync)


def _sync(args: argparse.Namespace) -> int:
    from kiosk.cli.progress import sync_with_progress
    from kiosk.station.sync import station_token, syncer_from_config
    from storage.entries import EntryStore
    from storage.notices import NoticeStore
    from storage.roster import RosterStore

    config = load(args)
    token = station_token(config)
    store = EntryStore(config.data_dir)
    try:
        syncer = syncer_from_config(
            config, store, RosterStore(config.data_dir), NoticeStore(config.data_dir), token=token
        )
        try:
            report = sync_with_progress(syncer, store)
        finally:
            syncer.close()
    finally:
        store.close()
    line = f"{report.summary()} (已确认 / acknowledged {report.acked}, 待上传 / pending {report.pending})"
    print(line, file=sys.stdout if report.complete else sys.stderr)
    return EXIT_OK if report.complete else EXIT_FAILURE

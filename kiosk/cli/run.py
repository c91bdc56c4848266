"""`kiosk run`: the gate app on this terminal."""

from __future__ import annotations

import argparse
import os
import sys

from kiosk.cli.main import EXIT_FAILURE, EXIT_USAGE, Subcommands, add_command, load
from kiosk.domain.i18n import both


def register(sub: Subcommands) -> None:
    """Add `kiosk run`."""
    add_command(sub, "run", "run the gate kiosk on this terminal (leaving it needs a duty PIN)", _run)


def _run(args: argparse.Namespace) -> int:
    if os.environ.get("TEXTUAL_ALLOW_SIGNALS"):
        # With it, the terminal turns ctrl+c / ctrl+z into signals and anyone passing could stop the kiosk.
        print(both("run.allow_signals"), file=sys.stderr)
        return EXIT_USAGE
    config = load(args)
    from kiosk.app import build_app
    from storage.files import StoreError

    try:
        app = build_app(config)
    except (StoreError, OSError) as exc:
        print(both("run.store_failed", path=config.data_dir, error=exc), file=sys.stderr)
        return EXIT_FAILURE
    app.run()
    return app.return_code or 0

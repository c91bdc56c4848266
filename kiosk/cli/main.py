"""The `kiosk` command: one subcommand per job, each importing only what it needs.

Exit status: 0 success, 1 failure, 2 bad usage or bad configuration. No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeAlias

from kiosk.domain.config import Config, ConfigError, load_config
from kiosk.domain.i18n import both

DEFAULT_CONFIG = Path("kiosk.toml")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What `register(sub)` receives: the `kiosk` parser's subcommands."""


GATE_FRAME_RATE = 240
"""Frames a second at most for the gate app (Textual's TEXTUAL_FPS, 60 by default). Textual draws changed widgets
on the next tick of a timer at that rate: at 60 a verdict drawn just after a tick waited one or two ticks, 17-33
ms, for its frame (bench/gate.py --probe), at 240 at most ~8 ms. A frame is drawn only when something changed, so
a quiet gate draws no more often than before."""


def gate_frame_rate() -> None:
    """Set Textual's frame rate for the gate, unless the environment chose one; before Textual is first imported."""
    os.environ.setdefault("TEXTUAL_FPS", str(GATE_FRAME_RATE))


def load(args: argparse.Namespace) -> Config:
    """The config named by --config; without the option, ./kiosk.toml if present, else the embedded defaults."""
    if args.config is not None:
        return load_config(Path(args.config))
    if DEFAULT_CONFIG.exists():
        return load_config(DEFAULT_CONFIG)
    return Config()


def duty_missing(config: Config) -> str | None:
    """The bilingual refusal for a config without duty staff (nobody could log in or leave), or None."""
    if config.security.duty:
        return None
    return both("config.no_duty", path=config.path or "默认配置 / embedded defaults")


def _check_config(args: argparse.Namespace) -> int:
    from kiosk.domain.pins import SAMPLE_PIN, verify_pin

    config = load(args)
    if refusal := duty_missing(config):
        print(refusal, file=sys.stderr)
        return EXIT_FAILURE
    for staff in config.security.duty:
        if verify_pin(SAMPLE_PIN, staff.pin_hash):
            print(both("config.sample_pin", staff=staff.staff_id))
    where = config.path or "默认配置 / embedded defaults"
    print(f"配置正确 / configuration OK: {where} (station {config.station.id}, data {config.data_dir})")
    return EXIT_OK


def _hash_pin(args: argparse.Namespace) -> int:
    from kiosk.domain.pins import MIN_PIN_LENGTH, hash_pin

    if args.stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("PIN: ")
        if getpass.getpass("再输一次 / again: ") != pin:
            print("两次输入不一致 / the PINs differ", file=sys.stderr)
            return EXIT_FAILURE
    if not (pin.isdigit() and MIN_PIN_LENGTH <= len(pin) <= 12):
        print(f"PIN 应为 {MIN_PIN_LENGTH}-12 位数字 / a PIN is {MIN_PIN_LENGTH} to 12 digits", file=sys.stderr)
        return EXIT_USAGE
    print(hash_pin(pin))
    return EXIT_OK


COMMAND_MODULES = {
    "roster": "kiosk.cli.data",
    "export": "kiosk.cli.data",
    "purge": "kiosk.cli.data",
    "store": "kiosk.cli.data",
    "sync": "kiosk.cli.sync",
    "center": "kiosk.cli.center",
    "notices": "kiosk.cli.notice",
    "run": "kiosk.cli.run",
    "demo": "kiosk.cli.demo",
}
"""Which module adds each subcommand (its `register(sub)`, using `add_command`)."""


def add_command(sub: Subcommands, name: str, help: str, handler: Handler) -> argparse.ArgumentParser:
    """A subcommand that takes --config like every other."""
    command: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    command.add_argument("--config", help="station config file (default: ./kiosk.toml, else built-in defaults)")
    command.set_defaults(handler=handler)
    return command


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for every subcommand, or only for `command` when it is known (the gate starts faster)."""
    parser = argparse.ArgumentParser(prog="kiosk", description="Campus duty-station kiosk / 校园值守终端")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_command(sub, "check-config", "validate the config file and say what is wrong", _check_config)
    pin = add_command(sub, "hash-pin", "make a PIN hash for [[security.duty]] in kiosk.toml", _hash_pin)
    pin.add_argument("--stdin", action="store_true", help="read the PIN from standard input (for scripts)")
    modules = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else COMMAND_MODULES.values()
    for module in dict.fromkeys(modules):
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    try:
        handler: Handler = args.handler
        return handler(args)
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())

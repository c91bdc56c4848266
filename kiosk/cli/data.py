"""Data subcommands: `roster import`, `export` and `purge`, for the station's administrator and nightly jobs."""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from kiosk.cli.main import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Handler, Subcommands, add_command, load


def register(sub: Subcommands) -> None:
    """Add `roster import`, `export` and `purge`."""
    roster = sub.add_parser("roster", help="manage the local roster", description="manage the local roster")
    actions = roster.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    load_file = add_command(
        actions,
        "import",
        "import people from a CSV or XLSX file (columns person_id,name,role[,campus,dorm,return_approved,observation])",
        _roster_import,
    )
    load_file.add_argument("file", help="the CSV (UTF-8 or GB18030) or XLSX file")
    load_file.add_argument("--replace", action="store_true", help="make the roster exactly the file's good rows")

    export = add_command(sub, "export", "write one day's entries as CSV, XLSX or JSON lines", _export)
    export.add_argument("--date", type=_day, default=None, help="YYYY-MM-DD (default: today)")
    export.add_argument("--format", choices=("csv", "xlsx", "jsonl"), default="csv", help="default: csv")
    export.add_argument("--output", help="file to write (default: standard output; required for xlsx)")
    export.add_argument("--language", choices=("zh", "en"), help="of headers and labels (default: [ui] language)")

    purge = add_command(sub, "purge", "delete old entries the center has acknowledged (never unsynced ones)", _purge)
    purge.add_argument("--older-than", type=_positive_days, metavar="DAYS", help="default: [storage] retention_days")


def _handles_storage_errors(handler: Handler) -> Handler:
    """Turn a failing disk or data directory into a message and exit status 1, never a traceback."""

    @functools.wraps(handler)
    def guarded(args: argparse.Namespace) -> int:
        from storage.files import StoreError  # imported when a command runs, not when `kiosk --help` builds

        try:
            return handler(args)
        except StoreError as exc:
            print(exc, file=sys.stderr)
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            print(f"操作失败 / failed:{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE

    return guarded


@_handles_storage_errors
def _roster_import(args: argparse.Namespace) -> int:
    from kiosk.domain.roster_file import RosterFileError, read_roster_file
    from storage.roster import RosterStore

    config = load(args)
    progress = _ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        found = read_roster_file(Path(args.file), progress)
    except RosterFileError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    for problem in found.problems:
        print(problem, file=sys.stderr)
    if not found.people:
        print(
            "文件中没有可导入的行,名单未改动 / no row of the file can be imported: the roster is unchanged",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    store = RosterStore(config.data_dir)
    if args.replace:
        store.replace_all(found.people)
    else:
        store.upsert(found.people)
    imported = len(found.people)
    print(f"已导入 {imported} 人,名单现有 {len(store)} 人 / imported {imported}, the roster now holds {len(store)}")
    if found.problems:
        count = len(found.problems)
        print(
            f"{count} 个问题(见上),这些行未导入 / {count} problems (above): those rows were not imported",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return EXIT_OK


@_handles_storage_errors
def _export(args: argparse.Namespace) -> int:
    from kiosk.station.export import write_report
    from storage.entries import EntryStore

    config = load(args)
    if args.format == "xlsx" and not args.output:
        print("XLSX 需要用 --output 指定文件 / XLSX needs a file: give --output FILE", file=sys.stderr)
        return EXIT_USAGE
    if not config.data_dir.is_dir():
        print(f"找不到数据目录 / data directory not found: {config.data_dir}", file=sys.stderr)
        return EXIT_FAILURE
    day = (args.date or datetime.now().astimezone().date()).isoformat()
    store = EntryStore(config.data_dir)
    try:
        _warn(store.warnings)
        entries = store.entries_of_day(day)
    finally:
        store.close()
    output = Path(args.output) if args.output else None
    try:
        write_report(entries, output, args.format, args.language or config.ui.language)
    except BrokenPipeError:
        # The reader (`| head`) went away: silence the interpreter's own complaint when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    print(
        f"已导出 {day} 的 {len(entries)} 条记录 / exported {len(entries)} entries of {day}",
        file=sys.stdout if output else sys.stderr,
    )
    return EXIT_OK


@_handles_storage_errors
def _purge(args: argparse.Namespace) -> int:
    from storage.entries import EntryStore

    config = load(args)
    if not config.data_dir.is_dir():
        print(f"找不到数据目录 / data directory not found: {config.data_dir}", file=sys.stderr)
        return EXIT_FAILURE
    days = args.older_than if args.older_than is not None else config.storage.retention_days
    today = datetime.now().astimezone().date()
    cutoff = (today - timedelta(days=days)).isoformat()
    store = EntryStore(config.data_dir)
    try:
        removed = store.purge(days, today)
        # After a purge, what is left of the old days is exactly what the center has not acknowledged.
        kept = sum(len(store.entries_of_day(day)) for day in store.days() if day < cutoff)
        _warn(store.warnings)
    finally:
        store.close()
    print(
        f"已删除 {cutoff} 之前已上传的 {removed} 条记录,保留 {kept} 条尚未上传的记录"
        f" / removed {removed} synced entries from before {cutoff}; kept {kept} not yet synced"
    )
    return EXIT_OK


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


def _day(text: str) -> date:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD / the date must be YYYY-MM-DD: {text!r}")


def _positive_days(text: str) -> int:
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise argparse.ArgumentTypeError(f"天数应为正整数 / DAYS must be a whole number of at least 1: {text!r}")


class _ProgressBar:
    """A bar redrawn in place on a terminal while a file is read."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, done: int, total: int) -> None:
        filled = self.WIDTH * done // total if total else self.WIDTH
        percent = 100 * done // total if total else 100
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r读取 / reading [{bar}] {percent:3d}% {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()

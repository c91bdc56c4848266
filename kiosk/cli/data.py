"""Data subcommands: `roster import`, `export`, `purge` and `store check`, for the station's administrator and
nightly jobs."""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.cli.main import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Handler, Subcommands, add_command, load
from kiosk.domain.clock import SystemClock

if TYPE_CHECKING:
    from kiosk.domain.roster_file import RosterDiff


def register(sub: Subcommands) -> None:
    """Add `roster import`, `export`, `purge` and `store check`."""
    roster = sub.add_parser("roster", help="manage the local roster", description="manage the local roster")
    actions = roster.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    load_file = add_command(
        actions,
        "import",
        "import people from a CSV or XLSX file (columns person_id/学号, name/姓名, role/身份 [, card_no/卡号,"
        " lost_card_no/挂失卡号, campus/校区, dorm/宿舍, return_approved/返校审批, observation/医学观察])",
        _roster_import,
    )
    load_file.add_argument("file", help="the CSV (UTF-8 or GB18030) or XLSX file")
    load_file.add_argument("--replace", action="store_true", help="make the roster exactly the file's good rows")
    load_file.add_argument("--force", action="store_true", help="with --replace: remove more than 20%% of the roster")
    load_file.add_argument("--dry-run", action="store_true", help="show what would change and write nothing")

    export = add_command(sub, "export", "write one day's entries as CSV, XLSX or JSON lines", _export)
    export.add_argument("--date", type=_day, default=None, help="YYYY-MM-DD (default: today)")
    export.add_argument("--format", choices=("csv", "xlsx", "jsonl"), default="csv", help="default: csv")
    export.add_argument("--output", help="file to write (default: standard output; required for xlsx)")
    export.add_argument("--language", choices=("zh", "en"), help="of headers and labels (default: [ui] language)")

    purge = add_command(sub, "purge", "delete old entries the center has acknowledged (never unsynced ones)", _purge)
    purge.add_argument("--older-than", type=_positive_days, metavar="DAYS", help="default: [storage] retention_days")

    store = sub.add_parser("store", help="check the station's data files", description="check the station's data files")
    store_actions = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    add_command(
        store_actions,
        "check",
        "read every data file, set damaged records aside and say what was lost (exit 1 if anything was)",
        _store_check,
    )


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
    from kiosk.cli.progress import progress_bar
    from kiosk.domain.roster_file import RosterFileError, plan_import, read_roster_file
    from storage.roster import RosterStore

    config = load(args)
    try:
        with progress_bar("读取 / reading") as advance:
            found = read_roster_file(Path(args.file), config.scanner.id_pattern, advance)
    except RosterFileError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    for line in found.summary():
        print(line, file=sys.stderr)
    store = RosterStore(config.data_dir)
    plan = plan_import(found, store.people(), args.replace, args.force)
    diff = plan.diff
    if plan.refusal is not None:
        print(f"{plan.refusal};名单未改动 / the roster is unchanged", file=sys.stderr)
        return EXIT_FAILURE
    if args.dry_run:
        print_diff(diff)
        print("试运行,名单未改动 / dry run: nothing was written")
        return EXIT_FAILURE if found.problems else EXIT_OK
    with progress_bar("保存 / storing") as advance:
        advance(0, len(found.people))
        if args.replace:
            store.replace_all(found.people)
        else:
            store.upsert(found.people)
        advance(len(found.people), len(found.people))
    imported = len(found.people)
    print(diff.summary())
    print(f"已导入 {imported} 人,名单现有 {len(store)} 人 / imported {imported}, the roster now holds {len(store)}")
    if found.problems:
        rows = found.failed_rows
        print(f"{rows} 行有问题(见上),未导入 / {rows} rows with problems (above) were not imported", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def print_diff(diff: RosterDiff, shown: int = 10) -> None:
    """What an import would change: the counts, then the first people of each kind of change."""
    from kiosk.domain.roster_file import describe

    print(diff.summary())
    for label, people in (("+ 新增 / added", diff.added), ("- 删除 / removed", diff.removed)):
        for person in people[:shown]:
            print(f"{label}: {describe(person)}")
    for before, after in diff.changed[:shown]:
        print(f"~ 变更 / changed: {describe(before)} → {describe(after)}")


@_handles_storage_errors
def _export(args: argparse.Namespace) -> int:
    from kiosk.cli.progress import progress_bar
    from kiosk.station.export import write_documents
    from storage.entries import EntryStore

    config = load(args)
    if args.format == "xlsx" and not args.output:
        print("XLSX 需要用 --output 指定文件 / XLSX needs a file: give --output FILE", file=sys.stderr)
        return EXIT_USAGE
    if not config.data_dir.is_dir():
        print(f"找不到数据目录 / data directory not found: {config.data_dir}", file=sys.stderr)
        return EXIT_FAILURE
    day = (args.date or SystemClock(config.station.zone).now().date()).isoformat()
    store = EntryStore(config.data_dir)
    try:
        _warn(store.warnings)
        documents = store.documents_of_day(day)
    finally:
        store.close()
    output = Path(args.output) if args.output else None
    try:
        with progress_bar("导出 / exporting") as advance:
            write_documents(documents, output, args.format, args.language or config.ui.language, advance)
    except BrokenPipeError:
        # The reader (`| head`) went away: silence the interpreter's own complaint when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    print(
        f"已导出 {day} 的 {len(documents)} 条记录 / exported {len(documents)} entries of {day}",
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
    today = SystemClock(config.station.zone).now().date()
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


@_handles_storage_errors
def _store_check(args: argparse.Namespace) -> int:
    from storage.entries import EntryStore
    from storage.notices import NoticeStore
    from storage.roster import RosterStore

    config = load(args)
    if not config.data_dir.is_dir():
        print(f"找不到数据目录 / data directory not found: {config.data_dir}", file=sys.stderr)
        return EXIT_FAILURE
    store = EntryStore(config.data_dir)
    try:
        report = store.check()
        found = [*store.warnings]
    finally:
        store.close()
    roster, notices = RosterStore(config.data_dir), NoticeStore(config.data_dir)
    notices.all()
    found += [*roster.warnings, *notices.warnings]
    _warn(found)
    print(
        f"已检查 {report.files} 个文件,{report.entries} 条完好记录 / checked {report.files} files, "
        f"{report.entries} intact entries"
    )
    if report.lost_pending:
        print(
            f"{len(report.lost_pending)} 条损坏记录待与数据中心核对(下次同步时取回或报告)/ {len(report.lost_pending)} "
            "damaged entries wait for the center (fetched back or reported lost at the next sync)"
        )
    if report.lost_reported:
        print(
            f"{len(report.lost_reported)} 条记录已向数据中心报告为损坏丢失 / {len(report.lost_reported)} entries "
            "reported to the center as lost to damage"
        )
    if found or report.lost_pending:
        return EXIT_FAILURE
    print("数据完好 / the data is sound")
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

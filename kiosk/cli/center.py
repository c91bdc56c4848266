"""`kiosk center ...`: run the center and administer it (stations, admins, roster, notices, the daily report).

Each subcommand takes --db (default sqlite:///center.db); bad input gives a bilingual message and exit 1 or 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.cli.main import Subcommands
from kiosk.domain.config import ScannerConfig

if TYPE_CHECKING:
    from kiosk.center.db import Database

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
DEFAULT_DOMAIN = "bnu.edu.cn"
DEFAULT_DB = "sqlite:///center.db"
# Stations install the kiosk without the center's libraries: import them only when a center command runs.


def register(sub: Subcommands) -> None:
    """Add the `center` command group."""
    center = sub.add_parser("center", help="the central service and its administration / 中心服务", description=__doc__)
    inner = center.add_subparsers(dest="center_command", metavar="SUBCOMMAND", required=True)

    serve = _command(inner, "serve", "run the center's HTTP API / 运行中心服务", _serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8700, help="port to listen on (default 8700)")
    serve.add_argument(
        "--allowed-domain",
        action="append",
        dest="allowed_domains",
        metavar="DOMAIN",
        help=f"domain whose https notices may be published; repeat for more (default {DEFAULT_DOMAIN})",
    )
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes (default: 1 on SQLite, which has one writer; one per CPU on PostgreSQL)",
    )
    serve.add_argument(
        "--max-body",
        type=int,
        metavar="BYTES",
        default=4 * 1024 * 1024,
        help="largest request body taken; larger ones are refused unread (default 4 MiB: 5000 entries fit)",
    )

    station = _command(inner, "add-station", "register a station and print its token once / 注册站点", _add_station)
    station.add_argument("station_id", metavar="ID")
    station.add_argument("--name", default="", help="e.g. 学五食堂 东门")
    station.add_argument("--campus", default="", help="e.g. 海淀校园")

    _command(inner, "add-admin", "create an admin token and print it once / 创建管理员令牌", _add_admin)

    revoke = _command(inner, "revoke-station", "stop a station's token at once / 吊销站点令牌", _revoke_station)
    revoke.add_argument("station_id", metavar="ID")
    rotate = _command(inner, "rotate-token", "give a station a new token, print it once / 更换站点令牌", _rotate_token)
    rotate.add_argument("station_id", metavar="ID")
    revoke_admin = _command(inner, "revoke-admin", "stop an admin token at once / 吊销管理员令牌", _revoke_admin)
    revoke_admin.add_argument("admin_id", metavar="ADMIN_ID", type=int)
    rotate_admin = _command(
        inner, "rotate-admin", "replace an admin token, print it once / 更换管理员令牌", _rotate_admin
    )
    rotate_admin.add_argument("admin_id", metavar="ADMIN_ID", type=int)
    audit = _command(inner, "audit", "who changed access, newest first / 审计记录", _audit)
    audit.add_argument("--limit", type=int, default=50, help="lines to show (default 50)")
    user = _command(inner, "add-user", "add a dashboard account (or reset one) / 添加网页账户", _add_user)
    user.add_argument("name", metavar="NAME")
    user.add_argument("--role", choices=("viewer", "admin"), default="viewer", help="viewer (default) or admin")

    roster = _command(inner, "import-roster", "import a CSV or XLSX roster / 导入名单", _import_roster)
    roster.add_argument("file", metavar="FILE")
    roster.add_argument("--replace", action="store_true", help="remove everyone not in the file")
    roster.add_argument("--force", action="store_true", help="with --replace: remove more than 20%% of the roster")
    roster.add_argument("--dry-run", action="store_true", help="show what would change and write nothing")
    roster.add_argument(
        "--id-pattern",
        default=ScannerConfig.id_pattern,
        help="the stations' [scanner] id_pattern: IDs that no scan can match are refused (default: the stations')",
    )

    notice = _command(inner, "add-notice", "publish a notice for every gate / 发布通知", _add_notice)
    notice.add_argument("--title", required=True, help="Chinese title")
    notice.add_argument("--url", required=True, help="https URL on an allowed domain")
    notice.add_argument("--title-en", default="", help="English title")
    notice.add_argument("--source", default="", help="who issued it")
    notice.add_argument("--allowed-domain", action="append", dest="allowed_domains", metavar="DOMAIN")

    report = _command(inner, "report", "print the daily report, every station included / 每日报表", _report)
    report.add_argument("--date", required=True, help="YYYY-MM-DD (station-local date of capture)")


def _command(
    inner: Subcommands, name: str, help: str, handler: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = inner.add_parser(name, help=help, description=help)
    command.add_argument("--db", default=DEFAULT_DB, help=f"database URL (default {DEFAULT_DB})")
    command.set_defaults(handler=_reporting_errors(handler))
    return command


def _reporting_errors(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            from kiosk.center.db import DatabaseError
        except ImportError as exc:
            print(
                f"未安装中心服务组件 / the center's libraries are missing ({exc.name}):"
                " pip install 'campus-kiosk[center]'",
                file=sys.stderr,
            )
            return EXIT_FAILURE
        try:
            return handler(args)
        except DatabaseError as exc:
            print(exc, file=sys.stderr)
            return EXIT_FAILURE

    return run


def _database(args: argparse.Namespace) -> Database:
    from kiosk.center.db import Database

    return Database(args.db)


def _serve(args: argparse.Namespace) -> int:
    from kiosk.center.serve import CannotServe, serve

    if args.workers is not None and args.workers < 1:
        print(f"--workers 至少为 1 / --workers must be at least 1: {args.workers}", file=sys.stderr)
        return EXIT_USAGE
    if args.max_body < 1024:
        print(f"--max-body 至少为 1024 / --max-body must be at least 1024: {args.max_body}", file=sys.stderr)
        return EXIT_USAGE
    try:
        serve(args.db, args.allowed_domains or [DEFAULT_DOMAIN], args.host, args.port, args.workers, args.max_body)
    except CannotServe as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _add_station(args: argparse.Namespace) -> int:
    from kiosk.center.auth import add_station

    token = add_station(_database(args), args.station_id, args.name, args.campus)
    shown_once = f"站点 {args.station_id} 的令牌(只显示这一次) / token for station {args.station_id} (shown once):"
    print(shown_once, file=sys.stderr)
    print(token)
    return EXIT_OK


def _add_admin(args: argparse.Namespace) -> int:
    from kiosk.center.auth import create_admin

    admin_id, token = create_admin(_database(args))
    print(f"管理员 {admin_id} 的令牌(只显示这一次) / token of admin {admin_id} (shown once):", file=sys.stderr)
    print(token)
    return EXIT_OK


def _revoke_station(args: argparse.Namespace) -> int:
    from kiosk.center.auth import revoke_station

    revoke_station(_database(args), args.station_id)
    print(f"站点 {args.station_id} 的令牌已吊销 / station {args.station_id}'s token is revoked", file=sys.stderr)
    return EXIT_OK


def _rotate_token(args: argparse.Namespace) -> int:
    from kiosk.center.auth import rotate_station_token

    token = rotate_station_token(_database(args), args.station_id)
    print(
        f"站点 {args.station_id} 的新令牌(只显示这一次,旧令牌已失效)"
        f" / new token for station {args.station_id} (shown once; the old one no longer works):",
        file=sys.stderr,
    )
    print(token)
    return EXIT_OK


def _revoke_admin(args: argparse.Namespace) -> int:
    from kiosk.center.auth import revoke_admin

    revoke_admin(_database(args), args.admin_id)
    print(f"管理员 {args.admin_id} 的令牌已吊销 / admin {args.admin_id}'s token is revoked", file=sys.stderr)
    return EXIT_OK


def _rotate_admin(args: argparse.Namespace) -> int:
    from kiosk.center.auth import rotate_admin_token

    token = rotate_admin_token(_database(args), args.admin_id)
    print(
        f"管理员 {args.admin_id} 的新令牌(只显示这一次) / new token of admin {args.admin_id} (shown once):",
        file=sys.stderr,
    )
    print(token)
    return EXIT_OK


def _audit(args: argparse.Namespace) -> int:
    from kiosk.center.auth import audit_log

    for at, actor, action, subject, detail in audit_log(_database(args), args.limit):
        print(f"{at}  {actor:<24} {action:<22} {subject:<20} {detail}".rstrip())
    return EXIT_OK
def _add_user(args: argparse.Namespace) -> int:
    from kiosk.center.web.accounts import AccountError, add_user, ensure_tables

    password = _read_password()
    if password is None:
        print("两次输入的密码不一致 / the two passwords differ", file=sys.stderr)
        return EXIT_USAGE
    db = _database(args)
    ensure_tables(db)
    try:
        add_user(db, args.name, args.role, password)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    print(f"账户 {args.name} 已就绪({args.role}) / account {args.name} is ready ({args.role})")
    return EXIT_OK


def _read_password() -> str | None:
    """Asked twice on a terminal; otherwise the first line of standard input. None when the two differ."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("密码 / password: ")
    return first if getpass.getpass("再输入一次 / again: ") == first else None


def _import_roster(args: argparse.Namespace) -> int:
    from kiosk.center.roster import current_people, update
    from kiosk.domain.roster_file import RosterFileError, plan_import, read_roster_file

    try:
        found = read_roster_file(Path(args.file), args.id_pattern)
    except RosterFileError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    for line in found.summary():
        print(line, file=sys.stderr)
    db = _database(args)
    plan = plan_import(found, current_people(db), args.replace, args.force)
    diff = plan.diff
    if plan.refusal is not None:
        print(f"{plan.refusal};名单未改动 / the roster is unchanged", file=sys.stderr)
        return EXIT_FAILURE
    print(diff.summary())
    if args.dry_run:
        print("试运行,名单未改动 / dry run: nothing was written")
        return EXIT_FAILURE if found.problems else EXIT_OK
    version, changed = update(db, found.people, args.replace)
    print(
        f"已导入 {len(found.people)} 人,{changed} 人有变动,名单版本 {version}"
        f" / imported {len(found.people)}, {changed} changed, roster version {version}"
    )
    return EXIT_FAILURE if found.problems else EXIT_OK


def _add_notice(args: argparse.Namespace) -> int:
    from kiosk.center.notice_board import publish
    from kiosk.domain.notices import NoticeRefused

    try:
        domains = args.allowed_domains or [DEFAULT_DOMAIN]
        notice = publish(_database(args), domains, args.title, args.url, args.title_en, args.source)
    except NoticeRefused as exc:
        print(f"通知未发布 / notice refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"已发布 / published: {notice.notice_id} {notice.title}")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from kiosk.center.reports import daily_report, valid_date
    from kiosk.center.schemas import StationDay

    if not valid_date(args.date):
        print(f"日期应为 YYYY-MM-DD / the date must be YYYY-MM-DD: {args.date!r}", file=sys.stderr)
        return EXIT_USAGE
    report = daily_report(_database(args), args.date)
    print(f"{args.date} 各站点统计 / daily report")
    print(f"{'station':<20} {'campus':<12} {'admitted':>9} {'denied':>7} {'referred':>9} {'total':>7}")
    for row in [*report.stations, report.totals]:
        label = f"{row.station_id:<20} {row.campus:<12}" if isinstance(row, StationDay) else f"{'合计 / total':<33}"
        print(f"{label} {row.admitted:>9} {row.denied:>7} {row.referred:>9} {row.total:>7}")
    return EXIT_OK

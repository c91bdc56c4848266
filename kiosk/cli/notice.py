"""`kiosk notices add|list`: official notices added by a duty officer, and what the station holds."""

from __future__ import annotations

import argparse
import sys

from kiosk.cli.main import EXIT_FAILURE, EXIT_OK, Subcommands, add_command, load
from kiosk.domain.clock import SystemClock
from kiosk.domain.i18n import both
from kiosk.domain.notices import NoticeRefused, make_local_notice, notice_problem, stale_since
from storage.files import StoreError
from storage.notices import NoticeStore


def register(sub: Subcommands) -> None:
    """Add `kiosk notices add` and `kiosk notices list`."""
    notices = sub.add_parser("notices", help="official notices shown as QR codes at the gate")
    actions = notices.add_subparsers(dest="notices_command", metavar="ACTION", required=True)
    add = add_command(actions, "add", "add an official notice (https URL on an allowed domain only)", _add)
    add.add_argument("--title", required=True, help="Chinese title, shown under the code")
    add.add_argument("--url", required=True, help="https URL on a domain in [notices] allowed_domains")
    add.add_argument("--title-en", default="", help="English title")
    add.add_argument("--source", default="", help="issuing office, e.g. 校医院 (stored as local:<office>)")
    add_command(actions, "list", "list the notices this station holds, newest first", _list)


def _add(args: argparse.Namespace) -> int:
    config = load(args)
    try:
        notice = make_local_notice(
            args.title,
            args.url,
            args.title_en,
            config.notices.allowed_domains,
            SystemClock(config.station.zone).now(),
            args.source,
        )
        NoticeStore(config.data_dir).add(notice)
    except (NoticeRefused, StoreError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILURE
    print(f"{both('notice.added')}: {notice.notice_id} {notice.title} {notice.url}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    config = load(args)
    store = NoticeStore(config.data_dir)
    try:
        notices = [(n, notice_problem(n, config.notices.allowed_domains)) for n in store.all()]
        notices += [(r.notice, r.reason) for r in store.refused()]
        last_refresh = store.last_refresh
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILURE
    for warning in store.warnings:
        print(warning, file=sys.stderr)
    if config.center.url:
        stale = stale_since(last_refresh, SystemClock(config.station.zone).now(), config.notices.stale_after)
        if stale:
            print(stale)
    if not notices:
        print(both("notice.none"))
    for notice, problem in notices:
        titles = " / ".join(title for title in (notice.title, notice.title_en) if title)
        print(f"{notice.published_at[:16].replace('T', ' ')}  {notice.source or '-'}  {titles}  {notice.url}")
        if problem:
            print(f"    {both('notice.hidden')}: {problem}")
    return EXIT_OK

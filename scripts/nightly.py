"""The nightly job: check the data files, push everything, pull roster and notices, export yesterday's report,
fold and purge.

Run by scripts/systemd/kiosk-nightly.timer, or from cron (as the kiosk user):
    15 2 * * *  /opt/kiosk/.venv/bin/python /opt/kiosk/scripts/nightly.py --config /etc/kiosk/kiosk.toml

Idempotent (run it twice, get the same files), and safe while the gate app runs: the entry store is shared
under a lock. Purging never touches an entry the center has not acknowledged. Exit 0 when every step worked,
1 when one failed (the rest still ran), 2 for a bad configuration.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, timedelta
from pathlib import Path

from kiosk.cli.progress import progress_bar, sync_with_progress
from kiosk.domain.clock import SystemClock
from kiosk.domain.config import Config, ConfigError, load_config
from kiosk.station.export import Format, write_documents
from kiosk.station.sync import SyncSetupError, station_token, syncer_from_config
from storage.entries import EntryStore
from storage.files import StoreError, ensure_private_dir
from storage.notices import NoticeStore
from storage.roster import RosterStore

log = logging.getLogger("kiosk.nightly")

REPORT_FORMATS: tuple[Format, ...] = ("csv", "xlsx")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nightly.py", description="Nightly sync, report, fold and purge")
    parser.add_argument("--config", type=Path, default=Path("kiosk.toml"), help="station config file")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        log.error("配置错误 / configuration error: %s", exc)
        return 2
    today = args.today or SystemClock(config.station.zone).now().date()  # the gate's day, not the system's
    try:
        store = EntryStore(config.data_dir)
    except (OSError, StoreError) as exc:
        log.error("无法打开记录 / cannot open the entry store: %s", exc)
        return 1
    try:
        ok = check(store)
        ok = sync(config, store) and ok
        ok = export(config, store, today - timedelta(days=1)) and ok
        ok = fold_and_purge(config, store, today) and ok
    finally:
        store.close()
    log.info("完成 / done: %s", "全部成功 / all steps worked" if ok else "有步骤失败 / a step failed")
    return 0 if ok else 1


def check(store: EntryStore) -> bool:
    """`kiosk store check`: read every file, set damaged records aside; True when nothing was damaged.

    Entries lost to damage are settled by the sync step that follows: fetched back, or reported to the center.
    """
    for warning in store.warnings:
        log.warning("%s", warning)
    seen = len(store.warnings)
    try:
        report = store.check()
    except (OSError, StoreError) as exc:
        log.error("检查失败 / check failed: %s", exc)
        return False
    for warning in store.warnings[seen:]:
        log.warning("%s", warning)
    log.log(
        logging.INFO if report.clean else logging.ERROR,
        "检查 / check: %d files, %d intact entries; 损坏待核对 / lost, waiting for the center: %d; "
        "已报告 / reported lost: %d",
        report.files,
        report.entries,
        len(report.lost_pending),
        len(report.lost_reported),
    )
    return report.clean and len(store.warnings) == 0


def sync(config: Config, store: EntryStore) -> bool:
    """One full pass with the center; True when every entry is acknowledged (or no center is configured)."""
    if not config.center.url:
        log.info("未配置数据中心,跳过同步 / no center configured: sync skipped")
        return True
    try:
        token = station_token(config)
    except SyncSetupError as exc:
        log.error("无法同步 / cannot sync: %s", exc)
        return False
    syncer = syncer_from_config(config, store, RosterStore(config.data_dir), NoticeStore(config.data_dir), token=token)
    try:
        report = sync_with_progress(syncer, store)  # a bar when run by hand on a terminal
    finally:
        syncer.close()
    for rejection in report.rejected:
        log.warning("数据中心拒收 / rejected: %s r%d: %s", rejection.entry_id, rejection.revision, rejection.error)
    level = logging.INFO if report.complete else logging.ERROR
    log.log(
        level,
        "同步 / sync: %s (已确认 / acknowledged %d, 待上传 / pending %d)",
        report.summary(),
        report.acked,
        report.pending,
    )
    return report.complete


def export(config: Config, store: EntryStore, day: date) -> bool:
    """Write the day's report as CSV and XLSX into <data_dir>/reports/, replacing any earlier run's."""
    reports = ensure_private_dir(config.data_dir / "reports")
    documents = store.documents_of_day(day.isoformat())
    ok = True
    for fmt in REPORT_FORMATS:
        path = reports / f"{config.station.id}-{day.isoformat()}.{fmt}"
        try:
            with progress_bar(f"导出 / exporting {fmt}") as advance:
                write_documents(documents, path, fmt, config.ui.language, advance)
        except (OSError, StoreError) as exc:
            log.error("导出失败 / export failed: %s: %s", path, exc)
            ok = False
        else:
            log.info("已导出 / exported %d entries: %s", len(documents), path)
    return ok


def fold_and_purge(config: Config, store: EntryStore, today: date) -> bool:
    """Fold the journal, then drop acknowledged entries older than [storage] retention_days."""
    try:
        store.fold()
        removed = store.purge(config.storage.retention_days, today)
    except (OSError, StoreError) as exc:
        log.error("整理失败 / fold or purge failed: %s", exc)
        return False
    log.info(
        "已清理 / purged %d acknowledged entries older than %d days; 待上传 / still waiting: %d",
        removed,
        config.storage.retention_days,
        store.unsynced_count(),
    )
    return True


if __name__ == "__main__":
    sys.exit(main())

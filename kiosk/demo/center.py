"""The demo's own center: seeded with the demo roster, notices and station, run as a `kiosk center serve` subprocess.

The subprocess stays in the demo's process group, so that closing the terminal or Ctrl-C stops it too; the demo
stops it itself on every way out.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import httpx

from kiosk.domain.models import Notice, Person

STARTUP_SECONDS = 30.0
"""A cold start imports FastAPI and SQLAlchemy: several seconds on a slow machine."""


class CenterUnavailable(Exception):
    """The demo center could not be set up or started (bilingual message)."""


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed_center(
    db_url: str, station: tuple[str, str, str], people: Sequence[Person], notices: Sequence[Notice], token_path: Path
) -> None:
    """Create the center's database with the roster, the notices and the station (id, name, campus).

    Safe to repeat on the same directory: the station keeps the token already in `token_path`.
    """
    try:
        from kiosk.center.auth import add_station
        from kiosk.center.db import Database, DatabaseError
        from kiosk.center.notice_board import newest_first, publish
        from kiosk.center.roster import update
        from kiosk.center.web.accounts import add_user, ensure_tables
        from kiosk.demo.data import DEMO_WEB_PASSWORD, DEMO_WEB_USER
        from kiosk.domain.notices import NoticeRefused
    except ImportError as exc:  # installed without the `center` extra
        raise CenterUnavailable(f"未安装中心组件 / the center extra is not installed: {exc}") from None
    try:
        db = Database(db_url)
        try:
            update(db, people, replace=True)
            if not newest_first(db):
                for notice in reversed(notices):
                    published = datetime.fromisoformat(notice.published_at)
                    publish(db, ["bnu.edu.cn"], notice.title, notice.url, notice.title_en, notice.source, published)
            if not token_path.exists():
                write_private(token_path, add_station(db, *station) + "\n")
            ensure_tables(db)
            add_user(db, DEMO_WEB_USER, "admin", DEMO_WEB_PASSWORD)
        finally:
            db.close()
    except (DatabaseError, NoticeRefused, OSError) as exc:
        raise CenterUnavailable(f"无法建立中心数据库 / cannot set up the center's database: {exc}") from None


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600 from the first byte, not chmod after)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT


class DemoCenter:
    """`kiosk center serve` on a loopback port; start, stop and toggle are thread-safe (the gate's F11 toggles)."""

    def __init__(self, db_url: str, log_path: Path) -> None:
        self.db_url = db_url
        self.log_path = log_path
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        process = self._process
        return process is not None and process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process else None

    def start(self) -> None:
        """Start the server and wait until it answers; CenterUnavailable if it does not."""
        with self._lock:
            self._start()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and reap it; nothing happens if it is not running."""
        with self._lock:
            self._stop()

    def toggle(self) -> str:
        """Stop a running center, start a stopped (or killed) one; returns what happened, bilingually."""
        with self._lock:
            if self.running:
                self._stop()
                return "数据中心已停止:终端离线工作,记录等待上传 / center stopped: the gate works offline, entries wait"
            try:
                self._start()
            except CenterUnavailable as exc:
                return str(exc)
            return "数据中心已启动:等待的记录将补传 / center started: waiting entries will catch up"

    def _start(self) -> None:
        if self.running:
            return
        command = [sys.executable, "-m", "kiosk.cli", "center", "serve", "--db", self.db_url, "--port", str(self.port)]
        try:
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.log_path.parent
                )
        except OSError as exc:
            raise CenterUnavailable(f"无法启动数据中心 / cannot start the center: {exc}") from None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise CenterUnavailable(
                    f"数据中心启动失败,见 {self.log_path} / the center exited at start: see {self.log_path}"
                )
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self._stop()
        raise CenterUnavailable(
            f"数据中心 {STARTUP_SECONDS:.0f} 秒内未响应 / the center did not answer within {STARTUP_SECONDS:.0f} s"
        )

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):  # a second Ctrl-C must not leave it running
                process.kill()
                process.wait(timeout=5)


def center_entry_count(db_url: str, station_id: str) -> int:
    """How many entries of `station_id` the center's database holds (read directly, as an auditor would)."""
    from sqlalchemy import func, select

    from kiosk.center.db import Database, entries

    db = Database(db_url)
    try:
        with db.read() as conn:
            query = select(func.count()).select_from(entries).where(entries.c.station_id == station_id)
            return int(conn.execute(query).scalar_one())
    finally:
        db.close()

"""Real servers for system tests and benchmarks: PostgreSQL started as the `postgres` user, and the center.

    with start_postgres() as url:                # a fresh cluster on a free loopback port, trust auth
        with run_center(url, tmp_path) as center:  # `kiosk center serve` in a subprocess
            token = center.add_station("gate-01")
            httpx.post(f"{center.url}/api/v1/stations/gate-01/entries", headers=center.auth(token), json=...)
            center.kill()                          # kill -9, as a power cut would
            center.start()                         # same port and database

Missing PostgreSQL binaries skip the test locally and fail it in CI (`require_tool`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from kiosk.center.auth import add_admin, add_station
from kiosk.center.db import Database

PG_ROOT = Path("/usr/lib/postgresql")
"""Debian puts each major version's server programs in PG_ROOT/<version>/bin, outside PATH."""
STARTUP_SECONDS = 30.0


def require_tool(name: str) -> str:
    """tests/conftest.py's rule, repeated because benchmarks import this module outside pytest's path setup:
    a missing program skips locally and fails in CI."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed: .ci/run must install it")
        pytest.skip(f"{name} is not installed")
    return path


def _postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        if os.environ.get("CI") == "true":
            pytest.fail("there is no postgres user: .ci/run must install PostgreSQL")
        pytest.skip("there is no postgres user")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pg_bin_dirs(root: Path = PG_ROOT) -> list[Path]:
    """Every installed version's bin directory, newest first (16 before 15, 15 before 9.6)."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.parent.name.split(".") if part.isdigit())

    return sorted((p for p in root.glob("*/bin") if version(p)), key=version, reverse=True)


def _pg_tool(name: str) -> str:
    """A PostgreSQL server program of the newest installed version, else from PATH."""
    for directory in pg_bin_dirs():
        if (directory / name).exists():
            return str(directory / name)
    return require_tool(name)


def _as_postgres(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program as the postgres user (it refuses to run as root)."""
    if os.geteuid() == 0:
        command = [require_tool("runuser"), "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


@contextmanager
def start_postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster; yields a SQLAlchemy URL for its `postgres` database."""
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
    data = root / "data"
    port = free_port()
    if os.geteuid() == 0:
        owner = _postgres_user()
        os.chown(root, owner.pw_uid, owner.pw_gid)
    try:
        done = _as_postgres([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr}")
        # Durable settings (fsync on): benchmarks measure what a campus would get.
        options = f"-h 127.0.0.1 -p {port} -k {root} -c max_connections=300"
        log = root / "log"
        done = _as_postgres([pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"])
        if done.returncode != 0:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stderr}\n{text}")
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


class Center:
    """A `kiosk center serve` subprocess on a fixed loopback port, with an admin token and a way to add stations."""

    def __init__(self, db_url: str, workdir: Path, allowed_domains: tuple[str, ...] = ("bnu.edu.cn",)) -> None:
        self.db_url = db_url
        self.workdir = workdir
        self.allowed_domains = allowed_domains
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"center-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._db = Database(db_url)  # creates the schema before the server starts, so they never race for it
        self.admin_token = add_admin(self._db)

    def add_station(self, station_id: str, name: str = "", campus: str = "") -> str:
        """Register a station directly in the database; returns its token."""
        return add_station(self._db, station_id, name or station_id, campus)

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        """Headers for admin calls."""
        return self.auth(self.admin_token)

    def start(self) -> None:
        """Start the server (again) and wait until it answers."""
        command = [sys.executable, "-m", "kiosk.cli", "center", "serve", "--db", self.db_url, "--port", str(self.port)]
        for domain in self.allowed_domains:
            command += ["--allowed-domain", domain]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the center exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the center did not answer within {STARTUP_SECONDS} s:\n{self.log()}")

    def kill(self) -> None:
        """kill -9, as a crash or power cut would, and reap the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), falling back to kill -9."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def close(self) -> None:
        self.stop()
        self._db.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def run_center(db_url: str, workdir: Path, allowed_domains: tuple[str, ...] = ("bnu.edu.cn",)) -> Iterator[Center]:
    """The center serving `db_url` (e.g. f"sqlite:///{tmp_path}/center.db") until the block ends."""
    center = Center(db_url, workdir, allowed_domains)
    try:
        center.start()
        yield center
    finally:
        center.close()


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new empty database on a running cluster (one per test keeps tests apart); dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"t{os.getpid()}_{time.monotonic_ns()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()

"""`kiosk center ...` run as a user would, in a subprocess (on a SQLite file unless said): output, exit status,
no tracebacks; worker processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import Center, free_port, fresh_postgres_database, run_center

from kiosk.center.serve import listening_socket
from kiosk.domain.models import Entry

pytestmark = pytest.mark.slow


def kiosk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "center", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_add_station_prints_a_token_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    added = kiosk("add-station", "gate-01", "--name", "学五食堂", "--campus", "海淀校园", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert len(token) >= 40 and "shown once" in added.stderr
    database = tmp_path / "center.db"  # the default --db, in the working directory
    assert token.encode() not in database.read_bytes()
    assert database.stat().st_mode & 0o777 == 0o600
    again = kiosk("add-station", "gate-01", cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr and "已存在" in again.stderr
    bad = kiosk("add-station", "gate 01/..", cwd=tmp_path)
    assert bad.returncode == 1 and " / " in bad.stderr
    admin = kiosk("add-admin", cwd=tmp_path)
    assert admin.returncode == 0 and admin.stdout.strip() != token


def test_import_roster_add_notice_and_report(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    roster = tmp_path / "roster.csv"
    roster.write_text("person_id,name,role,dorm\n2023000101,张三,student,西北楼\n2023000102,李四,student,\n,,x,\n")
    imported = kiosk("import-roster", str(roster), "--db", db, cwd=tmp_path)
    assert imported.returncode == 1, imported.stderr  # one bad row: reported, the good rows imported
    assert "imported 2" in imported.stdout and "第 4 行" in imported.stderr
    refused_replace = kiosk("import-roster", str(roster), "--replace", "--db", db, cwd=tmp_path)
    assert refused_replace.returncode == 1 and "not replaced" in refused_replace.stderr
    missing = kiosk("import-roster", str(tmp_path / "nope.csv"), "--db", db, cwd=tmp_path)
    assert missing.returncode == 2 and "file not found" in missing.stderr

    notice = kiosk("add-notice", "--title", "返校须知", "--url", "https://news.bnu.edu.cn/x", "--db", db, cwd=tmp_path)
    assert notice.returncode == 0, notice.stderr
    refused = kiosk("add-notice", "--title", "钓鱼", "--url", "https://evil.example.com/", "--db", db, cwd=tmp_path)
    assert refused.returncode == 2 and "notice refused" in refused.stderr

    for station_id in ("gate-01", "gate-02"):
        assert kiosk("add-station", station_id, "--campus", "海淀校园", "--db", db, cwd=tmp_path).returncode == 0
    report = kiosk("report", "--date", "2026-11-28", "--db", db, cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert any(line.startswith("gate-02") and line.split()[-1] == "0" for line in lines)  # idle station listed
    assert kiosk("report", "--date", "yesterday", "--db", db, cwd=tmp_path).returncode == 2

    with run_center(db, tmp_path) as center:
        token = center.add_station("gate-03")
        people = httpx.get(f"{center.url}/api/v1/roster", headers=center.auth(token)).json()["people"]
        assert sorted(p["name"] for p in people) == ["张三", "李四"]
        notices = httpx.get(f"{center.url}/api/v1/notices", headers=center.auth(token)).json()["notices"]
        assert [n["title"] for n in notices] == ["返校须知"]


def test_refuses_a_newer_schema_and_a_bad_url(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    assert kiosk("add-admin", "--db", f"sqlite:///{path}", cwd=tmp_path).returncode == 0
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    newer = kiosk("serve", "--db", f"sqlite:///{path}", "--port", "1", cwd=tmp_path)
    assert newer.returncode == 1 and "schema is version 99" in newer.stderr and "升级" in newer.stderr
    bad = kiosk("report", "--date", "2026-11-28", "--db", "mysql://x/y", cwd=tmp_path)
    assert bad.returncode == 1 and "only SQLite and PostgreSQL" in bad.stderr


def test_sqlite_is_served_by_one_worker(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    several = kiosk("serve", "--db", db, "--workers", "2", "--port", "1", cwd=tmp_path)
    assert several.returncode == 2 and "one writer" in several.stderr and "写入者" in several.stderr
    assert kiosk("serve", "--db", db, "--workers", "0", "--port", "1", cwd=tmp_path).returncode == 2


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_postgresql_workers_share_the_port_and_die_with_their_supervisor(
    postgres_url: str, tmp_path: Path, make_entry: Callable[..., Entry]
) -> None:
    with fresh_postgres_database(postgres_url) as db:
        center = Center(db, tmp_path)
        token = center.add_station("gate-01")
        port = str(free_port())
        command = [sys.executable, "-m", "kiosk.cli", "center", "serve", "--db", db, "--port", port, "--workers", "2"]
        supervisor = subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.PIPE)
        try:
            url = f"http://127.0.0.1:{port}/api/v1/stations/gate-01/entries"
            batch = {"entries": [make_entry(station_id="gate-01", seq=seq).to_dict() for seq in range(1, 11)]}
            deadline = time.monotonic() + 60
            while len(children(supervisor.pid)) < 2 or not _answers(url, token, batch):
                assert time.monotonic() < deadline and supervisor.poll() is None, supervisor.stderr
                time.sleep(0.2)
            workers = children(supervisor.pid)
            supervisor.send_signal(signal.SIGKILL)
            supervisor.wait(timeout=10)
            while any(Path(f"/proc/{worker}").exists() for worker in workers):
                assert time.monotonic() < deadline, f"workers {workers} outlived their supervisor"
                time.sleep(0.1)
            with pytest.raises(httpx.TransportError):
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
        finally:
            if supervisor.poll() is None:
                supervisor.kill()
                supervisor.wait(timeout=10)
            center.close()


def _answers(url: str, token: str, batch: dict[str, Any]) -> bool:
    try:
        reply = httpx.post(url, json=batch, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except httpx.TransportError:
        return False
    assert reply.status_code == 200, reply.text
    return {result["status"] for result in reply.json()["results"]} <= {"stored", "duplicate"}


async def test_workers_connections_get_tcp_nodelay() -> None:
    """Without it every keep-alive request waits ~40 ms for a delayed ACK (uvicorn's own socket has proto 0)."""
    listening = listening_socket("127.0.0.1", 0)
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
    async with server:
        _, writer = await asyncio.open_connection(*listening.getsockname())
        assert await asyncio.wait_for(accepted, 10) != 0
        writer.close()

"""Running the center under uvicorn: one process on SQLite, several worker processes on PostgreSQL.

SQLite has one writer, and its group commit (see group_commit) works within one process: more processes would
only queue on the file lock. PostgreSQL takes writers in parallel, so by default it gets a worker per CPU; the
workers share one listening socket and a budget of database connections.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from collections.abc import Sequence

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from kiosk.center.api import create_app
from kiosk.center.db import Database
from kiosk.center.gate import DEFAULT_MAX_BODY

POSTGRESQL_CONNECTIONS = 40
"""Database connections of all workers together (PostgreSQL's default limit is 100: room left for the rest)."""
KEEP_ALIVE_SECONDS = 75
"""Idle connections are kept this long (uvicorn's default is 5 s). Stations push every 15 s by default: they
keep their connection instead of a handshake per push, and none sends just as the center closes it."""
_SETTINGS = "KIOSK_CENTER_SETTINGS"
_PR_SET_PDEATHSIG = 1


class CannotServe(ValueError):
    """The center cannot start as asked; the message says why in Chinese and English."""


def default_workers(db: Database) -> int:
    """One on SQLite; one per CPU on PostgreSQL."""
    return 1 if db.is_sqlite else os.cpu_count() or 1


def serve(
    db_url: str,
    allowed_domains: Sequence[str],
    host: str,
    port: int,
    workers: int | None = None,
    max_body: int = DEFAULT_MAX_BODY,
) -> None:
    """Serve until stopped; the schema is created or checked once, before any worker starts. Request bodies
    larger than `max_body` bytes are refused (413) unread."""
    db = Database(db_url)
    try:
        count = workers or default_workers(db)
        if db.is_sqlite and count > 1:
            raise CannotServe(
                "SQLite 只有一个写入者,只能用 1 个工作进程(多进程请用 PostgreSQL)"
                " / SQLite has one writer: run 1 worker (use PostgreSQL for more)"
            )
    finally:
        db.close()
    options = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }
    if count == 1:
        uvicorn.run(create_app(db_url, allowed_domains, max_body=max_body), **options)  # type: ignore[arg-type]
        return
    listening = listening_socket(host, port)
    # Each worker is a fresh interpreter (spawn) that builds its own app from these settings.
    os.environ[_SETTINGS] = "\n".join([str(os.getpid()), str(count), str(max_body), db_url, *allowed_domains])
    config = uvicorn.Config("kiosk.center.serve:worker_app", factory=True, workers=count, **options)  # type: ignore[arg-type]
    Multiprocess(config, sockets=[listening]).run()


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket the workers share, made here rather than by uvicorn's `Config.bind_socket`, which leaves its
    protocol 0: asyncio then skips TCP_NODELAY on accepted connections, and each keep-alive request waits ~40 ms
    for a delayed ACK (uvicorn issue #3149)."""
    listening = socket.socket(
        socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as exc:
        listening.close()
        raise CannotServe(f"无法监听 {host}:{port} / cannot listen on {host}:{port}: {exc.strerror}") from None
    listening.set_inheritable(True)
    return listening


def worker_app() -> FastAPI:
    """The app of one worker process, from the settings its supervisor left in the environment."""
    supervisor, count, max_body, db_url, *allowed_domains = os.environ[_SETTINGS].split("\n")
    _die_with(int(supervisor))
    connections = max(4, POSTGRESQL_CONNECTIONS // int(count))
    return create_app(db_url, allowed_domains, connections=connections, max_body=int(max_body))


def _die_with(supervisor: int) -> None:
    """Have the kernel kill this worker when its supervisor dies, kill -9 included: an orphan would go on
    answering on the shared socket, and a restarted center could not take the port back."""
    if sys.platform != "linux":
        return
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != supervisor:  # it died before prctl
        os._exit(1)

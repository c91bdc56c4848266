"""A fault-injecting HTTP proxy on 127.0.0.1 between a station and the center, for system tests.

It handles one request per connection (it asks the center to close after replying), so every request meets
the mode in force when it arrived, and the mode can be switched at any moment of a test.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections import Counter
from enum import StrEnum
from types import TracebackType

_HEAD_END = b"\r\n\r\n"


class Mode(StrEnum):
    PASS = "pass"
    """Forward the request and the reply untouched."""
    DROP = "drop"
    """Close the station's connection before forwarding: the center never sees the request."""
    DELAY = "delay"
    """Wait `delay` seconds, then forward (longer than the station's timeout makes it give up)."""
    ERROR_AFTER = "error_after"
    """Forward (the center commits), then answer 500 instead of the real reply."""
    TRUNCATE = "truncate"
    """Forward, then send the reply's head and half its body, and close."""
    GARBLE = "garble"
    """Forward, then send the reply with its body bytes scrambled (same length)."""
    MISMATCH = "mismatch"
    """Forward, then send well-formed JSON whose `results` no longer match the batch."""


class FaultProxy:
    """Listens on 127.0.0.1:`port` (0: any free port) and forwards to 127.0.0.1:`upstream_port`."""

    def __init__(self, upstream_port: int, port: int = 0, delay: float = 2.0) -> None:
        self.upstream_port = upstream_port
        self.mode = Mode.PASS
        self.delay = delay
        self.handled: Counter[Mode] = Counter()
        """Requests seen per mode, so a test can check that the faults really happened."""
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def exchange(self, request: bytes) -> bytes | None:
        """What the station gets back for `request` under the current mode; None: close without a reply."""
        mode = self.mode
        self.handled[mode] += 1
        if mode is Mode.DROP:
            return None
        if mode is Mode.DELAY and self._stopping.wait(self.delay):
            return None
        reply = self._forward(request)
        if reply is None:
            return None
        head, _, body = reply.partition(_HEAD_END)
        if mode is Mode.ERROR_AFTER:
            return _reply(500, b"proxy: injected failure after forwarding")
        if mode is Mode.TRUNCATE:
            return head + _HEAD_END + body[: len(body) // 2]
        if mode is Mode.GARBLE:
            return head + _HEAD_END + bytes(b ^ 0x5A for b in body)
        if mode is Mode.MISMATCH:
            return _mismatched(head, body)
        return reply

    def _forward(self, request: bytes) -> bytes | None:
        try:
            with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30) as upstream:
                upstream.sendall(request)
                chunks = []
                while chunk := upstream.recv(65536):
                    chunks.append(chunk)
        except OSError:
            return None  # the center is down: the station sees its connection closed
        return b"".join(chunks) or None


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    proxy: FaultProxy


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.request.settimeout(30)
        try:
            request = _read_request(self.request)
            if request is None:
                return
            reply = self.server.proxy.exchange(request)
            if reply is not None:
                self.request.sendall(reply)
        except OSError:
            return


def _read_request(sock: socket.socket) -> bytes | None:
    """One whole HTTP request, rewritten to ask the center to close the connection after replying."""
    data = b""
    while _HEAD_END not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(_HEAD_END)
    lines = head.split(b"\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name = line.split(b":", 1)[0].strip().lower()
        if name == b"content-length":
            length = int(line.split(b":", 1)[1])
        if name not in (b"connection", b"keep-alive"):
            kept.append(line)
    kept.append(b"Connection: close")
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return b"\r\n".join(kept) + _HEAD_END + body


def _reply(status: int, body: bytes, content_type: bytes = b"text/plain") -> bytes:
    head = b"HTTP/1.1 %d Fault\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close" % (
        status,
        content_type,
        len(body),
    )
    return head + _HEAD_END + body


def _mismatched(head: bytes, body: bytes) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        return head + _HEAD_END + body
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        results = data["results"]
        data["results"] = results[::-1] if len(results) > 1 else [*results, *results]
    status = int(head.split(b" ", 2)[1])
    return _reply(status, json.dumps(data).encode(), b"application/json")

"""The fault proxy itself: each mode does to a real HTTP exchange what it says, and reaches the upstream or not."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from faultproxy import FaultProxy, Mode


class _Upstream(BaseHTTPRequestHandler):
    seen: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(body)
        reply = json.dumps({"results": [{"n": 1}, {"n": 2}], "echo": body.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    _Upstream.seen = []
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=upstream.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with FaultProxy(upstream.server_address[1], delay=1.0) as running:
        yield running
    upstream.shutdown()
    upstream.server_close()


def _post(proxy: FaultProxy, timeout: float = 5.0) -> httpx.Response:
    with httpx.Client(base_url=proxy.url, timeout=timeout) as client:
        return client.post("/x", json={"hello": "世界"})


def test_pass_forwards_untouched_over_several_requests(proxy: FaultProxy) -> None:
    with httpx.Client(base_url=proxy.url, timeout=5) as client:
        for _ in range(3):
            assert client.post("/x", json={"hello": "世界"}).json()["echo"] == '{"hello":"世界"}'
    assert len(_Upstream.seen) == 3


def test_drop_never_reaches_the_upstream(proxy: FaultProxy) -> None:
    proxy.mode = Mode.DROP
    with pytest.raises(httpx.RemoteProtocolError):
        _post(proxy)
    assert _Upstream.seen == []


def test_delay_beyond_the_timeout_times_out(proxy: FaultProxy) -> None:
    proxy.mode = Mode.DELAY
    with pytest.raises(httpx.ReadTimeout):
        _post(proxy, timeout=0.3)


def test_error_after_reaches_the_upstream_but_answers_500(proxy: FaultProxy) -> None:
    proxy.mode = Mode.ERROR_AFTER
    assert _post(proxy).status_code == 500
    assert len(_Upstream.seen) == 1


def test_truncate_tears_the_reply(proxy: FaultProxy) -> None:
    proxy.mode = Mode.TRUNCATE
    with pytest.raises(httpx.RemoteProtocolError):
        _post(proxy)
    assert len(_Upstream.seen) == 1


def test_garble_keeps_the_length_but_not_the_json(proxy: FaultProxy) -> None:
    proxy.mode = Mode.GARBLE
    response = _post(proxy)
    with pytest.raises(ValueError):
        response.json()


def test_mismatch_reorders_the_results(proxy: FaultProxy) -> None:
    proxy.mode = Mode.MISMATCH
    assert _post(proxy).json()["results"] == [{"n": 2}, {"n": 1}]
    assert proxy.handled[Mode.MISMATCH] == 1

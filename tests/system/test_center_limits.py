"""Limits before work, the one error shape, and the offline docs, on the real center over loopback (SQLite)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from servers import Center, run_center

pytestmark = pytest.mark.slow
MB = 1024 * 1024


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    """One center for the module (starting one costs seconds), with stations gate-01 and gate-02."""
    work = tmp_path_factory.mktemp("limits")
    with run_center(f"sqlite:///{work / 'center.db'}", work) as running:
        yield running


@pytest.fixture(scope="module")
def tokens(center: Center) -> dict[str, str]:
    return {station: center.add_station(station) for station in ("gate-01", "gate-02")}


def peak_rss_mb(center: Center) -> float:
    """The server's peak resident memory so far (VmHWM), in MB."""
    assert center.process is not None
    status = Path(f"/proc/{center.process.pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def send_oversized(center: Center, path: str, headers: str, size: int) -> bytes:
    """Send a request declaring `size` bytes and try to send them all; returns what the server answered."""
    host, port = center.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {size}\r\n\r\n".encode())
        chunk = b"[" * MB
        try:
            for _ in range(size // MB):
                sock.sendall(chunk)
        except OSError:  # the server closed the connection: it would not read the rest
            pass
        reply = b""
        try:
            while data := sock.recv(65536):
                reply += data
        except OSError:
            pass
        return reply


def test_an_oversized_body_without_a_token_is_refused_unread(center: Center, tokens: dict[str, str]) -> None:
    before = peak_rss_mb(center)
    started = time.monotonic()
    paths = ["/api/v1/stations/gate-01/entries", "/api/v1/stations/gate-01/heartbeat", "/api/v1/admin/roster"] * 2
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:  # at once, as an attack would
        replies = list(
            pool.map(lambda path: send_oversized(center, path, "Content-Type: application/json\r\n", 100 * MB), paths)
        )
    for reply in replies:
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert b'"error":"too_large"' in reply and b"connection: close" in reply.lower()
    grown = peak_rss_mb(center) - before
    assert grown < 20, f"the center grew by {grown:.0f} MB on bodies it should not have read"
    assert time.monotonic() - started < 30


def test_a_chunked_body_past_the_limit_is_cut_off(center: Center, tokens: dict[str, str]) -> None:
    """Without Content-Length the size shows only while reading: reading stops at the limit."""
    token = tokens["gate-01"]
    before = peak_rss_mb(center)

    def body() -> Iterator[bytes]:
        for _ in range(60):
            yield b" " * MB

    response = httpx.post(
        f"{center.url}/api/v1/stations/gate-01/entries",
        headers=center.auth(token) | {"Content-Type": "application/json"},
        content=body(),
        timeout=30,
    )
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert peak_rss_mb(center) - before < 30
    assert httpx.get(f"{center.url}/api/v1/roster", headers=center.auth(token)).status_code == 200


def test_the_token_is_checked_before_the_body_is_read(center: Center, tokens: dict[str, str]) -> None:
    """A body that would fail validation gets 401 without a token and 403 with another station's: the body
    was never looked at."""
    other = tokens["gate-02"]
    url = f"{center.url}/api/v1/stations/gate-01/heartbeat"
    assert httpx.post(url, content=b"{not json").status_code == 401
    assert httpx.post(url, content=b"{not json", headers=center.auth(other)).status_code == 403
    assert httpx.put(f"{center.url}/api/v1/admin/roster", content=b"[", headers=center.auth(other)).status_code == 403


def test_every_refusal_has_the_one_bilingual_shape(center: Center, tokens: dict[str, str]) -> None:
    token = tokens["gate-01"]
    station = center.auth(token)
    api = f"{center.url}/api/v1"
    refusals = {
        401: httpx.get(f"{api}/roster"),
        403: httpx.get(f"{api}/admin/completeness", headers=station),
        404: httpx.get(f"{api}/nowhere", headers=station),
        405: httpx.delete(f"{api}/roster", headers=station),
        413: httpx.post(f"{api}/stations/gate-01/entries", headers=station, content=b" " * (5 * MB)),
        422: httpx.get(f"{api}/admin/stats", params={"date": "2026-02-30"}, headers=center.admin),
    }
    invalid = [
        httpx.get(f"{api}/admin/passages", params={"station_id": "gate-01"}, headers=center.admin),
        httpx.post(f"{api}/stations/gate-01/heartbeat", headers=station, content=b"\xff\xfe"),
        httpx.post(f"{api}/stations/gate-01/heartbeat", headers=station, json={"clock": "now"}),
        httpx.post(f"{api}/stations/gate-01/entries", headers=station, content=b"{"),
        httpx.get(f"{api}/roster", params={"since": "-1"}, headers=station),
    ]
    for status, response in [*refusals.items(), *((422, response) for response in invalid)]:
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) <= {"error", "message", "detail"} and isinstance(body["error"], str), body
        chinese, english = body["message"].split(" / ", 1)
        assert re.search("[\u4e00-\u9fff]", chinese) and re.search("[a-z]", english), body
    detail = invalid[0].json()["detail"]
    assert {problem["field"] for problem in detail} == {"query.start", "query.end"}


def test_every_operation_documents_its_refusals(center: Center) -> None:
    spec = httpx.get(f"{center.url}/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            statuses = {"401", "413", "422", "500", "503"} | (
                {"403"} if "/admin/" in path or "/stations/" in path else set()
            )
            for status in statuses:
                content = operation["responses"][status]["content"]["application/json"]["schema"]
                assert content == error, (method, path, status)
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_the_docs_load_nothing_from_another_host(center: Center) -> None:
    for page in ("/docs", "/redoc"):
        html = httpx.get(f"{center.url}{page}").text
        references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        references += re.findall(r"""url:\s*['"]([^'"]+)['"]""", html)
        assert references, html
        for reference in references:
            assert reference.startswith("/"), f"{page} loads {reference}"
            assert httpx.get(f"{center.url}{reference}").status_code == 200, reference
        assert not re.search(r"https?://", html), f"{page} names another host"

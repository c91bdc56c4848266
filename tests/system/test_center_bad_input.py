"""The center against bad input over real HTTP, on SQLite and PostgreSQL: one bad entry costs no other entry and
no other station; no input gets a 500; a refusal keeps the connection open; ids are per station."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from servers import Center, run_center

from kiosk.domain.models import Entry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sqlite_center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    """One center on SQLite for the checks that do not depend on the database (each test its own station)."""
    work = tmp_path_factory.mktemp("bad-input")
    with run_center(f"sqlite:///{work / 'center.db'}", work) as running:
        yield running


def post_raw(client: httpx.Client, center: Center, token: str, station_id: str, body: bytes) -> httpx.Response:
    return client.post(
        f"{center.url}/api/v1/stations/{station_id}/entries",
        headers=center.auth(token) | {"Content-Type": "application/json"},
        content=body,
        timeout=30,
    )


def body_of(entries: list[dict[str, Any]]) -> bytes:
    return json.dumps({"entries": entries}).encode()  # ensure_ascii: a lone surrogate travels as \ud800


def stored(center: Center, station_id: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{center.url}/api/v1/admin/passages",
        params={"station_id": station_id, "start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"},
        headers=center.admin,
    )
    assert response.status_code == 200, response.text
    return response.json()["entries"]


POISONS: list[dict[str, Any]] = [
    {"name": "\ud800"},
    {"captured_at": "0001-01-01T00:00:00+08:00"},
    {"captured_at": "20200214T080000+0800"},
    {"person_id": "2023\x00001"},
    {"name": "\x1b[2J"},
    {"monotonic": 10**30},
]


def test_a_poison_entry_among_good_ones_is_refused_alone(
    sqlite_center: Center, make_entry: Callable[..., Entry]
) -> None:
    center = sqlite_center
    token = center.add_station("gate-p")
    with httpx.Client() as client:
        for number, poison in enumerate(POISONS):
            batch = [make_entry(station_id="gate-p", seq=number * 10 + k).to_dict() for k in range(1, 11)]
            batch[4] |= poison
            response = post_raw(client, center, token, "gate-p", body_of(batch))
            assert response.status_code == 200, (poison, response.text)
            results = response.json()["results"]
            assert [r["status"] for r in results] == ["stored"] * 4 + ["rejected"] + ["stored"] * 5, poison
            assert " / " in results[4]["error"]
    assert len(stored(center, "gate-p")) == 9 * len(POISONS)


def test_one_station_poisoning_costs_another_station_nothing(center: Center, make_entry: Callable[..., Entry]) -> None:
    """Station A sends poison over and over while station B pushes as usual: every push of B is stored."""
    tokens = {station: center.add_station(station) for station in ("gate-a", "gate-b")}
    stop = threading.Event()

    def poison_pushes() -> list[int]:
        codes = []
        seq = 0
        with httpx.Client() as client:
            while not stop.is_set():
                batch = [make_entry(station_id="gate-a", seq=seq + k).to_dict() for k in range(1, 11)]
                batch[3] |= POISONS[seq // 10 % len(POISONS)]
                seq += 10
                codes.append(post_raw(client, center, tokens["gate-a"], "gate-a", body_of(batch)).status_code)
        return codes

    def ordinary_pushes(worker: int) -> list[list[str]]:
        outcomes = []
        with httpx.Client() as client:  # keep-alive: a dropped connection would show as an error here
            for push in range(15):
                first = worker * 1000 + push * 20 + 1
                batch = [make_entry(station_id="gate-b", seq=first + k).to_dict() for k in range(20)]
                response = post_raw(client, center, tokens["gate-b"], "gate-b", body_of(batch))
                assert response.status_code == 200, response.text
                outcomes.append([r["status"] for r in response.json()["results"]])
        return outcomes

    with ThreadPoolExecutor(max_workers=6) as pool:
        poisoners = [pool.submit(poison_pushes) for _ in range(2)]
        ordinary = list(pool.map(ordinary_pushes, range(4)))
        stop.set()
        poison_codes = [code for future in poisoners for code in future.result()]
    assert ordinary == [[["stored"] * 20] * 15] * 4
    assert set(poison_codes) == {200}
    assert len(stored(center, "gate-b")) == 4 * 15 * 20


def test_a_refusal_keeps_the_connection_open(sqlite_center: Center, make_entry: Callable[..., Entry]) -> None:
    center = sqlite_center
    token = center.add_station("gate-k")
    host, port = center.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = center.auth(token) | {"Content-Type": "application/json"}
    good = body_of([make_entry(station_id="gate-k", seq=1).to_dict()])
    nested = b'{"entries": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    heartbeat = json.dumps({"clock": "2026-11-28T07:30:00+08:00", "pending": 10**30, "version": "x"}).encode()
    requests = [
        ("POST", "/api/v1/stations/gate-k/entries", good, 200),
        ("POST", "/api/v1/stations/gate-k/entries", nested, 422),
        ("POST", "/api/v1/stations/gate-k/heartbeat", heartbeat, 422),
        ("POST", "/api/v1/stations/gate-k/heartbeat", b"\xff\xfe", 422),
        ("GET", "/api/v1/admin/stats?date=2026-13-01", None, 403),
        ("GET", "/api/v1/no-such-thing", None, 404),
        ("POST", "/api/v1/stations/gate-k/entries", good, 200),
    ]
    connection.connect()
    local = connection.sock.getsockname()
    for method, path, body, status in requests:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        reply = response.read()
        assert response.status == status, (path, reply)
        assert response.getheader("Connection") != "close", path
        assert connection.sock is not None and connection.sock.getsockname() == local, path
    connection.close()


def test_edge_inputs_get_a_clear_refusal(sqlite_center: Center, make_entry: Callable[..., Entry]) -> None:
    center = sqlite_center
    token = center.add_station("gate-e")
    station = f"{center.url}/api/v1/stations/gate-e"
    beat = {"clock": "2026-11-28T07:30:00+08:00", "pending": 0, "version": "1.0"}
    refused = [
        httpx.post(f"{station}/heartbeat", headers=center.auth(token), json=beat | {"pending": 10**30}),
        httpx.post(
            f"{station}/heartbeat", headers=center.auth(token), json=beat | {"clock": "0001-01-01T00:00:00+14:00"}
        ),
        httpx.post(f"{station}/heartbeat", headers=center.auth(token), json=beat | {"version": "1\x00"}),
        httpx.post(
            f"{station}/heartbeat",
            headers=center.auth(token),
            json=beat | {"oldest_pending": "9999-12-31T23:59:59-14:00"},
        ),
        httpx.get(
            f"{center.url}/api/v1/admin/passages",
            params={"station_id": "gate-e", "start": "0001-01-01T00:00:00+14:00", "end": "2100-01-01T00:00:00Z"},
            headers=center.admin,
        ),
        httpx.get(
            f"{center.url}/api/v1/admin/passages",
            params={"station_id": "gate-e", "start": "2026-01-01T00:00:00Z", "end": "9999-12-31T23:59:59-14:00"},
            headers=center.admin,
        ),
        httpx.get(f"{center.url}/api/v1/admin/report/daily", params={"date": "2026-02-30"}, headers=center.admin),
        httpx.get(f"{center.url}/api/v1/admin/trace", params={"person_id": "x" * 5000}, headers=center.admin),
    ]
    for response in refused:
        assert response.status_code == 422, (response.request.url, response.text)
    assert httpx.post(f"{station}/heartbeat", headers=center.auth(token), json=beat).status_code == 200


def test_trace_answers_for_entries_stored_at_the_ends_of_the_calendar(
    center: Center, make_entry: Callable[..., Entry]
) -> None:
    """Entries stored before times were range-checked (year 1, year 9999) must not break the trace."""
    token = center.add_station("gate-01")
    entries = [make_entry(station_id="gate-01", seq=seq, person_id="p-edge") for seq in (1, 2)]
    response = httpx.post(
        f"{center.url}/api/v1/stations/gate-01/entries",
        headers=center.auth(token),
        json={"entries": [entry.to_dict() for entry in entries]},
    )
    assert response.status_code == 200
    with center._db.write() as conn:
        for entry, utc in zip(entries, ("0001-01-01 00:00:00", "9999-12-31 23:59:59"), strict=True):
            conn.exec_driver_sql(f"UPDATE entries SET captured_utc = '{utc}' WHERE entry_id = '{entry.entry_id}'")
    response = httpx.get(
        f"{center.url}/api/v1/admin/trace", params={"person_id": "p-edge", "window_minutes": 1440}, headers=center.admin
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["entries"]) == 2


def test_an_entry_id_used_by_two_stations_is_stored_for_each(center: Center, make_entry: Callable[..., Entry]) -> None:
    tokens = {station: center.add_station(station) for station in ("gate-01", "gate-02")}
    mine = make_entry(station_id="gate-01", seq=1, person_id="2023000001")
    clone = dict(mine.to_dict(), station_id="gate-02", person_id="2023000002")

    def push(station: str, entry: dict[str, Any]) -> list[str]:
        response = httpx.post(
            f"{center.url}/api/v1/stations/{station}/entries",
            headers=center.auth(tokens[station]),
            json={"entries": [entry]},
        )
        assert response.status_code == 200, response.text
        return [result["status"] for result in response.json()["results"]]

    assert push("gate-01", mine.to_dict()) == ["stored"]
    assert push("gate-02", clone) == ["stored"]  # not "duplicate": the station would drop it unsent
    assert push("gate-02", clone) == ["duplicate"]
    assert push("gate-01", dict(mine.to_dict(), revision=1, operator="T9")) == ["stored"]
    assert [e["person_id"] for e in stored(center, "gate-01")] == ["2023000001"]
    assert [(e["person_id"], e["revision"]) for e in stored(center, "gate-02")] == [("2023000002", 0)]
    completeness = httpx.get(f"{center.url}/api/v1/admin/completeness", headers=center.admin).json()["stations"]
    assert [(s["station_id"], s["received"], s["max_seq"]) for s in completeness] == [
        ("gate-01", 1, 1),
        ("gate-02", 1, 1),
    ]

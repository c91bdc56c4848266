"""The center receiving entries over real HTTP, on SQLite and on PostgreSQL: idempotence, validation, auth."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from servers import Center

from kiosk.center.entries import SMALL_BATCH
from kiosk.domain.models import Entry

pytestmark = pytest.mark.slow


def push(center: Center, token: str, station_id: str, batch: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(
        f"{center.url}/api/v1/stations/{station_id}/entries",
        headers=center.auth(token),
        json={"entries": batch},
        timeout=30,
    )


def statuses(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [result["status"] for result in response.json()["results"]]


def passages(center: Center, station_id: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{center.url}/api/v1/admin/passages",
        params={"station_id": station_id, "start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"},
        headers=center.admin,
    )
    assert response.status_code == 200, response.text
    return response.json()["entries"]


@pytest.fixture
def entries_for(make_entry: Callable[..., Entry]) -> Callable[[str, int], list[Entry]]:
    def build(station_id: str, count: int) -> list[Entry]:
        return [make_entry(station_id=station_id, seq=seq, person_id=f"20230{seq:05d}") for seq in range(1, count + 1)]

    return build


def test_replay_changes_nothing_and_newer_revision_replaces(center: Center, entries_for: Callable) -> None:
    token = center.add_station("gate-01")
    batch = entries_for("gate-01", 20)
    assert statuses(push(center, token, "gate-01", [e.to_dict() for e in batch])) == ["stored"] * 20
    assert statuses(push(center, token, "gate-01", [e.to_dict() for e in batch])) == ["duplicate"] * 20
    amended = batch[3].amended(operator="T2002")
    older = batch[4]
    results = statuses(push(center, token, "gate-01", [amended.to_dict(), older.to_dict()]))
    assert results == ["stored", "duplicate"]
    assert statuses(push(center, token, "gate-01", [batch[3].to_dict()])) == ["duplicate"]  # an older revision
    stored = {entry["entry_id"]: entry for entry in passages(center, "gate-01")}
    assert len(stored) == 20
    assert stored[amended.entry_id]["revision"] == 1
    assert stored[amended.entry_id]["operator"] == "T2002"
    assert stored[older.entry_id] == {key: value for key, value in older.to_dict().items() if key != "acked_at"}


def test_bad_entry_is_rejected_naming_the_field_and_the_rest_stored(center: Center, entries_for: Callable) -> None:
    token = center.add_station("gate-01")
    good = [entry.to_dict() for entry in entries_for("gate-01", 3)]
    bad_verdict = dict(good[1], verdict="maybe")
    no_seq = {key: value for key, value in good[2].items() if key != "seq"}
    naive_time = dict(good[0], entry_id="other-id", captured_at="2026-11-28T07:30:00")
    other_station = dict(good[0], entry_id="stray-id", station_id="gate-99")
    response = push(center, token, "gate-01", [good[0], bad_verdict, no_seq, naive_time, other_station])
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["stored", "rejected", "rejected", "rejected", "rejected"]
    assert results[1]["error"].startswith("verdict:") and results[1]["entry_id"] == good[1]["entry_id"]
    assert results[2]["error"].startswith("seq:")
    assert results[3]["error"].startswith("captured_at:")
    assert results[4]["error"].startswith("station_id:")
    assert [entry["entry_id"] for entry in passages(center, "gate-01")] == [good[0]["entry_id"]]


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"entries": "x"}', b'{"entries": [1, 2]}', b"[]", json.dumps({"entries": [{}] * 5001}).encode(), b"{"],
    ids=["empty", "not-a-list", "not-objects", "not-an-object", "too-many", "not-json"],
)
def test_body_of_the_wrong_shape_is_422(center: Center, body: bytes) -> None:
    token = center.add_station("gate-01")
    response = httpx.post(
        f"{center.url}/api/v1/stations/gate-01/entries",
        headers=center.auth(token) | {"Content-Type": "application/json"},
        content=body,
        timeout=30,
    )
    assert response.status_code == 422
    assert " / " in response.json()["message"]


def test_the_push_is_documented_on_the_openapi_page(center: Center) -> None:
    push_entries = httpx.get(f"{center.url}/openapi.json").json()["paths"]["/api/v1/stations/{station_id}/entries"]
    body = push_entries["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["entries"] and body["properties"]["entries"]["maxItems"] == 5000
    reply = push_entries["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert reply == {"$ref": "#/components/schemas/EntriesReply"}


def test_tokens_are_checked(center: Center, entries_for: Callable) -> None:
    token = center.add_station("gate-01")
    center.add_station("gate-02")
    body = [entry.to_dict() for entry in entries_for("gate-02", 1)]
    url = f"{center.url}/api/v1/stations/gate-02/entries"
    missing = httpx.post(url, json={"entries": body})
    assert missing.status_code == 401 and " / " in missing.json()["message"]
    assert httpx.post(url, json={"entries": body}, headers=center.auth("not-a-token")).status_code == 401
    assert httpx.post(url, json={"entries": body}, headers=center.auth(token)).status_code == 403
    assert httpx.post(url, json={"entries": body}, headers=center.admin).status_code == 403
    admin_call = httpx.get(f"{center.url}/api/v1/admin/completeness", headers=center.auth(token))
    assert admin_call.status_code == 403
    assert httpx.get(f"{center.url}/api/v1/roster", headers=center.auth(token)).status_code == 200
    assert httpx.get(f"{center.url}/api/v1/roster").status_code == 401


def test_stations_pushing_at_once_all_get_stored(center: Center, entries_for: Callable) -> None:
    tokens = {f"gate-{number:02d}": center.add_station(f"gate-{number:02d}") for number in range(20)}

    def push_all(station_id: str) -> list[str]:
        batch = [entry.to_dict() for entry in entries_for(station_id, 200)]
        replies = [push(center, tokens[station_id], station_id, batch[k : k + 50]) for k in range(0, 200, 50)]
        return [status for reply in replies for status in statuses(reply)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(push_all, tokens))
    assert outcomes == [["stored"] * 200] * 20
    completeness = httpx.get(f"{center.url}/api/v1/admin/completeness", headers=center.admin).json()["stations"]
    assert [(s["received"], s["gaps"]) for s in completeness] == [(200, [])] * 20


def test_entries_survive_kill_9(center: Center, entries_for: Callable) -> None:
    token = center.add_station("gate-01")
    batch = [entry.to_dict() for entry in entries_for("gate-01", 50)]
    assert statuses(push(center, token, "gate-01", batch)) == ["stored"] * 50
    center.restart()
    assert statuses(push(center, token, "gate-01", batch)) == ["duplicate"] * 50
    assert len(passages(center, "gate-01")) == 50


def test_small_and_large_batches_store_alike(center: Center, entries_for: Callable) -> None:
    """PostgreSQL stores up to SMALL_BATCH rows by INSERT and more by COPY: both keep the same rules."""
    token = center.add_station("gate-01")
    batch = entries_for("gate-01", 2 * SMALL_BATCH)
    assert statuses(push(center, token, "gate-01", [e.to_dict() for e in batch])) == ["stored"] * len(batch)
    small = [e.to_dict() for e in batch[:SMALL_BATCH]]
    assert statuses(push(center, token, "gate-01", small)) == ["duplicate"] * SMALL_BATCH
    amended = [e.amended(operator="T2002").to_dict() for e in batch[:3]]
    assert statuses(push(center, token, "gate-01", amended)) == ["stored"] * 3
    again = [e.amended(operator="T2003").amended(operator="T2003").to_dict() for e in batch] + amended
    assert statuses(push(center, token, "gate-01", again)) == ["stored"] * len(batch) + ["duplicate"] * 3
    stored = passages(center, "gate-01")
    assert len(stored) == len(batch) and {(e["revision"], e["operator"]) for e in stored} == {(2, "T2003")}

"""Roster versions and notices over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from servers import Center

from kiosk.domain.models import Person

pytestmark = pytest.mark.slow


def put_roster(center: Center, people: list[Person], replace: bool = False) -> dict[str, int]:
    body = {"people": [person.to_dict() for person in people], "replace": replace}
    response = httpx.put(f"{center.url}/api/v1/admin/roster", json=body, headers=center.admin)
    assert response.status_code == 200, response.text
    return response.json()


def get_roster(center: Center, token: str, since: int | None = None, etag: str | None = None) -> httpx.Response:
    headers = center.auth(token) | ({"If-None-Match": etag} if etag else {})
    params = {"since": since} if since is not None else {}
    return httpx.get(f"{center.url}/api/v1/roster", params=params, headers=headers)


def test_roster_full_then_incremental_with_etag(center: Center, people: tuple[Person, ...]) -> None:
    token = center.add_station("gate-01")
    assert put_roster(center, list(people)) == {"version": 1, "changed": len(people)}
    first = get_roster(center, token)
    assert first.status_code == 200 and first.headers["ETag"] == '"1"'
    assert first.json()["full"] and first.json()["version"] == 1
    assert [Person.from_dict(p) for p in first.json()["people"]] == sorted(people, key=lambda p: p.person_id)

    assert get_roster(center, token, since=1, etag='"1"').status_code == 304
    assert put_roster(center, list(people)) == {"version": 1, "changed": 0}  # nothing new: no new version

    approved = Person("2023000102", "欧阳娜娜", people[1].role, "海淀校园", "西北楼", return_approved=True)
    newcomer = Person("2024000001", "赵六", people[1].role, "昌平校园")
    assert put_roster(center, [approved, newcomer]) == {"version": 2, "changed": 2}
    change = get_roster(center, token, since=1, etag='"1"')
    assert change.status_code == 200 and change.headers["ETag"] == '"2"'
    assert change.json() | {"people": None} == {"version": 2, "full": False, "people": None, "removed": []}
    assert {p["person_id"]: p["return_approved"] for p in change.json()["people"]} == {
        "2023000102": True,
        "2024000001": False,
    }

    kept = [approved, newcomer]
    assert put_roster(center, kept, replace=True) == {"version": 3, "changed": 3}
    removal = get_roster(center, token, since=2).json()
    assert removal["people"] == [] and sorted(removal["removed"]) == sorted(
        p.person_id for p in people if p.person_id != approved.person_id
    )
    everything = get_roster(center, token, since=0).json()
    assert everything["full"] and sorted(p["person_id"] for p in everything["people"]) == ["2023000102", "2024000001"]
    assert get_roster(center, token, since=99).json()["full"]  # a station ahead of the center starts over


def test_roster_put_needs_admin_and_valid_people(center: Center) -> None:
    token = center.add_station("gate-01")
    body: dict[str, Any] = {"people": [{"person_id": "1", "name": "x", "role": "student"}]}
    url = f"{center.url}/api/v1/admin/roster"
    assert httpx.put(url, json=body, headers=center.auth(token)).status_code == 403
    body["people"][0]["role"] = "dean"
    assert httpx.put(url, json=body, headers=center.admin).status_code == 422


def test_notices_allowlist(center: Center) -> None:
    token = center.add_station("gate-01")
    url = f"{center.url}/api/v1/admin/notices"
    older = {"title": "返校须知", "url": "https://news.bnu.edu.cn/a", "published_at": "2026-11-27T08:00:00+08:00"}
    newer = {"title": "疫苗接种", "title_en": "Vaccination", "url": "https://bnu.edu.cn/v", "source": "校医院"}
    for body in (older, newer):
        created = httpx.post(url, json=body, headers=center.admin)
        assert created.status_code == 201, created.text
        assert created.json()["url"] == body["url"] and created.json()["notice_id"]
    refused = httpx.post(url, json={"title": "钓鱼", "url": "https://bnu.edu.cn.evil.com/x"}, headers=center.admin)
    assert refused.status_code == 422
    assert " / " in refused.json()["message"] and "bnu.edu.cn.evil.com" in refused.json()["message"]
    assert httpx.post(url, json={"title": "x", "url": "http://bnu.edu.cn/"}, headers=center.admin).status_code == 422
    assert httpx.post(url, json=newer, headers=center.auth(token)).status_code == 403

    shown = httpx.get(f"{center.url}/api/v1/notices", headers=center.auth(token))
    assert shown.status_code == 200
    assert [n["title"] for n in shown.json()["notices"]] == ["疫苗接种", "返校须知"]
    assert "received_at" not in shown.json()["notices"][0]
    assert shown.json()["notices"][0]["source"] == "校医院" and shown.json()["notices"][0]["title_en"] == "Vaccination"


def test_openapi_page_documents_the_api(center: Center) -> None:
    assert httpx.get(f"{center.url}/docs").status_code == 200
    paths = httpx.get(f"{center.url}/openapi.json").json()["paths"]
    assert "/api/v1/stations/{station_id}/entries" in paths and "/api/v1/admin/trace" in paths

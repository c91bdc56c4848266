"""The school's questions over real HTTP, on SQLite and PostgreSQL: completeness, silence, reports, trace."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from servers import Center

from kiosk.domain.models import Entry, Reason, Verdict

pytestmark = pytest.mark.slow


def push(center: Center, token: str, station_id: str, batch: list[Entry]) -> None:
    response = httpx.post(
        f"{center.url}/api/v1/stations/{station_id}/entries",
        headers=center.auth(token),
        json={"entries": [entry.to_dict() for entry in batch]},
    )
    assert response.status_code == 200, response.text
    assert {result["status"] for result in response.json()["results"]} == {"stored"}


def admin_get(center: Center, path: str, **params: Any) -> Any:
    response = httpx.get(f"{center.url}/api/v1/admin/{path}", params=params, headers=center.admin)
    assert response.status_code == 200, response.text
    return response.json()


def heartbeat(center: Center, token: str, station_id: str, pending: int) -> httpx.Response:
    body = {"clock": datetime.now(UTC).isoformat(), "pending": pending, "oldest_pending": None, "version": "test"}
    return httpx.post(f"{center.url}/api/v1/stations/{station_id}/heartbeat", headers=center.auth(token), json=body)


def test_completeness_finds_withheld_seqs_and_silent_stations(center: Center, make_entry: Callable) -> None:
    complete, gappy = center.add_station("gate-01"), center.add_station("gate-02")
    center.add_station("gate-03")  # registered, never heard from
    push(center, complete, "gate-01", [make_entry(station_id="gate-01", seq=seq) for seq in range(1, 11)])
    withheld = {3, 4, 5, 8}
    push(center, gappy, "gate-02", [make_entry(station_id="gate-02", seq=s) for s in range(1, 11) if s not in withheld])
    response = heartbeat(center, complete, "gate-01", pending=0)
    assert response.status_code == 200
    assert abs(datetime.fromisoformat(response.json()["server_time"]) - datetime.now(UTC)) < timedelta(minutes=1)

    stations = {s["station_id"]: s for s in admin_get(center, "completeness", silent_minutes=60)["stations"]}
    assert stations["gate-01"]["gaps"] == [] and stations["gate-01"]["received"] == 10
    assert stations["gate-01"]["max_seq"] == 10 and stations["gate-01"]["pending_reported"] == 0
    assert stations["gate-01"]["last_heartbeat"] is not None and not stations["gate-01"]["silent"]
    assert stations["gate-02"]["gaps"] == [[3, 5], [8, 8]] and stations["gate-02"]["received"] == 6
    assert stations["gate-03"] == {
        "station_id": "gate-03",
        "name": "gate-03",
        "campus": "",
        "received": 0,
        "max_seq": 0,
        "gaps": [],
        "damaged": [],
        "last_heartbeat": None,
        "pending_reported": None,
        "refused_notices": [],
        "silent": True,
        "oldest_pending": None,
        "pending_age_seconds": None,
        "clock_offset_seconds": None,
        "clock_off": False,
        "version": None,
    }
    push(center, gappy, "gate-02", [make_entry(station_id="gate-02", seq=seq) for seq in sorted(withheld)])
    stations = {s["station_id"]: s for s in admin_get(center, "completeness")["stations"]}
    assert stations["gate-02"]["gaps"] == [] and stations["gate-02"]["received"] == 10


def test_completeness_lists_stations_whose_clock_is_off_and_their_backlog(center: Center) -> None:
    tokens = {station: center.add_station(station) for station in ("gate-01", "gate-02", "gate-03")}
    now = datetime.now(UTC)
    beats = {
        # 10 minutes ahead, 7 entries waiting, the oldest captured 30 minutes ago by the station's own clock
        "gate-01": (now + timedelta(minutes=10), 7, now + timedelta(minutes=10) - timedelta(minutes=30), "1.4.0"),
        "gate-02": (now + timedelta(seconds=5), 0, None, "1.5.0"),
        "gate-03": (now.astimezone(timezone(timedelta(hours=8))) - timedelta(hours=3), 1, now, "1.5.0"),
    }
    for station, (clock, pending, oldest, version) in beats.items():
        body = {
            "clock": clock.isoformat(),
            "pending": pending,
            "oldest_pending": oldest.isoformat() if oldest else None,
            "version": version,
        }
        response = httpx.post(
            f"{center.url}/api/v1/stations/{station}/heartbeat", headers=center.auth(tokens[station]), json=body
        )
        assert response.status_code == 200, response.text
    reply = admin_get(center, "completeness", clock_tolerance_seconds=60)
    assert reply["clock_off"] == ["gate-01", "gate-03"] and reply["clock_tolerance_seconds"] == 60
    stations = {s["station_id"]: s for s in reply["stations"]}
    first = stations["gate-01"]
    assert 590 < first["clock_offset_seconds"] < 610 and first["clock_off"]
    assert first["pending_reported"] == 7 and first["version"] == "1.4.0"
    assert 1790 < first["pending_age_seconds"] < 1830, "the age is corrected for the station's clock"
    assert not stations["gate-02"]["clock_off"] and stations["gate-02"]["pending_age_seconds"] is None
    assert -3 * 3600 - 10 < stations["gate-03"]["clock_offset_seconds"] < -3 * 3600 + 10
    assert admin_get(center, "completeness")["clock_off"] == ["gate-01", "gate-03"]  # 120 s by default


def test_gap_before_the_first_received_seq(center: Center, make_entry: Callable) -> None:
    token = center.add_station("gate-01")
    push(center, token, "gate-01", [make_entry(station_id="gate-01", seq=seq) for seq in (4, 5, 9)])
    (station,) = admin_get(center, "completeness")["stations"]
    assert station["gaps"] == [[1, 3], [6, 8]]


def test_daily_report_and_stats_include_zero_entry_stations(center: Center, make_entry: Callable) -> None:
    token = center.add_station("gate-01", campus="海淀校园")
    center.add_station("gate-02", campus="昌平校园")
    day = [
        make_entry(station_id="gate-01", seq=1, captured_at="2026-11-28T07:05:00+08:00"),
        make_entry(station_id="gate-01", seq=2, captured_at="2026-11-28T07:35:00+08:00", verdict=Verdict.DENIED),
        make_entry(station_id="gate-01", seq=3, captured_at="2026-11-28T12:00:00+08:00", verdict=Verdict.REFERRED),
        make_entry(station_id="gate-01", seq=4, captured_at="2026-11-29T00:10:00+08:00"),  # the next day
    ]
    push(center, token, "gate-01", day)
    report = admin_get(center, "report/daily", date="2026-11-28")
    by_station = {row["station_id"]: row for row in report["stations"]}
    counts = {key: by_station["gate-01"][key] for key in ("campus", "admitted", "denied", "referred", "total")}
    assert counts == {"campus": "海淀校园", "admitted": 1, "denied": 1, "referred": 1, "total": 3}
    assert by_station["gate-02"]["total"] == 0 and by_station["gate-02"]["campus"] == "昌平校园"
    assert report["totals"]["total"] == 3

    stats = admin_get(center, "stats", date="2026-11-28")
    assert [(c["campus"], c["total"]) for c in stats["by_campus"]] == [("海淀校园", 3)]
    assert [(h["hour"], h["admitted"], h["denied"]) for h in stats["by_hour"] if h["total"]] == [(7, 1, 1), (12, 0, 0)]
    assert len(stats["by_hour"]) == 24
    bad = httpx.get(f"{center.url}/api/v1/admin/stats", params={"date": "28/11/2026"}, headers=center.admin)
    assert bad.status_code == 422 and " / " in bad.json()["message"]


def test_flagged_lists_fever_and_refusals(center: Center, make_entry: Callable) -> None:
    token = center.add_station("gate-01")
    fever = make_entry(station_id="gate-01", seq=1, reasons=(Reason.FEVER_REMEASURE,))
    denied = make_entry(station_id="gate-01", seq=2, verdict=Verdict.DENIED, reasons=(Reason.NOT_ON_ROSTER,))
    fine = make_entry(station_id="gate-01", seq=3)
    push(center, token, "gate-01", [fever, denied, fine])
    flagged = admin_get(center, "flagged", date="2026-11-28")["entries"]
    assert sorted(entry["entry_id"] for entry in flagged) == sorted([fever.entry_id, denied.entry_id])


def test_passages_and_trace(center: Center, make_entry: Callable) -> None:
    canteen, dorm = center.add_station("canteen"), center.add_station("dorm")

    def at(station_id: str, seq: int, person_id: str, clock: str) -> Entry:
        return make_entry(station_id=station_id, seq=seq, person_id=person_id, captured_at=f"2026-11-28T{clock}+08:00")

    visits = [("case", "07:00:00"), ("near-before", "06:40:00"), ("near-after", "07:30:00"), ("too-late", "07:31:00")]
    visits.append(("too-early", "06:29:59"))
    push(center, canteen, "canteen", [at("canteen", seq, who, clock) for seq, (who, clock) in enumerate(visits, 1)])
    push(center, dorm, "dorm", [at("dorm", 1, "other-gate", "07:00:00"), at("dorm", 2, "case", "22:00:00")])

    passed = admin_get(
        center, "passages", station_id="canteen", start="2026-11-27T22:40:00+00:00", end="2026-11-28T07:30:00+08:00"
    )["entries"]
    assert [entry["person_id"] for entry in passed] == ["near-before", "case"]  # start inclusive, end exclusive

    traced = admin_get(center, "trace", person_id="case", window_minutes=30)
    assert [entry["station_id"] for entry in traced["entries"]] == ["canteen", "dorm"]
    assert [(c["person_id"], c["minutes_apart"]) for c in traced["contacts"]] == [
        ("near-before", 20.0),
        ("near-after", 30.0),
    ]
    assert admin_get(center, "trace", person_id="nobody")["contacts"] == []

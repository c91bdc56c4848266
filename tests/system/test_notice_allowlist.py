"""A notice the station's allowlist refuses never reaches the gate, end to end: published at a real center for
another domain, pulled by a real sync pass, kept out of the gate's codes, and reported to the officer and the center.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from qrscreen import decode_screen, screen_lines
from servers import Center, run_center
from syncstations import SyncStation

from kiosk.app import KioskApp
from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import CenterConfig, Config, StationConfig, StorageConfig
from kiosk.station.station import Station

pytestmark = pytest.mark.slow

OFFICIAL = "https://news.bnu.edu.cn/zx/ttgz/2026-11-28/gate.htm"
PHISHING = "https://bnu-edu.cn/login"
"""Allowed at the center (a misconfigured or compromised center), not at the station: bnu.edu.cn only."""


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    workdir = tmp_path_factory.mktemp("center")
    with run_center(f"sqlite:///{workdir / 'center.db'}", workdir, ("bnu.edu.cn", "bnu-edu.cn")) as running:
        yield running


def publish(center: Center, title: str, url: str) -> str:
    reply = httpx.post(f"{center.url}/api/v1/admin/notices", json={"title": title, "url": url}, headers=center.admin)
    assert reply.status_code in (200, 201), reply.text
    return str(reply.json()["notice_id"])


async def test_a_notice_for_another_domain_is_never_drawn_at_the_gate(center: Center, tmp_path: Path) -> None:
    publish(center, "校门通行规则", OFFICIAL)
    phishing_id = publish(center, "请重新登录校园网", PHISHING)
    station = SyncStation("gate-allowlist", tmp_path, center.url, center.add_station("gate-allowlist"))
    try:
        report = station.syncer.sync_once()
        assert report.complete and report.refused_notices == 1, report.summary()
        assert "not shown at the gate" in report.summary()
        assert [n.url for n in station.notices.all()] == [OFFICIAL]
        assert [(r.notice.url, "not an authoritative source" in r.reason) for r in station.notices.refused()] == [
            (PHISHING, True)
        ]
        today = datetime.now().astimezone().date().isoformat()
        audits = [a for a in station.store.audit_of_day(today) if a["kind"] == "notice_refused"]
        assert len(audits) == 1 and phishing_id in audits[0]["detail"] and PHISHING in audits[0]["detail"]

        station.syncer.sync_once()  # the heartbeat after the pull tells the center
        assert len([a for a in station.store.audit_of_day(today) if a["kind"] == "notice_refused"]) == 1
        completeness = httpx.get(f"{center.url}/api/v1/admin/completeness", headers=center.admin).json()
        reported = {s["station_id"]: s["refused_notices"] for s in completeness["stations"]}
        assert reported["gate-allowlist"] == [phishing_id]

        config = Config(
            station=StationConfig(id="gate-allowlist"),
            center=CenterConfig(url=center.url, sync_interval=1),
            storage=StorageConfig(data_dir=str(station.root / "gate-allowlist")),
        )
        clock = FrozenClock(datetime.now().astimezone())
        gate = Station(config, station.store, station.roster, clock)
        app = KioskApp(config, gate, station.notices, clock, syncer=station.syncer)
        async with app.run_test(size=(140, 44)) as pilot:
            await pilot.pause()
            seen = set()
            for _ in range(4):  # a whole rotation and a sync pass: whatever is in turn is drawn once
                seen.add(decode_screen(screen_lines(app)))
                clock.advance(config.notices.rotation)
                app.notice_area.tick()
                await pilot.pause()
            assert seen == {OFFICIAL}
    finally:
        station.close()


def test_a_center_that_allows_the_notice_is_still_overruled_by_the_station(center: Center, tmp_path: Path) -> None:
    """The station's allowlist decides even when it grows or shrinks: a refresh sorts the center's list again."""
    publish(center, "请重新登录校园网", PHISHING)
    station = SyncStation("gate-widened", tmp_path, center.url, center.add_station("gate-widened"))
    try:
        station.syncer.sync_once()
        assert PHISHING not in [n.url for n in station.notices.all()]
        station.syncer.allowed_domains = (*station.syncer.allowed_domains, "bnu-edu.cn")
        station.syncer.sync_once()
        assert PHISHING in [n.url for n in station.notices.all()] and station.notices.refused() == []
        station.syncer.allowed_domains = ("bnu.edu.cn",)
        station.syncer.sync_once()
        assert PHISHING not in [n.url for n in station.notices.all()]
    finally:
        station.close()

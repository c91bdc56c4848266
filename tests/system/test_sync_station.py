"""The station's side of sync against the real center on loopback: what is acknowledged, what is reported,
how the status reads, and `kiosk sync`'s exit codes."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from faultproxy import FaultProxy, Mode
from servers import Center, free_port, run_center
from syncstations import SyncStation, gate_entry

from kiosk.domain.clock import FrozenClock
from kiosk.domain.config import parse_config
from kiosk.domain.models import Entry, Method, Person, Reason, Role, Verdict
from kiosk.station.station import Station
from kiosk.station.sync import SyncReport

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    """One center on SQLite for this module; each test registers its own stations."""
    workdir = tmp_path_factory.mktemp("center")
    with run_center(f"sqlite:///{workdir / 'center.db'}", workdir) as running:
        yield running


@pytest.fixture
def station(center: Center, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SyncStation]:
    station_id = f"st-{request.node.name[:40].replace('_', '-').replace('[', '-').rstrip(']')}"
    made = SyncStation(station_id, tmp_path, center.url, center.add_station(station_id))
    yield made
    made.close()


def test_a_pass_pushes_everything_and_pulls_roster_and_notices(center: Center, station: SyncStation) -> None:
    station.record(7)
    people = [Person("2023000101", "张三", Role.STUDENT, "海淀校园"), Person("T1001", "王老师", Role.STAFF)]
    _admin(center, "PUT", "/roster", {"people": [p.to_dict() for p in people], "replace": True})
    _admin(
        center, "POST", "/notices", {"title": "防疫通知", "url": "https://news.bnu.edu.cn/a.html", "title_en": "Notice"}
    )

    report = station.syncer.sync_once()

    assert report.complete, report.summary()
    assert report.acked == 7 and report.pending == 0
    assert all(e.acked_at for e in station.all_entries())
    assert station.roster.get("T1001") == people[1]
    assert [n.title for n in station.notices.all()] == ["防疫通知"]
    assert station.notices.last_refresh is not None
    status = station.syncer.status
    assert status.online and status.pending == 0 and status.oldest_pending is None and status.last_error is None
    assert status.clock_skew is not None and abs(status.clock_skew) < 60


def test_the_roster_is_pulled_incrementally(center: Center, station: SyncStation) -> None:
    station.syncer.sync_once()
    before = len(station.roster)
    assert station.syncer.pull_roster().count == 0  # ETag: unchanged
    newcomer = Person("2023999999", "新同学", Role.STUDENT, "昌平校园", return_approved=True)
    _admin(center, "PUT", "/roster", {"people": [newcomer.to_dict()], "replace": False})
    assert station.syncer.pull_roster().count == 1
    assert station.roster.get("2023999999") == newcomer
    assert len(station.roster) == before + 1


def test_the_centers_lost_cards_reach_the_gate_and_its_reports(center: Center, station: SyncStation) -> None:
    holder = Person("2023000777", "卡主", Role.STUDENT, card_nos=("3735928559",), lost_cards=("16909060",))
    _admin(center, "PUT", "/roster", {"people": [holder.to_dict()], "replace": False})
    station.syncer.sync_once()
    assert station.roster.get("2023000777") == holder
    config = parse_config(f'[station]\nid = "{station.station_id}"\n[scanner]\ncard_format = "hex"\n')
    clock = FrozenClock(datetime.fromisoformat("2026-11-28T07:30:00+08:00"))
    gate = Station(config, station.store, station.roster, clock)
    found = gate.scan("DEADBEEF", Method.SERIAL_SCAN).entry
    clock.advance(60)
    lost = gate.scan("01020304", Method.SERIAL_SCAN).entry
    assert found is not None and found.person_id == "2023000777" and found.verdict is Verdict.ADMITTED
    assert lost is not None and lost.verdict is Verdict.DENIED and lost.reasons == (Reason.CARD_LOST,)
    assert station.syncer.sync_once().complete
    reply = httpx.get(f"{center.url}/api/v1/admin/flagged", params={"date": "2026-11-28"}, headers=center.admin)
    flagged = {entry["entry_id"]: entry for entry in reply.json()["entries"]}
    assert lost.entry_id in flagged and found.entry_id not in flagged
    assert "card_lost" in str(flagged[lost.entry_id])


def test_an_amendment_is_pushed_as_a_new_revision(station: SyncStation) -> None:
    station.record(2)
    station.syncer.sync_once()
    station.amend_some(1)
    assert station.store.unsynced_count() == 1
    report = station.syncer.sync_once()
    assert report.acked == 1 and report.complete


def test_rejected_entries_are_reported_audited_once_and_never_block_the_rest(station: SyncStation) -> None:
    station.store.record(_unacceptable(station.station_id))
    station.record(5)
    station.syncer.batch_size = 1  # the denied bad entry comes first in every batch

    first = station.syncer.sync_once()
    second = station.syncer.sync_once()

    assert first.acked == 5 and second.acked == 0
    assert [r.error.split(":")[0] for r in first.rejected] == ["person_id"]
    assert not first.complete and first.pending == 1
    assert "rejected by the center" in first.summary()
    audits = [
        a for day in station.store.days() for a in station.store.audit_of_day(day) if a["kind"] == "sync_rejected"
    ]
    assert len(audits) == 1 and "person_id" in audits[0]["detail"]


def test_results_that_do_not_match_the_batch_acknowledge_nothing(center: Center, tmp_path: Path) -> None:
    with FaultProxy(center.port) as proxy:
        station = SyncStation("mismatch-01", tmp_path, proxy.url, center.add_station("mismatch-01"))
        try:
            station.store.record(_unacceptable(station.station_id))
            station.record(1)
            proxy.mode = Mode.MISMATCH  # a naive client would now take the rejection for the good entry and v.v.
            mismatched = station.syncer.push()
            assert mismatched.count == 0 and "unreadable reply" in (mismatched.error or "")
            assert station.store.unsynced_count() == 2
            proxy.mode = Mode.PASS
            matched = station.syncer.push()
        finally:
            station.close()
    assert matched.count == 1 and len(matched.rejected) == 1 and matched.error is None


@pytest.mark.parametrize("which", ["unknown", "another station's"])
def test_a_refused_token_leaves_everything_waiting(center: Center, tmp_path: Path, which: str) -> None:
    token = "not-a-token" if which == "unknown" else center.add_station(f"other-{len(which)}")
    station = SyncStation(f"tok-{len(which)}", tmp_path, center.url, token)
    center.add_station(station.station_id)
    try:
        station.record(3)
        report = station.syncer.sync_once()
        status = station.syncer.status
    finally:
        station.close()
    assert report.offline and not report.complete and report.acked == 0 and report.pending == 3
    assert not status.online and status.pending == 3 and status.oldest_pending is not None
    expected = "refused this station's token" if which == "unknown" else "does not belong to station"
    assert expected in (status.last_error or "") and " / " in (status.last_error or "")


def test_a_dead_center_is_an_offline_status_not_an_exception(tmp_path: Path) -> None:
    station = SyncStation("dead-01", tmp_path, f"http://127.0.0.1:{free_port()}", "token")
    try:
        station.record(2)
        report = station.syncer.sync_once()
        assert report.offline and report.pending == 2
        assert "cannot reach the center" in (station.syncer.status.last_error or "")
        assert 0 <= station.syncer.next_delay(report) <= station.syncer.backoff.cap
    finally:
        station.close()


def test_run_syncs_until_stopped(station: SyncStation) -> None:
    station.record(2)
    stop = threading.Event()
    passes: list[SyncReport] = []

    def heard(report: SyncReport) -> None:
        passes.append(report)
        stop.set()

    worker = threading.Thread(target=station.syncer.run, args=(stop, heard))
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert len(passes) == 1 and passes[0].complete


def test_kiosk_sync_exit_codes(center: Center, tmp_path: Path) -> None:
    station_id = "cli-01"
    token_file = tmp_path / "token"
    token_file.write_text(center.add_station(station_id) + "\n")
    token_file.chmod(0o600)
    live = _station_config(tmp_path / "live.toml", station_id, center.url)
    dead = _station_config(tmp_path / "dead.toml", station_id, f"http://127.0.0.1:{free_port()}")
    recorder = SyncStation(station_id, tmp_path, center.url, "unused")  # the data dir the configs name
    recorder.record(4)
    recorder.close()

    offline = _kiosk("sync", "--config", str(dead))
    assert offline.returncode == 1, offline.stderr
    assert "cannot reach the center" in offline.stderr and "4" in offline.stderr

    online = _kiosk("sync", "--config", str(live))
    assert online.returncode == 0, online.stderr
    assert "everything acknowledged" in online.stdout and "全部已上传" in online.stdout

    token_file.chmod(0o644)
    refused = _kiosk("sync", "--config", str(live))
    assert refused.returncode == 2 and "chmod 600" in refused.stderr and "Traceback" not in refused.stderr


def test_kiosk_sync_on_a_terminal_shows_the_backlog_going(center: Center, tmp_path: Path) -> None:
    station_id = "cli-bar"
    token_file = tmp_path / "token"
    token_file.write_text(center.add_station(station_id) + "\n")
    token_file.chmod(0o600)
    config = _station_config(tmp_path / "kiosk.toml", station_id, center.url)
    recorder = SyncStation(station_id, tmp_path, center.url, "unused")
    recorder.record(1200)
    recorder.close()
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "kiosk.cli", "sync", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=120,
        )
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert process.returncode == 0, shown.decode(errors="replace")
    assert b"1200/1200" in shown and "上传 / pushing".encode() in shown


def _station_config(path: Path, station_id: str, url: str) -> Path:
    path.write_text(
        f'[station]\nid = "{station_id}"\n\n[center]\nurl = "{url}"\ntoken_file = "token"\ntimeout = 2.0\n\n'
        f'[storage]\ndata_dir = "{station_id}"\n',
        encoding="utf-8",
    )
    return path


def _kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def _admin(center: Center, method: str, path: str, body: dict) -> dict:
    reply = httpx.request(method, f"{center.url}/api/v1/admin{path}", json=body, headers=center.admin, timeout=10)
    assert reply.status_code in (200, 201), reply.text
    return reply.json()


def _unacceptable(station_id: str) -> Entry:
    """A denied entry (sent first) whose person_id is longer than the center accepts."""
    return replace(gate_entry(station_id, 1, verdict_index=1), person_id="9" * 65)

"""The sync loop against the real center on loopback, with the default 15 s interval: a recorded entry wakes it
(its push comes within about a second: bench/gate.py measures scan -> stored), a burst goes in a few pushes, and
after an outage new entries wait for the retry timer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from faultproxy import FaultProxy, Mode
from servers import Center, run_center

from kiosk.domain.clock import SystemClock
from kiosk.domain.config import load_config
from kiosk.domain.models import Person, Role, Verdict
from kiosk.station.backoff import Backoff
from kiosk.station.station import Station
from kiosk.station.sync import Syncer, syncer_from_config
from kiosk.station.sync_loop import SyncLoop
from storage.entries import EntryStore
from storage.notices import NoticeStore
from storage.roster import RosterStore

pytestmark = pytest.mark.slow

INTERVAL = 15
PEOPLE = [Person(f"2023{n:06d}", "张三", Role.STUDENT, "海淀校园", return_approved=True) for n in range(60)]


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    workdir = tmp_path_factory.mktemp("center")
    with run_center(f"sqlite:///{workdir / 'center.db'}", workdir) as running:
        roster = {"people": [p.to_dict() for p in PEOPLE], "replace": True}
        httpx.put(f"{running.url}/api/v1/admin/roster", headers=running.admin, json=roster).raise_for_status()
        yield running


@dataclass
class Gate:
    """A station as `kiosk run` builds it (config file, stores, Station, syncer) with its sync loop in a thread."""

    station: Station
    syncer: Syncer
    stop: threading.Event = field(default_factory=threading.Event)
    passes: list[tuple[float, bool, int]] = field(default_factory=list)
    """(monotonic time, full, entries still waiting) after every pass."""

    def start(self) -> threading.Thread:
        loop = SyncLoop(self.syncer, None, time.monotonic, self.station.recorded)
        worker = threading.Thread(
            target=loop.run,
            args=(self.stop.is_set, self.stop.wait, self._heard),
        )
        worker.start()
        wait_until(lambda: bool(self.passes), 10)  # the first, full pass
        return worker

    def _heard(self, full: bool) -> None:
        self.passes.append((time.monotonic(), full, self.syncer.status.pending))

    def pushes_since(self, moment: float) -> int:
        return sum(1 for at, full, _ in self.passes if at >= moment and not full)

    def all_pushed_since(self, moment: float) -> bool:
        """A pass that ended after `moment` left nothing waiting."""
        return any(at >= moment and pending == 0 for at, _, pending in self.passes)


def wait_until(condition: Callable[[], bool], seconds: float) -> float:
    """Seconds until `condition()` held; fails after `seconds`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "timed out"
        time.sleep(0.01)
    return time.monotonic() - started


def make_gate(center: Center, tmp_path: Path, station_id: str, url: str | None = None) -> Gate:
    token = tmp_path / "token"
    token.write_text(center.add_station(station_id))
    token.chmod(0o600)
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[station]\nid = "{station_id}"\n\n[center]\nurl = "{url or center.url}"\ntoken_file = "token"\n'
        f'sync_interval = {INTERVAL}\ntimeout = 2.0\n\n[storage]\ndata_dir = "data"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    store, roster = EntryStore(config.data_dir), RosterStore(config.data_dir)
    syncer = syncer_from_config(config, store, roster, NoticeStore(config.data_dir))
    return Gate(Station(config, store, roster, SystemClock()), syncer)


@pytest.fixture
def running(center: Center, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Gate]:
    gate = make_gate(center, tmp_path, f"wake-{request.node.name[5:30].replace('_', '-')}")
    worker = gate.start()
    yield gate
    gate.stop.set()
    worker.join(timeout=5)
    gate.syncer.close()
    gate.station.store.close()


def test_each_entry_is_pushed_at_once_not_at_the_next_full_pass(running: Gate) -> None:
    store = running.station.store
    for person in PEOPLE[:3]:  # with sync_interval = 15, the timer alone would leave them waiting 15 s
        outcome = running.station.scan(person.person_id)
        assert outcome.entry is not None
        scanned = time.monotonic()
        wait_until(lambda since=scanned: running.all_pushed_since(since), INTERVAL - 5)
        assert store.unsynced_count() == 0
    assert [full for _, full, _ in running.passes] == [True, False, False, False]  # one push each, no full pass


def test_a_burst_goes_in_a_few_pushes(running: Gate) -> None:
    store = running.station.store
    started = time.monotonic()
    for n, person in enumerate(PEOPLE[:50]):
        running.station.scan(person.person_id if n % 10 else f"2099{n:06d}")  # every tenth is not on the roster
        time.sleep(0.01)
    burst_done = time.monotonic()
    wait_until(lambda: running.all_pushed_since(burst_done), 5)
    assert 1 <= running.pushes_since(started) <= 3
    entries = [e for day in store.days() for e in store.entries_of_day(day)]
    assert len(entries) == 50 and all(e.acked_at for e in entries)
    assert sum(1 for e in entries if e.verdict is Verdict.DENIED) == 5


def test_after_an_outage_new_entries_wait_for_the_retry_timer(center: Center, tmp_path: Path) -> None:
    with FaultProxy(center.port) as proxy:
        gate = make_gate(center, tmp_path, "wake-outage", url=proxy.url)
        gate.syncer.backoff = Backoff(base=3.0, cap=3.0, rand=lambda: 1.0)
        proxy.mode = Mode.DROP
        worker = gate.start()
        try:
            assert gate.syncer.status.online is False
            gate.station.scan(PEOPLE[0].person_id)
            proxy.mode = Mode.PASS
            time.sleep(1.5)
            assert len(gate.passes) == 1 and gate.station.store.unsynced_count() == 1  # no wake while offline
            wait_until(lambda: len(gate.passes) == 2, 5)
            assert gate.passes[1][1] and gate.station.store.unsynced_count() == 0  # the retry: a full pass
        finally:
            gate.stop.set()
            worker.join(timeout=5)
            gate.syncer.close()
            gate.station.store.close()

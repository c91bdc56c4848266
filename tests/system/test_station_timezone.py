"""The station keeps its own time zone: a process at TZ=UTC with `[station] timezone = "Asia/Shanghai"` counts and
exports by the gate's days, and every entry keeps its +08:00 offset."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.domain.clock import SystemClock
from kiosk.domain.config import ConfigError, load_config, parse_config
from kiosk.domain.models import Person, Role
from kiosk.station.station import Station
from storage.entries import EntryStore
from storage.roster import RosterStore


@pytest.fixture
def utc_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The whole process at TZ=UTC, as on a fresh install."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    assert datetime.now().astimezone().utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    yield
    monkeypatch.undo()
    time.tzset()


def test_day_boundaries_follow_the_station_zone_not_the_system(tmp_path: Path, utc_process: None) -> None:
    config_path = tmp_path / "kiosk.toml"
    config_path.write_text('[station]\ntimezone = "Asia/Shanghai"\n[storage]\ndata_dir = "data"\n', encoding="utf-8")
    config = load_config(config_path)
    instant = [datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC).timestamp()]
    clock = SystemClock(config.station.zone, source=lambda: instant[0])
    roster = RosterStore(config.data_dir)
    roster.replace_all([Person(f"201901021{i}", f"学生{i}", Role.STUDENT) for i in range(3)])
    store = EntryStore(config.data_dir)
    station = Station(config, store, roster, clock)
    try:
        first = station.scan("2019010210").entry  # 23:59:59 in Shanghai, 15:59:59 at UTC
        instant[0] += 2
        second = station.scan("2019010211").entry  # 00:00:01 in Shanghai the next day; still 1 March at UTC
        instant[0] += 3600
        third = station.scan("2019010212").entry
        assert first is not None and second is not None and third is not None
        assert first.captured_at == "2026-03-01T23:59:59+08:00"
        assert second.captured_at == "2026-03-02T00:00:01+08:00"
        assert (store.counts("2026-03-01").admitted, store.counts("2026-03-02").admitted) == (1, 2)
        assert second.hour == 0 and store.counts("2026-03-02").by_hour[0] == 1
    finally:
        store.close()

    env = {**os.environ, "TZ": "UTC"}
    for day, expected in (("2026-03-01", ["2019010210"]), ("2026-03-02", ["2019010211", "2019010212"])):
        result = subprocess.run(
            [sys.executable, "-m", "kiosk.cli", "export", "--date", day, "--config", str(config_path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        rows = list(csv.reader(result.stdout.splitlines()))[1:]
        assert [row[4] for row in rows] == expected


def test_the_clock_reads_in_the_station_zone(utc_process: None) -> None:
    config = parse_config('[station]\ntimezone = "Asia/Shanghai"\n')
    now = SystemClock(config.station.zone).now()
    assert now.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
    assert parse_config("").station.timezone == "Asia/Shanghai", "the default zone is the school's"


def test_an_unknown_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"station.timezone: .*IANA"):
        parse_config('[station]\ntimezone = "Beijing"\n')

"""Fixtures shared by every test folder: a station config in a temporary directory, entries, a small roster."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import settings

from kiosk.domain.config import Config, StationConfig, StorageConfig
from kiosk.domain.models import Direction, Entry, Method, Person, Reason, Role, Verdict, new_entry_id

IN_CI = os.environ.get("CI") == "true"

# Property tests draw at random: a failure prints the @reproduce_failure line that replays it exactly.
settings.register_profile("kiosk", print_blob=True)
settings.load_profile("kiosk")


def require_tool(name: str) -> str:
    """The path of a program a system test needs; in CI a missing one fails the test instead of skipping it."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed: .ci/run must install it")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The embedded defaults with a private data directory."""
    return Config(
        station=StationConfig(id="test-01", name="学五食堂 东门", campus="海淀校园"),
        storage=StorageConfig(data_dir=str(tmp_path / "data")),
    )


@pytest.fixture
def dormitory_config(config: Config) -> Config:
    return replace(config, station=replace(config.station, gate="dormitory", name="西北楼 宿舍"))


PEOPLE = (
    Person("2023000101", "张三", Role.STUDENT, "海淀校园", "西北楼", return_approved=True),
    Person("2023000102", "欧阳娜娜", Role.STUDENT, "海淀校园", "西北楼", return_approved=False),
    Person("2023000103", "李小明", Role.STUDENT, "昌平校园", "G区1号楼", return_approved=True, observation=True),
    Person("T1001", "王老师", Role.STAFF, "海淀校园"),
)


@pytest.fixture
def people() -> tuple[Person, ...]:
    return PEOPLE


@pytest.fixture
def make_entry() -> Callable[..., Entry]:
    """Build an entry as the gate would, seq 0 so that the store assigns it."""

    def build(person_id: str = "2023000101", **changes: object) -> Entry:
        entry = Entry(
            entry_id=new_entry_id(),
            station_id="test-01",
            seq=0,
            person_id=person_id,
            role=Role.STUDENT,
            name="张三",
            method=Method.KEYBOARD_SCAN,
            direction=Direction.IN,
            captured_at="2026-11-28T07:30:00+08:00",
            monotonic=time.monotonic(),
            verdict=Verdict.ADMITTED,
            reasons=(Reason.ON_ROSTER,),
            rules_version="test",
            operator="T1001",
        )
        return replace(entry, **changes)

    return build

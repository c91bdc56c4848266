"""Fixtures for system tests of the center: a PostgreSQL cluster per session, the center on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import Center, fresh_postgres_database, run_center, start_postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL cluster started for this test session (skipped locally, failed in CI, without PostgreSQL)."""
    with start_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def center_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty center database: a SQLite file, or a fresh database on the session's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'center.db'}"
        return
    server_url = request.getfixturevalue("postgres_url")
    with fresh_postgres_database(server_url) as url:
        yield url


@pytest.fixture
def center(center_db_url: str, tmp_path: Path) -> Iterator[Center]:
    """The center serving on loopback, with an admin token (`center.admin`) and `center.add_station(id)`."""
    with run_center(center_db_url, tmp_path) as running:
        yield running

"""Token lifecycle over real HTTP and the real CLI: a revoked or rotated token stops within seconds, though the
center remembers tokens for a minute; admin tokens likewise; every change is in the audit log."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from servers import Center, run_center

pytestmark = pytest.mark.slow
WITHIN_SECONDS = 5.0


@pytest.fixture
def center(tmp_path: Path) -> Iterator[Center]:
    with run_center(f"sqlite:///{tmp_path / 'center.db'}", tmp_path) as running:
        yield running


def kiosk(center: Center, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "center", *args, "--db", center.db_url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=center.workdir,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def status_within(seconds: float, expected: int, request: Callable[[], httpx.Response]) -> float:
    """Seconds until `request` answers `expected` (fails after `seconds`)."""
    started = time.monotonic()
    while (response := request()).status_code != expected:
        assert time.monotonic() - started < seconds, f"still {response.status_code} after {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_rotated_then_revoked_station_token_stops_within_seconds(center: Center) -> None:
    old = center.add_station("gate-01")

    def roster(token: str) -> Callable[[], httpx.Response]:
        return lambda: httpx.get(f"{center.url}/api/v1/roster", headers=center.auth(token))

    assert roster(old)().status_code == 200  # now remembered by the center for a minute
    rotated = kiosk(center, "rotate-token", "gate-01")
    assert rotated.returncode == 0 and "shown once" in rotated.stderr
    new = rotated.stdout.strip()
    status_within(WITHIN_SECONDS, 401, roster(old))
    assert roster(new)().status_code == 200
    revoked = kiosk(center, "revoke-station", "gate-01")
    assert revoked.returncode == 0 and "revoked" in revoked.stderr
    status_within(WITHIN_SECONDS, 401, roster(new))
    assert kiosk(center, "revoke-station", "gate-99").returncode == 1

    again = kiosk(center, "rotate-token", "gate-01").stdout.strip()  # a revoked station may be given a new token
    status_within(WITHIN_SECONDS, 200, roster(again))
    audit = kiosk(center, "audit").stdout.splitlines()
    assert [line.split()[3] for line in audit[:3]] == ["rotate_station_token", "revoke_station", "rotate_station_token"]
    assert all("gate-01" in line and "@" in line.split()[2] for line in audit[:3])


def test_admin_tokens_are_revoked_and_rotated(center: Center) -> None:
    added = kiosk(center, "add-admin")
    admin_id = added.stderr.split("admin ")[1].split()[0]
    token = added.stdout.strip()

    def completeness(bearer: str) -> Callable[[], httpx.Response]:
        return lambda: httpx.get(f"{center.url}/api/v1/admin/completeness", headers=center.auth(bearer))

    assert completeness(token)().status_code == 200
    rotated = kiosk(center, "rotate-admin", admin_id).stdout.strip()
    status_within(WITHIN_SECONDS, 401, completeness(token))
    assert completeness(rotated)().status_code == 200
    assert kiosk(center, "revoke-admin", admin_id).returncode == 0
    status_within(WITHIN_SECONDS, 401, completeness(rotated))
    assert completeness(center.admin_token)().status_code == 200  # the other admin is untouched
    assert kiosk(center, "revoke-admin", "999").returncode == 1
    actions = [line.split()[3:5] for line in kiosk(center, "audit", "--limit", "3").stdout.splitlines()]
    assert actions == [["revoke_admin", admin_id], ["rotate_admin_token", admin_id], ["add_admin", admin_id]]

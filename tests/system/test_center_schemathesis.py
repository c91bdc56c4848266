"""Schemathesis, every check, against the running center with a station token and an admin token: the OpenAPI
document must say exactly what the center does. Bounded in time; any finding fails the test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from servers import run_center

pytestmark = pytest.mark.slow
SECONDS = 30

# A notice's URL must be on a domain the center allows, set when it starts: no schema can say which, so a
# schema-valid notice may be refused (422) for its domain. Every other check stays on for that operation.
CONFIG = """
headers = {{ Authorization = "Bearer {admin}" }}

[parameters]
station_id = "gate-01"

[[operations]]
include-path-regex = "^/api/v1/stations/"
headers = {{ Authorization = "Bearer {station}" }}

[[operations]]
include-path = "/api/v1/admin/notices"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "422"]
"""


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    command = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.fail("schemathesis is not installed: it is in the test extra of pyproject.toml")
    with run_center(f"sqlite:///{tmp_path / 'center.db'}", tmp_path) as center:
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG.format(admin=center.admin_token, station=center.add_station("gate-01")))
        done = subprocess.run(
            [
                command,
                "--config-file",
                str(config),
                "--no-color",
                "run",
                f"{center.url}/openapi.json",
                "--checks",
                "all",
                "--max-time",
                str(SECONDS),
                "--generation-database",
                "none",
                "--report-dir",
                str(tmp_path / "report"),
            ],
            capture_output=True,
            text=True,
            timeout=SECONDS + 60,
            cwd=tmp_path,
        )
        log = center.log()
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert "Traceback" not in log, log[-4000:]

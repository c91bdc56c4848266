"""A kiosk nobody can log in to or leave is refused before it starts; PINs are at least six digits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

KIOSK = Path(sys.executable).with_name("kiosk")
ROOT = Path(__file__).resolve().parents[2]


def kiosk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KIOSK), *args], input=stdin, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_a_config_without_duty_staff_is_refused_with_the_way_to_fix_it(tmp_path: Path, command: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('[station]\nid = "no-duty"\n[storage]\ndata_dir = "data"\n', encoding="utf-8")
    result = kiosk(command, "--config", str(path))
    assert result.returncode == 1
    assert "没有配置值班人员" in result.stderr and "no duty staff configured" in result.stderr
    assert "kiosk hash-pin" in result.stderr and str(path) in result.stderr
    assert not (tmp_path / "data").exists(), "nothing is opened before the refusal"


def test_the_sample_config_has_a_duty_officer_and_says_its_pin_is_the_sample() -> None:
    result = kiosk("check-config", "--config", str(ROOT / "kiosk.toml"))
    assert result.returncode == 0, result.stderr
    assert "sample PIN" in result.stdout


@pytest.mark.parametrize(("pin", "code"), [("2468", 2), ("24681", 2), ("246813", 0)])
def test_hash_pin_wants_six_digits_or_more(pin: str, code: int) -> None:
    result = kiosk("hash-pin", "--stdin", stdin=pin + "\n")
    assert result.returncode == code, result.stderr
    assert result.stdout.startswith("scrypt$") == (code == 0)

"""The station config: the sample loads, defaults are complete, and every bad value is named with file, key and line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.domain.config import Config, ConfigError, load_config, parse_config
from kiosk.domain.pins import hash_pin

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "kiosk.toml"
KIOSK = Path(sys.executable).with_name("kiosk")

GOOD_HASH = hash_pin("2468")


def test_sample_config_loads_with_its_documented_values() -> None:
    config = load_config(SAMPLE)
    assert config.path == SAMPLE
    assert config.station.id == "bnu-hd-canteen5-east"
    assert config.station.gate == "canteen"
    assert config.rules.fever_threshold == 37.3
    assert config.notices.allowed_domains == ("bnu.edu.cn",)
    assert config.data_dir == ROOT / "data"


def test_empty_file_gives_the_embedded_defaults(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text("", encoding="utf-8")
    loaded = load_config(path)
    assert loaded == Config(path=path)
    assert loaded.rules.dormitory_requires_approval is True
    assert loaded.rules.duplicate_window == 30
    assert loaded.security.duty == ()
    assert loaded.data_dir == tmp_path / "data"


def test_embedded_defaults_are_a_valid_sample() -> None:
    """Every default would itself pass validation (the sample and the dataclasses agree)."""
    defaults = Config()
    sample = load_config(SAMPLE)
    assert (defaults.rules, defaults.scanner, defaults.notices, defaults.ui) == (
        sample.rules,
        sample.scanner,
        sample.notices,
        sample.ui,
    )
    assert defaults.path is None
    assert defaults.data_dir == Path("data")


def test_ints_are_accepted_for_floats_and_duty_staff_are_read(tmp_path: Path) -> None:
    text = f"""
[rules]
fever_threshold = 38

[[security.duty]]
staff_id = "T1001"
name = "王老师"
pin_hash = "{GOOD_HASH}"
"""
    config = parse_config(text, tmp_path / "k.toml")
    assert config.rules.fever_threshold == 38.0 and isinstance(config.rules.fever_threshold, float)
    assert [(d.staff_id, d.name, d.pin_hash) for d in config.security.duty] == [("T1001", "王老师", GOOD_HASH)]


# (text, key named in the message, line of that key, words of the reason)
BAD = [
    pytest.param("[station]\nid = \"a\"\n\n[bogus]\nx = 1\n", "[bogus]", 4, "unknown table", id="unknown-table"),
    pytest.param("[station]\nname = \"x\"\ncolour = \"red\"\n", "station.colour", 3, "unknown key", id="unknown-key"),
    pytest.param("[scanner]\nbaudrate = \"fast\"\n", "scanner.baudrate", 2, "must be an integer", id="wrong-type"),
    pytest.param("[rules]\nduplicate_window = 1.5\n", "rules.duplicate_window", 2, "integer", id="float-for-int"),
    pytest.param("[rules]\ndormitory_requires_approval = 1\n", "rules.dormitory_requires_approval", 2,
                 "true or false", id="int-for-bool"),
    pytest.param("[rules]\n\n\nfever_threshold = 45.0\n", "rules.fever_threshold", 4, "between 35 and 42",
                 id="out-of-range"),
    pytest.param("[center]\nbatch_size = 0\n", "center.batch_size", 2, "between 1 and 10000", id="below-range"),
    pytest.param("[station]\ngate = \"library\"\n", "station.gate", 2, "canteen | dormitory", id="bad-literal"),
    pytest.param("[ui]\nlanguage = \"fr\"\n", "ui.language", 2, "zh | en", id="bad-language"),
    pytest.param("[scanner]\nid_pattern = \"^[0-9\"\n", "scanner.id_pattern", 2, "not a valid regular expression",
                 id="bad-regex"),
    pytest.param("[station]\nid = \"gate 1/东\"\n", "station.id", 2, "letters, digits", id="bad-station-id"),
    pytest.param("[station]\nid = \"\"\n", "station.id", 2, "must not be empty", id="empty-station-id"),
    pytest.param("[notices]\nallowed_domains = \"bnu.edu.cn\"\n", "notices.allowed_domains", 2, "list of strings",
                 id="string-for-list"),
    pytest.param("[center]\nurl = \"ftp://x\"\n", "center.url", 2, "http(s)", id="bad-url"),
    pytest.param("[[security.duty]]\nstaff_id = \"T1\"\nname = \"王\"\npin_hash = \"1234\"\n",
                 "security.duty.pin_hash", 4, "not a PIN hash", id="plain-pin"),
    pytest.param("[[security.duty]]\nstaff_id = \"T1\"\npin_hash = \"x\"\n", "security.duty.name", None,
                 "missing", id="duty-missing-name"),
    pytest.param("[[security.duty]]\nstaff_id = \"T1\"\nname = \"王\"\nshift = 2\npin_hash = \"x\"\n",
                 "security.duty.shift", 4, "unknown key", id="duty-unknown-key"),
    pytest.param("[security]\nadmins = []\n", "security.admins", 2, "unknown key", id="security-unknown-key"),
    pytest.param("station = 3\n", "[station]", None, "must be a table", id="not-a-table"),
]


@pytest.mark.parametrize(("text", "key", "line", "reason"), BAD)
def test_each_bad_value_names_file_key_and_line(
    tmp_path: Path, text: str, key: str, line: int | None, reason: str
) -> None:
    path = tmp_path / "station.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    where = f"{path}:{line}: " if line else f"{path}: "
    assert message.startswith(where + key + ": "), message
    assert reason in message
    chinese, _, english = message.rpartition("/ ")
    assert english.isascii() and any("\u4e00" <= ch <= "\u9fff" for ch in chinese), "the reason must be bilingual"


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text("[station]\nname = \"x\"\nid = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: TOML 语法错误 / TOML syntax error")
    assert "line 3" in message


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"[station]\nname = \"\xe9\"\n")
    with pytest.raises(ConfigError, match=f"^{latin}: .*cannot read config file"):
        load_config(latin)


def _check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KIOSK), "check-config", "--config", str(path)], capture_output=True, text=True, timeout=60
    )


def test_check_config_command_accepts_the_sample() -> None:
    result = _check_config(SAMPLE)
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout and "bnu-hd-canteen5-east" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[rules]\n\nfever_threshold = 45.0\n", id="range"),
        pytest.param("[station\n", id="syntax"),
        pytest.param("[scanner]\nid_pattern = \"(\"\n", id="regex"),
    ],
)
def test_check_config_command_rejects_with_the_same_message(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    result = _check_config(path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"配置错误 / configuration error: {caught.value}"
    assert "Traceback" not in result.stderr

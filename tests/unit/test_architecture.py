"""The layers and the types are checked, and the checks themselves catch a broken rule."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(tool: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def _copy_tree(tmp_path: Path) -> Path:
    """The packages and pyproject.toml in a scratch directory, to break a rule there and not here."""
    for package in ("kiosk", "screens", "storage", "scripts"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_import_contracts_are_kept() -> None:
    result = _run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_types_check_strictly() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_layer_broken_is_caught(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    with (tree / "storage" / "roster.py").open("a") as module:
        module.write("\nfrom screens import gate  # storage reaching up into the UI\n")
    with (tree / "kiosk" / "center" / "roster.py").open("a") as module:
        module.write("\nimport storage.entries  # the center reaching into the station's store\n")
    result = _run("lint-imports", "--no-cache", cwd=tree)
    assert result.returncode != 0
    assert "storage.roster -> screens.gate" in result.stdout
    assert "kiosk.center.roster -> storage.entries" in result.stdout


def test_textual_outside_the_ui_is_caught(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    with (tree / "kiosk" / "domain" / "rules.py").open("a") as module:
        module.write("\nimport textual.app\n")
    result = _run("lint-imports", "--no-cache", cwd=tree)
    assert result.returncode != 0
    assert "kiosk.domain.rules -> textual" in result.stdout


def test_a_type_error_is_caught(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    with (tree / "kiosk" / "domain" / "privacy.py").open("a") as module:
        module.write("\n\ndef _wrong() -> int:\n    return 'not an int'\n")
    result = _run("mypy", "kiosk/domain/privacy.py", cwd=tree)
    assert result.returncode != 0
    assert "kiosk/domain/privacy.py" in result.stdout and "return-value" in result.stdout


def test_lint_is_clean() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr

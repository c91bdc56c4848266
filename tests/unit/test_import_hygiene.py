"""The headless modules never load Textual: importing them in a fresh interpreter leaves it out of sys.modules."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

NAMED = (
    "kiosk.domain.models",
    "kiosk.domain.config",
    "kiosk.domain.rules",
    "kiosk.cli.main",
    "kiosk.station.sync",
    "storage.entries",
    "storage.roster",
    "storage.notices",
)
"""The modules the design names as headless; those not written yet are skipped."""

UI_MODULES = {"kiosk.app"}


def _discovered() -> list[str]:
    """Every other module of the headless packages, so that a new one is checked without editing this list."""
    found = []
    for package in ("kiosk", "storage", "scripts"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(parts)
            if name not in UI_MODULES and name not in NAMED and name and parts[-1] != "__main__":
                found.append(name)
    return found


@pytest.mark.parametrize("module", [*NAMED, *_discovered()])
def test_importing_leaves_textual_out(module: str) -> None:
    report = "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    if module.startswith("scripts."):  # scripts are files, not a package: load them by path, as cron does
        path = ROOT / Path(*module.split(".")).with_suffix(".py")
        probe = (
            "import importlib.util, sys; "
            f"spec = importlib.util.spec_from_file_location('script', {str(path)!r}); "
            f"spec.loader.exec_module(importlib.util.module_from_spec(spec)); {report}"
        )
    elif importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not written yet")
    else:
        probe = f"import sys, {module}; {report}"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"{module} imports Textual: {result.stdout.strip()[:300]}"


def test_the_probe_would_see_textual() -> None:
    """The check itself works: importing the App package does load Textual."""
    probe = "import sys, textual.app; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.stdout.strip() == "True", result.stderr


LATER = ("httpx", "qrcode", "PIL", "kiosk.station.sync", "screens.duty", "screens.handover", "screens.log",
         "screens.manual", "screens.notices", "screens.stats", "screens.temperature", "screens.unmask",
         "screens.visitor")
"""Imported when first used, never to start the gate: each costs cold-start time (bench/RESULTS.md, ## gate)."""


def test_importing_the_app_leaves_what_the_first_paint_does_not_need() -> None:
    probe = f"import sys, kiosk.app; print(sorted(m for m in {LATER!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"kiosk.app imports {result.stdout.strip()}"

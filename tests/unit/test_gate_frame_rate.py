"""`kiosk run` and `kiosk demo` raise Textual's frame rate (a verdict waits at most a short tick for its frame),
which Textual reads once, when first imported: the commands must set it before anything imports Textual."""

from __future__ import annotations

import os
import subprocess
import sys

from kiosk.cli.main import GATE_FRAME_RATE


def python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    done = subprocess.run([sys.executable, "-c", code], env=clean | env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_gate_frame_rate_reaches_textual_and_a_chosen_one_wins() -> None:
    code = "from kiosk.cli.main import gate_frame_rate; gate_frame_rate(); from textual import constants; "
    assert python(code + "print(constants.MAX_FPS)") == str(GATE_FRAME_RATE)
    assert python(code + "print(constants.MAX_FPS)", TEXTUAL_FPS="30") == "30"


def test_the_gate_commands_import_no_textual_before_they_run() -> None:
    imported = "import sys, kiosk.cli.main, kiosk.cli.run, kiosk.cli.demo; "
    assert python(imported + "print(sorted(m for m in sys.modules if m.startswith('textual')))") == "[]"

"""`kiosk demo` as a newcomer runs it: a real subprocess with its own center, headless for CI and in tmux."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from servers import require_tool
from sqlalchemy import create_engine, text
from tmux_terminal import Terminal

from kiosk.demo.data import DEMO_PIN, DEMO_STATION_ID, demo_examples, demo_people
from kiosk.domain.privacy import mask_id
from storage.entries import EntryStore

KIOSK = str(Path(sys.executable).with_name("kiosk"))
WAIT = 20.0
"""Generous bound for one step (a cold center start, a backoff) on a loaded 2-core machine."""


def processes_mentioning(needle: str) -> list[str]:
    """Command lines of live processes that mention `needle` (the demo's directory is in the center's --db)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue  # gone meanwhile
        if Path(argv[0]).name != "tmux" and any(needle in arg for arg in argv):  # the server lingers a moment
            found.append(f"{entry.name}: {' '.join(argv)}")
    return found


def assert_nothing_left(needle: str) -> None:
    """No process mentions `needle` (a shell the terminal is closing may take a moment to go)."""
    deadline = time.monotonic() + 5
    while (left := processes_mentioning(needle)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == []


def center_entry_ids(directory: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{directory / 'center.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT entry_id FROM entries WHERE station_id = :s"), {"s": DEMO_STATION_ID})
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def station_entry_ids(directory: Path) -> set[str]:
    store = EntryStore(directory / "data")
    try:
        return {entry.entry_id for day in store.days() for entry in store.entries_of_day(day)}
    finally:
        store.close()


def test_headless_demo_records_scans_and_every_one_reaches_the_center(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    done = subprocess.run(
        [KIOSK, "demo", "--headless", "8", "--simulate-scanner", "--dir", str(directory)],
        capture_output=True, text=True, timeout=55, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    recorded = int(re.search(r"recorded locally: (\d+)", done.stdout).group(1))
    assert recorded > 0
    assert "waiting: 0" in done.stdout
    assert f"acknowledged by the center: {recorded}" in done.stdout
    assert "every entry reached the center" in done.stdout

    assert_nothing_left(str(directory))
    entry_ids = station_entry_ids(directory)
    assert len(entry_ids) == recorded
    assert center_entry_ids(directory) == entry_ids

    assert (directory / "station.token").stat().st_mode & 0o777 == 0o600
    token = (directory / "station.token").read_text().strip()
    assert token not in done.stdout + done.stderr
    check = subprocess.run([KIOSK, "check-config", "--config", str(directory / "kiosk.toml")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr

    from kiosk.center.db import Database
    from kiosk.center.web.accounts import sign_in
    from kiosk.demo.data import DEMO_WEB_PASSWORD, DEMO_WEB_USER

    account = rf"account: {DEMO_WEB_USER} +密码 / password: {DEMO_WEB_PASSWORD}"
    assert re.search(rf"http://127.0.0.1:\d+/web/ +账户 / {account}", done.stdout), done.stdout
    center = Database(f"sqlite:///{directory / 'center.db'}")
    try:
        assert sign_in(center, DEMO_WEB_USER, DEMO_WEB_PASSWORD, "test").token is not None  # the account printed works
    finally:
        center.close()


def sync_state(screen: str) -> str:
    """The sync status at the end of the gate's third line: 在线 (online) or 离线 (offline), with what waits."""
    lines = screen.splitlines()
    return lines[2] if len(lines) > 2 else ""


def test_interactive_demo_in_tmux_scans_goes_offline_catches_up_and_exits_with_the_pin(tmp_path: Path) -> None:
    tmux = require_tool("tmux")
    directory = tmp_path / "demo"
    examples = demo_examples(demo_people())
    rc_file = tmp_path / "rc"
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_ALLOW_SIGNALS"}
    env |= {"TERM": "xterm-256color", "TMUX_TMPDIR": str(tmp_path)}
    # The shell stays after the demo so that its last lines can be read.
    terminal = Terminal(tmux, f"{KIOSK} demo --dir {directory}; echo $? > {rc_file}; sleep 60", env, wait=WAIT)
    try:
        intro = terminal.wait_for(lambda s: "press Enter to open the gate" in s, "the introduction")
        assert f"PIN: {DEMO_PIN}" in intro and examples.admitted.person_id in intro
        terminal.keys("Enter")
        terminal.wait_for(lambda s: "请刷卡" in s and "在线" in sync_state(s) and "F11" in s, "the gate, online")

        terminal.keys(examples.admitted.person_id, "Enter")
        shown = terminal.wait_for(lambda s: "准予通行" in s, "the admitted verdict")
        assert mask_id(examples.admitted.person_id) in shown and examples.admitted.person_id not in shown
        terminal.wait_for(lambda s: "待上传" not in sync_state(s), "the admitted entry pushed (woken by the scan)")

        terminal.keys("F11")  # stop the center
        terminal.wait_for(lambda s: "离线" in sync_state(s), "the gate going offline")
        terminal.keys(examples.no_approval.person_id, "Enter")
        terminal.wait_for(lambda s: "未获返校批准" in s, "the denial for no return approval")
        terminal.wait_for(lambda s: "待上传 1 条" in sync_state(s), "one entry waiting while offline")

        terminal.keys("F11")  # start it again: the waiting entry catches up
        terminal.wait_for(lambda s: "在线" in sync_state(s) and "待上传" not in sync_state(s), "the catch-up")

        centers = processes_mentioning(str(directory / "center.db"))
        assert len(centers) == 1, centers
        os.kill(int(centers[0].split(":")[0]), signal.SIGKILL)  # killed by hand, not by F11
        terminal.wait_for(lambda s: "离线" in sync_state(s), "the gate going offline after kill -9")
        terminal.keys("F11")
        terminal.wait_for(lambda s: "在线" in sync_state(s), "the gate online again")

        terminal.keys("F12")
        terminal.wait_for(lambda s: "退出程序" in s, "the duty menu")
        terminal.keys("Tab", "Enter")
        terminal.wait_for(lambda s: "输入值班 PIN" in s, "the exit dialog")
        terminal.type_as_person(DEMO_PIN)  # typed at a person's pace: a burst ending in Enter is a wedge scan
        deadline = time.monotonic() + WAIT
        while not rc_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rc_file.read_text().strip() == "0", terminal.screen()
        assert "in the center's database: 2" in terminal.screen()
        assert_nothing_left(str(directory / "center.db"))  # stopped by the demo itself, not by closing tmux
    finally:
        terminal.kill()

    assert_nothing_left(str(directory))
    assert center_entry_ids(directory) == station_entry_ids(directory)
    assert len(station_entry_ids(directory)) == 2

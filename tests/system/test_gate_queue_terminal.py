"""The gate with a queue, in real terminals: `kiosk run` in tmux with scans every second from a pty reader while
the officer opens F2, F3, F4, F5 and F8; and `kiosk run` on a raw pty fed random bytes (invalid UTF-8, escape
sequences, control characters), still running, scanning and drawing the verdict at the end."""

from __future__ import annotations

import os
import random
import re
import sys
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from ptykiosk import PtyKiosk
from servers import require_tool
from tmux_terminal import Terminal

from kiosk.domain.models import Entry, Person, Role
from kiosk.domain.pins import hash_pin
from kiosk.domain.privacy import mask_id, mask_name
from storage.entries import EntryStore
from storage.roster import RosterStore

PIN = "135790"
KIOSK = Path(sys.executable).with_name("kiosk")
WAIT = 15.0
QUEUE = [
    Person(f"20231002{i:02d}", f"队列{chr(0x4E00 + 3 * i)}{chr(0x4E01 + 3 * i)}", Role.STUDENT, return_approved=True)
    for i in range(10, 40)
]


@pytest.fixture
def scanner_pty() -> Iterator[tuple[int, str]]:
    """(master fd, slave path) of a pseudo-terminal standing in for a USB-serial scanner."""
    master, slave = os.openpty()
    tty.setraw(master)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def write_config(directory: Path, port: str) -> Path:
    path = directory / "kiosk.toml"
    path.write_text(
        f'[station]\nid = "queue-01"\n[scanner]\nport = "{port}"\n[storage]\ndata_dir = "data"\n'
        f'[[security.duty]]\nstaff_id = "T1001"\nname = "王老师"\npin_hash = "{hash_pin(PIN)}"\n',
        encoding="utf-8",
    )
    RosterStore(directory / "data").replace_all(QUEUE)
    return path


def stored(directory: Path) -> list[Entry]:
    store = EntryStore(directory / "data")
    try:
        return [e for day in store.days() for e in store.entries_of_day(day)]
    finally:
        store.close()


class Watcher(threading.Thread):
    """Reads the tmux screen every 50 ms and keeps every verdict line seen ("name  ID", two spaces)."""

    def __init__(self, terminal: Terminal) -> None:
        super().__init__(daemon=True)
        self.terminal = terminal
        self.screens: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.screens.append(self.terminal.screen())
            time.sleep(0.05)

    def saw(self, text: str) -> bool:
        return any(text in screen for screen in self.screens)


def test_kiosk_run_in_tmux_with_a_queue_and_the_officer_at_work(tmp_path: Path, scanner_pty: tuple[int, str]) -> None:
    tmux = require_tool("tmux")
    master, port = scanner_pty
    config = write_config(tmp_path, port)
    rc_file = tmp_path / "rc"
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_ALLOW_SIGNALS"}
    env |= {"TERM": "xterm-256color", "TMUX_TMPDIR": str(tmp_path)}
    terminal = Terminal(tmux, f"{KIOSK} run --config {config}; echo $? > {rc_file}", env)
    scanned: list[Person] = []
    line = iter(QUEUE)
    watcher = Watcher(terminal)

    def scan_one() -> None:
        person = next(line)
        os.write(master, person.person_id.encode() + b"\r")
        scanned.append(person)

    try:
        terminal.wait_for(lambda s: "请刷卡" in s and "读卡器已连接" in s, "the gate with its reader connected")
        watcher.start()
        stop = threading.Event()

        def every_second() -> None:
            while not stop.wait(1.0):
                scan_one()

        scan_one()
        terminal.wait_for(lambda s: "准予通行" in s, "the first verdict")
        reader = threading.Thread(target=every_second, daemon=True)
        reader.start()
        terminal.keys("F2")
        terminal.wait_for(lambda s: "值班登录" in s, "the duty login")
        terminal.type_as_person("T1001")
        terminal.type_as_person(PIN)
        shown = terminal.wait_for(lambda s: "测温对象" in s, "the temperature dialog naming its person")
        named = re.search(r"测温对象:(\S+)\s+(\S+)", shown)
        assert named is not None
        for key in "36.8":
            terminal.keys(key)
            time.sleep(0.1)
        time.sleep(1.2)  # someone else scans meanwhile: the dialog must ask, not move the reading
        terminal.keys("Enter")
        terminal.wait_for(lambda s: "这次读数记给谁" in s, "the question whose reading it is")
        terminal.keys("Enter")  # the focused button: the person the dialog named
        terminal.wait_for(lambda s: "测温对象" not in s, "the dialog closed")
        for key, field in (("F3", "2023"), ("F4", "Li"), ("F5", "10"), ("F8", "")):
            terminal.keys(key)
            time.sleep(0.6)
            for character in field:
                terminal.keys(character)
                time.sleep(0.1)
            time.sleep(1.2)
            if field:
                assert any(f"{field} " in s or f"{field}▏" in s or field in s for s in watcher.screens[-5:])
            terminal.keys("Escape")
            time.sleep(0.3)
        stop.set()
        reader.join()
        time.sleep(1.0)
        last = scanned[-1]
        terminal.wait_for(lambda s: mask_id(last.person_id) in s, "the last verdict")
        watcher.stop.set()
        watcher.join()
        unseen = [p.person_id for p in scanned if not watcher.saw(f"{mask_name(p.name)}  {mask_id(p.person_id)}")]
        assert unseen == [], f"verdicts never on screen: {unseen}"
        terminal.keys("F12")
        terminal.wait_for(lambda s: "退出程序" in s, "the duty menu")
        terminal.keys("Tab", "Enter")
        terminal.wait_for(lambda s: "输入值班 PIN" in s, "the exit dialog")
        terminal.type_as_person(PIN)
        deadline = time.monotonic() + WAIT
        while not rc_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rc_file.read_text().strip() == "0"
    finally:
        watcher.stop.set()
        terminal.kill()
    entries = stored(tmp_path)
    assert sorted(e.person_id for e in entries) == sorted(p.person_id for p in scanned), "each scan recorded once"
    read = [e for e in entries if e.readings]
    assert [(mask_name(e.name), mask_id(e.person_id), [r.celsius for r in e.readings]) for e in read] == [
        (named.group(1), named.group(2), [36.8])
    ]


# -- fuzz: every byte is survived --------------------------------------------------------------------------------

FUZZ_SECONDS = float(os.environ.get("KIOSK_FUZZ_SECONDS", "60"))
ESCAPES = [
    b"\x1b",
    b"\x1b[",
    b"\x1b[1;5P",
    b"\x1bOP",
    b"\x1b[24~",
    b"\x1b[<0;10;5M",
    b"\x1b[<0;10;5m",
    b"\x1b[M !!",
    b"\x1b[200~",
    b"\x1b[201~",
    b"\x1b]52;c;",
    b"\x1b[?1049h",
    b"\x1b[6n",
    b"\x1bP",
    b"\x9b",
    b"\x1b[999999999A",
    b"\r\x1b\x1b",  # Enter and Escape at once: a dialog dismissed twice once popped the gate (a blank screen)
    b"\x1b[48;1;1;0;0t",  # forged size reports, and a forged "I send size reports": the gate was drawn at 1x1
    b"\x1b[48;9999;9999;0;0t",
    b"\x1b[?2048;2$y",
]
BROKEN_UTF8 = [
    b"\xff",
    b"\xfe",
    b"\xff\xfe\r",
    b"caf\xe9\r",
    b"\xc3",
    b"\xe4\xb8",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    "２０２３".encode(),
    b"\xef\xbf\xbd",
]


def fuzz_chunk(rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    if kind == 1:
        return rng.choice(ESCAPES)
    if kind == 2:
        return rng.choice(BROKEN_UTF8)
    if kind == 3:
        return bytes(rng.randrange(32) for _ in range(rng.randrange(1, 8)))
    return "".join(rng.choice("0123456789abcXYZ学号\r") for _ in range(rng.randrange(1, 16))).encode()


def test_kiosk_run_survives_random_bytes_from_its_terminal(tmp_path: Path, scanner_pty: tuple[int, str]) -> None:
    seed = int(os.environ.get("KIOSK_FUZZ_SEED", "20261202"))
    print(f"fuzz seed {seed} for {FUZZ_SECONDS:.0f} s (KIOSK_FUZZ_SEED, KIOSK_FUZZ_SECONDS)")
    rng = random.Random(seed)
    master_serial, port = scanner_pty
    kiosk = PtyKiosk(write_config(tmp_path, port))
    try:
        kiosk.wait_drawn("读卡器已连接", "the gate with its reader connected")
        end = time.monotonic() + FUZZ_SECONDS
        sent = 0
        while time.monotonic() < end:
            chunk = fuzz_chunk(rng)
            kiosk.type(chunk)
            sent += len(chunk)
            time.sleep(rng.choice((0.0, 0.001, 0.01, 0.05)))
            if not kiosk.running:
                tail = kiosk.drawn[-20000:].decode(errors="replace")
                raise AssertionError(f"kiosk run ended ({kiosk.process.returncode}) after {sent} fuzzed bytes:\n{tail}")
        kiosk.type(b"\x1b[201~\x1b\x1b")  # end a paste the fuzz may have begun
        after_fuzz = len(kiosk.drawn)
        os.write(master_serial, QUEUE[0].person_id.encode() + b"\r")
        # Still scanning: the serial scan reaches the journal on disk (the app may still be working through a
        # backlog of fuzzed keys on a loaded machine, so the wait is long; it ends as soon as the line is there).
        journal = tmp_path / "data" / "journal.jsonl"
        deadline = time.monotonic() + 4 * WAIT
        while QUEUE[0].person_id.encode() not in journal.read_bytes():
            assert kiosk.running, f"kiosk run ended ({kiosk.process.returncode}) after the fuzz"
            assert time.monotonic() < deadline, "the serial scan after the fuzz was never recorded"
            time.sleep(0.05)
        # Still drawing: the verdict reaches the terminal (a blank screen that records scans is no gate).
        kiosk.wait_drawn(mask_id(QUEUE[0].person_id), "the verdict of the serial scan after the fuzz", after_fuzz)
        assert kiosk.running
    finally:
        kiosk.stop()
    assert QUEUE[0].person_id in {e.person_id for e in stored(tmp_path)}

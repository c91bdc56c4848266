"""`kiosk run` in a real terminal (tmux), fed by a serial scanner on a pty and by keys typed into the terminal."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from qrscreen import decode_screen
from servers import require_tool
from tmux_terminal import Terminal

from kiosk.domain.models import Method, Notice, Person, Role, Verdict
from kiosk.domain.pins import hash_pin
from storage.entries import EntryStore
from storage.notices import NoticeStore
from storage.roster import RosterStore

PIN = "1357"
WAIT = 15.0
"""Generous bound for a cold start on a loaded 2-core machine."""


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


def test_kiosk_run_in_tmux_takes_serial_and_typed_scans(tmp_path: Path, scanner_pty: tuple[int, str]) -> None:
    tmux = require_tool("tmux")
    master, port = scanner_pty
    (tmp_path / "kiosk.toml").write_text(
        f'[station]\nid = "tmux-01"\n[scanner]\nport = "{port}"\n[storage]\ndata_dir = "data"\n'
        f'[[security.duty]]\nstaff_id = "T1001"\nname = "王老师"\npin_hash = "{hash_pin(PIN)}"\n',
        encoding="utf-8",
    )
    RosterStore(tmp_path / "data").replace_all([Person("2023000101", "张小三", Role.STUDENT, return_approved=True)])
    kiosk = Path(sys.executable).with_name("kiosk")
    rc_file = tmp_path / "rc"
    command = f"{kiosk} run --config {tmp_path / 'kiosk.toml'}; echo $? > {rc_file}"
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_ALLOW_SIGNALS"}
    env |= {"TERM": "xterm-256color", "TMUX_TMPDIR": str(tmp_path)}  # the server's socket goes with tmp_path
    terminal = Terminal(tmux, command, env)
    try:
        terminal.wait_for(lambda s: "请刷卡" in s and "读卡器已连接" in s, "the gate with its reader connected")

        os.write(master, b"2023000101\r")
        shown = terminal.wait_for(lambda s: "准予通行" in s, "the admitted verdict")
        assert "张*三" in shown and "2023****01" in shown and "2023000101" not in shown

        terminal.keys("99999999", "Enter")
        shown = terminal.wait_for(lambda s: "禁止通行" in s, "the denied verdict")
        assert "9999**99" in shown and "99999999" not in shown

        os.write(master, b"\x1b[2J\xff\xfe\r")
        terminal.wait_for(lambda s: "无法识别的卡号" in s, "the rejection of garbage from the reader")

        terminal.keys("C-c", "C-q", "C-z", "C-\\")
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
        terminal.kill()

    store = EntryStore(tmp_path / "data")
    try:
        entries = [e for day in store.days() for e in store.entries_of_day(day)]
        audit = [r["kind"] for day in store.days() for r in store.audit_of_day(day)]
    finally:
        store.close()
    assert [(e.person_id, e.method, e.verdict) for e in entries] == [
        ("2023000101", Method.SERIAL_SCAN, Verdict.ADMITTED),
        ("99999999", Method.KEYBOARD_SCAN, Verdict.DENIED),
    ]
    assert "scan_rejected" in audit


@pytest.fixture
def silent_center() -> Iterator[tuple[str, threading.Event]]:
    """(url, accepted) of a center on loopback that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return
            accepted.set()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    finally:
        server.close()
        for connection in held:
            connection.close()


def test_quitting_does_not_wait_for_a_silent_center(
    tmp_path: Path, silent_center: tuple[str, threading.Event]
) -> None:
    tmux = require_tool("tmux")
    url, accepted = silent_center
    token = tmp_path / "token"
    token.write_text("secret-token\n", encoding="utf-8")
    token.chmod(0o600)
    (tmp_path / "kiosk.toml").write_text(
        f'[station]\nid = "tmux-02"\n[storage]\ndata_dir = "data"\n'
        f'[center]\nurl = "{url}"\ntoken_file = "token"\ntimeout = 600\n'
        f'[[security.duty]]\nstaff_id = "T1001"\nname = "王老师"\npin_hash = "{hash_pin(PIN)}"\n',
        encoding="utf-8",
    )
    kiosk = Path(sys.executable).with_name("kiosk")
    rc_file = tmp_path / "rc"
    command = f"{kiosk} run --config {tmp_path / 'kiosk.toml'}; echo $? > {rc_file}"
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_ALLOW_SIGNALS"}
    env |= {"TERM": "xterm-256color", "TMUX_TMPDIR": str(tmp_path)}
    terminal = Terminal(tmux, command, env)
    try:
        terminal.wait_for(lambda s: "请刷卡" in s, "the gate")
        assert accepted.wait(WAIT), "the kiosk never called the center"
        terminal.keys("F12")
        terminal.wait_for(lambda s: "退出程序" in s, "the duty menu")
        terminal.keys("Tab", "Enter")
        terminal.wait_for(lambda s: "输入值班 PIN" in s, "the exit dialog")
        terminal.type_as_person(PIN)
        # The center's timeout (600 s) is far beyond WAIT: the kiosk exits within WAIT only if quitting does not
        # wait for the hung request. How fast it exits is for a benchmark, not a test.
        deadline = time.monotonic() + WAIT
        while not rc_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rc_file.exists(), "the kiosk did not exit while a sync request hung"
        assert rc_file.read_text().strip() == "0"
    finally:
        terminal.kill()


def test_the_notice_code_in_a_real_terminal_decodes_to_its_url(tmp_path: Path) -> None:
    """What a phone sees: the gate's QR code read back from tmux's screen (plain text, no colours)."""
    tmux = require_tool("tmux")
    url = "https://news.bnu.edu.cn/zx/ttgz/2020-01-31/letter.html"
    (tmp_path / "kiosk.toml").write_text(
        f'[station]\nid = "tmux-qr"\n[storage]\ndata_dir = "data"\n'
        f'[[security.duty]]\nstaff_id = "T1001"\nname = "王老师"\npin_hash = "{hash_pin(PIN)}"\n',
        encoding="utf-8",
    )
    NoticeStore(tmp_path / "data").add(
        Notice("n1", "致全校党(团)组织和全体党(团)员、干部的一封信", url, "2020-01-31T12:00:00+08:00", "党委宣传部")
    )
    kiosk = Path(sys.executable).with_name("kiosk")
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_ALLOW_SIGNALS"}
    env |= {"TERM": "xterm-256color", "TMUX_TMPDIR": str(tmp_path)}
    terminal = Terminal(tmux, f"{kiosk} run --config {tmp_path / 'kiosk.toml'}", env)
    try:
        terminal.wait_for(lambda s: decode_screen(s.splitlines()) == url, "a notice code that decodes to its URL")
    finally:
        terminal.kill()

"""Every verdict reaches the terminal: scans read closer together than a frame each get their verdict painted.

`kiosk run` on a real pty, its reader on another: three cards in one burst of bytes from the reader (two readers
at one gate, or a queue at a fast reader), and the screen's bytes read back. The verdict panel names its person as
"name  ID" (two spaces; the recent list uses one), so each must appear there, not only in the recent list.
"""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
import time
import tty
from pathlib import Path

from kiosk.domain.models import Person, Role
from kiosk.domain.pins import hash_pin
from kiosk.domain.privacy import mask_id, mask_name
from storage.roster import RosterStore

KIOSK = Path(sys.executable).with_name("kiosk")
WAIT = 20.0
BURST = [
    Person("2023100111", "甲乙丙", Role.STUDENT, return_approved=True),
    Person("2024200222", "丁戊己", Role.STUDENT, return_approved=False),
    Person("2025300333", "庚辛壬", Role.STAFF, return_approved=True),
]


def test_each_verdict_of_a_burst_of_scans_is_painted(tmp_path: Path) -> None:
    RosterStore(tmp_path / "data").replace_all(BURST)
    reader, reader_slave = os.openpty()
    tty.setraw(reader)
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[station]\nid = "burst-01"\n[scanner]\nport = "{os.ttyname(reader_slave)}"\n[storage]\ndata_dir = "data"\n'
        f'[[security.duty]]\nstaff_id = "T1001"\nname = "王老师"\npin_hash = "{hash_pin("135790")}"\n',
        encoding="utf-8",
    )
    screen, screen_slave = os.openpty()
    fcntl.ioctl(screen_slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_ALLOW_SIGNALS"} | {"TERM": "xterm-256color"}
    process = subprocess.Popen(
        [str(KIOSK), "run", "--config", str(config)],
        stdin=screen_slave,
        stdout=screen_slave,
        stderr=screen_slave,
        env=env,
        start_new_session=True,
    )
    os.close(screen_slave)
    output = bytearray()

    def read_until(wanted: bytes, what: str) -> None:
        deadline = time.monotonic() + WAIT
        while wanted not in output:
            assert process.poll() is None, f"kiosk run ended ({process.returncode}) waiting for {what}"
            assert time.monotonic() < deadline, f"{what} never appeared"
            try:
                output.extend(os.read(screen, 65536))
            except BlockingIOError:
                time.sleep(0.01)

    os.set_blocking(screen, False)
    try:
        read_until("读卡器已连接".encode(), "the gate with its reader connected")
        time.sleep(1.0)  # the roster and today's counts are in
        read_until("请刷卡".encode(), "the prompt")
        start = len(output)
        os.write(reader, b"".join(p.person_id.encode() + b"\r" for p in BURST))
        panels = [f"{mask_name(p.name)}  {mask_id(p.person_id)}".encode() for p in BURST]
        read_until(panels[-1], "the last verdict")
        painted = bytes(output[start:])
        assert [p.person_id for p, panel in zip(BURST, panels, strict=True) if panel not in painted] == []
    finally:
        process.terminate()
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for fd in (screen, reader, reader_slave):
            os.close(fd)

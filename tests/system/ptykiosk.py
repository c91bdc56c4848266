"""`kiosk run` on a real pseudo-terminal (120×40), the bytes it draws collected by a thread as they come."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

KIOSK = Path(sys.executable).with_name("kiosk")
WAIT = 15.0


class PtyKiosk:
    """The process, what it has drawn so far (`drawn`), and keys typed at its terminal (`type`)."""

    def __init__(self, config: Path, rows: int = 40, columns: int = 120) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_ALLOW_SIGNALS"} | {"TERM": "xterm-256color"}
        self.process = subprocess.Popen(
            [str(KIOSK), "run", "--config", str(config)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self._output = bytearray()
        self._lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._output.extend(chunk)

    @property
    def drawn(self) -> bytes:
        with self._lock:
            return bytes(self._output)

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait_drawn(self, text: str, what: str, since: int = 0, seconds: float = WAIT) -> None:
        """Until `text` is among the bytes drawn after the first `since`; fails if the kiosk ends first."""
        deadline = time.monotonic() + seconds
        while text.encode() not in self.drawn[since:]:
            assert self.running, f"kiosk run ended ({self.process.returncode}) waiting for {what}"
            assert time.monotonic() < deadline, f"{what} never appeared"
            time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.master)

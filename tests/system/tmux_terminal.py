"""A real terminal for system tests: one tmux server on its own socket, running one command."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable


class Terminal:
    """A 120×40 tmux window running `command`; read with `screen`, type with `keys`."""

    def __init__(self, tmux: str, command: str, env: dict[str, str], wait: float = 15.0) -> None:
        self.base = [tmux, "-L", f"kiosk-test-{uuid.uuid4().hex[:12]}"]
        self.env = env
        self.wait = wait
        """Seconds `wait_for` allows: generous, for a cold start on a loaded 2-core machine."""
        subprocess.run([*self.base, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40", command],
                       check=True, env=env)

    def screen(self) -> str:
        return subprocess.run([*self.base, "capture-pane", "-p"], capture_output=True, text=True, env=self.env).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", *keys], check=True, env=self.env)

    def type_as_person(self, text: str, gap: float = 0.1) -> None:
        """`text` and Enter, a key at a time with a person's gap (a burst ending in Enter is a wedge scan)."""
        for key in [*text, "Enter"]:
            self.keys(key)
            time.sleep(gap)

    def wait_for(self, test: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + self.wait
        while True:
            shown = self.screen()
            if test(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} never appeared; the screen:\n{shown}")
            time.sleep(0.05)

    def kill(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True, env=self.env)

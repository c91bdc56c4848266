"""A serial card scanner for demos: a pseudo-terminal whose far end types a realistic stream of scans.

    with ScannerSimulator(roster_ids, seed=7, rate=0.5) as simulator:
        config = replace(config, scanner=replace(config.scanner, port=simulator.path))
        ...  # run the kiosk; its SerialReader opens simulator.path like a real device

Mostly roster IDs, some unknown IDs, now and then a garbage line, with CR, LF or CRLF endings and some
lines written in two parts, as real readers do. The same seed gives the same stream.
"""

from __future__ import annotations

import os
import random
import threading
import tty
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

GARBAGE: tuple[bytes, ...] = (
    b"\xff\xfe\x00\x01",
    b"2023\x00000101",
    b"\x1b[A\x1b[B",
    "张三".encode(),
    b"12",
    b"9" * 200,
)
"""Lines a worn card, a bad cable or a misconfigured reader produce."""


class ScanKind(StrEnum):
    ROSTER = "roster"
    UNKNOWN = "unknown"
    GARBAGE = "garbage"


@dataclass(frozen=True, slots=True)
class SimulatedScan:
    """One line the simulated reader sends, and how it is written to the wire."""

    kind: ScanKind
    line: bytes
    """The line without its terminator."""
    writes: tuple[bytes, ...]
    """The line and its terminator as separate writes (two when the line is split)."""


def scan_stream(
    person_ids: Sequence[str],
    seed: int,
    *,
    unknown_share: float = 0.15,
    garbage_share: float = 0.05,
    split_share: float = 0.2,
) -> Iterator[SimulatedScan]:
    """An endless, seeded stream of scans: roster IDs unless a draw picks an unknown ID or garbage."""
    rng = random.Random(seed)
    known = set(person_ids)
    while True:
        draw = rng.random()
        if draw < garbage_share:
            kind, line = ScanKind.GARBAGE, rng.choice(GARBAGE)
        elif draw < garbage_share + unknown_share or not person_ids:
            kind, line = ScanKind.UNKNOWN, _unknown_id(rng, known).encode()
        else:
            kind, line = ScanKind.ROSTER, rng.choice(person_ids).encode()
        wire = line + rng.choice((b"\r", b"\r", b"\r\n", b"\n"))
        if rng.random() < split_share:
            cut = rng.randint(1, len(wire) - 1)
            writes: tuple[bytes, ...] = (wire[:cut], wire[cut:])
        else:
            writes = (wire,)
        yield SimulatedScan(kind, line, writes)


def _unknown_id(rng: random.Random, known: set[str]) -> str:
    while True:
        candidate = f"2099{rng.randrange(10**6):06d}"
        if candidate not in known:
            return candidate


class ScannerSimulator:
    """A pty pair; `path` is the device to configure as `[scanner] port`, a thread writes scans to the other end."""

    def __init__(
        self,
        person_ids: Sequence[str],
        *,
        seed: int = 0,
        rate: float = 1.0,
        limit: int | None = None,
        split_pause: float = 0.02,
        **shares: float,
    ) -> None:
        """`rate` is scans per second; `limit` stops after that many; `shares` go to `scan_stream`."""
        self._stream = scan_stream(person_ids, seed, **shares)
        self.interval = 1.0 / rate
        self.limit = limit
        self.split_pause = split_pause
        self.sent: list[SimulatedScan] = []
        """Every scan written so far, in order (for tests and the demo's log)."""
        self._master, self._slave = os.openpty()
        # Raw mode from the start: no echo back to the master (nobody reads it) and no CR to LF translation.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write_scans, name="scanner-simulator", daemon=True)

    def start(self) -> ScannerSimulator:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop writing and close the pty pair (the reader then sees the device go away)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass  # already closed
        self._master = self._slave = -1

    @property
    def finished(self) -> bool:
        """True once `limit` scans have been written or the simulator was stopped."""
        return self._thread.ident is not None and not self._thread.is_alive()

    def __enter__(self) -> ScannerSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _write_scans(self) -> None:
        for scan in self._stream:
            if self._stop.wait(self.interval):
                return
            for index, part in enumerate(scan.writes):
                if index and self._stop.wait(self.split_pause):
                    return
                self._write(part)
            self.sent.append(scan)
            if self.limit is not None and len(self.sent) >= self.limit:
                return

    def _write(self, data: bytes) -> None:
        try:
            os.write(self._master, data)
        except BlockingIOError:
            pass  # nobody has read for a long while and the pty is full: the scan is lost, as on a real wire

"""Card scanners: bytes from a serial reader or keys from a keyboard-wedge reader, into scans or rejections.

Nothing here imports Textual. `SerialReader.run` is a blocking loop meant for a thread worker; it only calls
the callbacks it was given, so the App turns them into messages (`post_message` is thread-safe)::

    @work(thread=True, exclusive=True, group="scanner", exit_on_error=False)
    def read_scans(self) -> None:
        worker = get_current_worker()
        self.reader.run(should_stop=lambda: worker.is_cancelled)

    reader = SerialReader.from_config(
        config.scanner,
        on_scan=lambda scan: app.post_message(BadgeScanned(scan)),
        on_rejected=lambda rejected: app.post_message(ScanRejected(rejected)),
        on_status=lambda status, detail: app.post_message(ScannerStatusChanged(status, detail)),
    )

(the message names are the App's to choose). Cancelling the worker ends `run` within one read timeout;
`reader.stop()` also wakes a read in progress, so call it when the App quits. I/O errors never leave `run`: they
show up as `on_status("reconnecting", detail)` and the reader reopens the port with capped exponential
backoff. Exceptions raised by the callbacks are programming errors and do propagate, so the worker's failure
handler sees them.

A keyboard-wedge reader types into the focused widget instead. The gate screen feeds every key to a
`KeyboardWedge` with the time the key event was created (Textual's `event.time`, a monotonic clock, so a busy
event loop does not make typing look fast) and parses what it returns::

    def on_key(self, event: events.Key) -> None:
        typed = self.wedge.feed(event.character or "", event.time)
        if typed is not None:
            result = parse_scan(typed.text.encode(), pattern, max_line, method=typed.method)
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import serial

from kiosk.domain.config import ScannerConfig
from kiosk.domain.i18n import Language, t
from kiosk.domain.models import Method

_TERMINATOR = re.compile(rb"[\r\n]")
_AUDIT_BYTES = 48
"""How many raw bytes of a rejected line are kept, escaped, for the audit record."""


class LineFramer:
    """Cuts a byte stream, fed in chunks of any size, into lines ended by CR, LF or CRLF.

    Empty lines are dropped, which is also what keeps CRLF (even split across two reads) from yielding an
    extra empty line. A line longer than `max_line` comes out at once as its first `max_line + 1` bytes, so
    that `parse_scan` rejects it as too long; the rest of it, up to the next terminator, is discarded.
    """

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._partial = bytearray()
        self._discarding = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines that `chunk` completes, in order."""
        lines: list[bytes] = []
        for index, part in enumerate(_TERMINATOR.split(chunk)):
            if index:
                self._end_line(lines)
            self._append(part, lines)
        return lines

    def flush(self) -> list[bytes]:
        """End the current line as if a terminator had come: its bytes, if it has any not yet reported."""
        lines: list[bytes] = []
        self._end_line(lines)
        return lines

    @property
    def pending(self) -> int:
        """Bytes held for a line that has not ended yet."""
        return len(self._partial)

    @property
    def in_line(self) -> bool:
        """True between the first byte of a line (reported or not) and its terminator."""
        return bool(self._partial) or self._discarding

    def _append(self, part: bytes, lines: list[bytes]) -> None:
        if self._discarding or not part:
            return
        self._partial += part
        if len(self._partial) > self.max_line:
            lines.append(bytes(self._partial[: self.max_line + 1]))
            self._partial.clear()
            self._discarding = True

    def _end_line(self, lines: list[bytes]) -> None:
        if self._partial:
            lines.append(bytes(self._partial))
            self._partial.clear()
        self._discarding = False


class RejectReason(StrEnum):
    """Why a line from a scanner is not a card number."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_UTF8 = "not_utf8"
    CONTROL = "control"
    PATTERN = "pattern"


@dataclass(frozen=True, slots=True)
class Scanned:
    """A card number read from a scanner."""

    person_id: str
    method: Method
    """SERIAL_SCAN or KEYBOARD_SCAN (or TYPED when the app takes a slowly typed number)."""
    monotonic: float
    """time.monotonic() when the line was complete."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A line that is not a card number; `shown` is safe to log, the raw bytes are never kept."""

    reason: RejectReason
    shown: str
    """The first bytes of the line, printable ASCII kept and every other byte as \\xNN, for the audit record."""
    length: int
    """Length of the line in bytes (at most max_line + 1 for an overlong line cut by the framer)."""
    method: Method
    monotonic: float

    def message(self, language: Language | None = None) -> str:
        """What the gate shows: in one language, or both when `language` is None."""
        if language is None:
            return f"{self.message('zh')} / {self.message('en')}"
        template = "{0}({1})" if language == "zh" else "{0} ({1})"
        return template.format(t("scan.rejected", language), t(f"scan.rejected.{self.reason}", language))


def escape_for_audit(raw: bytes, limit: int = _AUDIT_BYTES) -> str:
    """Printable ASCII as is, any other byte (and the backslash) as \\xNN; cut to `limit` bytes with a mark."""
    shown = "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in raw[:limit])
    return shown + (f"…(+{len(raw) - limit})" if len(raw) > limit else "")


def parse_scan(
    raw: bytes,
    pattern: str | re.Pattern[str],
    max_len: int,
    *,
    method: Method = Method.SERIAL_SCAN,
    now: float | None = None,
) -> Scanned | Rejected:
    """A card number from one line of scanner output, or why it is not one."""
    at = time.monotonic() if now is None else now

    def reject(reason: RejectReason) -> Rejected:
        return Rejected(reason, escape_for_audit(raw), len(raw), method, at)

    if len(raw) > max_len:
        return reject(RejectReason.TOO_LONG)
    stripped = raw.strip()
    if not stripped:
        return reject(RejectReason.EMPTY)
    if any(b < 0x20 or b == 0x7F for b in stripped):
        return reject(RejectReason.CONTROL)
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        return reject(RejectReason.NOT_UTF8)
    # C1 controls, bidi overrides and zero-width characters are valid UTF-8 but could disguise a number.
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in text):
        return reject(RejectReason.CONTROL)
    if re.fullmatch(pattern, text) is None:
        return reject(RejectReason.PATTERN)
    return Scanned(text, method, at)


class ScannerStatus(StrEnum):
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"


StatusCallback = Callable[[ScannerStatus, str], None]


class SerialReader:
    """Reads scans from a serial port or pyserial URL until stopped, reopening it whenever it is lost.

    `detail` in status callbacks is technical (the port and the OS error) for the log; screens show the
    catalog texts `scanner.connected` / `scanner.reconnecting`.
    """

    def __init__(
        self,
        port: str,
        *,
        on_scan: Callable[[Scanned], None],
        on_rejected: Callable[[Rejected], None],
        on_status: StatusCallback,
        baudrate: int = 9600,
        id_pattern: str = r"^[0-9A-Za-z]{4,20}$",
        max_line: int = 64,
        read_timeout: float = 0.1,
        line_timeout: float = 0.5,
        backoff: tuple[float, float] = (0.2, 5.0),
    ) -> None:
        """`line_timeout`: seconds of silence after which an unterminated line is taken as ended."""
        self.port = port
        self.baudrate = baudrate
        self.pattern = re.compile(id_pattern)
        self.max_line = max_line
        self.read_timeout = read_timeout
        self.line_timeout = line_timeout
        self.min_backoff, self.max_backoff = backoff
        self._on_scan = on_scan
        self._on_rejected = on_rejected
        self._on_status = on_status
        self._stop = threading.Event()
        # stop() may run in another thread while run() closes the port; pyserial's close is not safe against
        # a concurrent cancel_read (it frees the abort pipe first), so both happen under this lock.
        self._port_lock = threading.Lock()
        self._serial: serial.SerialBase | None = None
        self.status: ScannerStatus | None = None

    @classmethod
    def from_config(
        cls,
        config: ScannerConfig,
        *,
        on_scan: Callable[[Scanned], None],
        on_rejected: Callable[[Rejected], None],
        on_status: StatusCallback,
    ) -> SerialReader:
        """A reader for `[scanner]`; only for a configured port (with `port = ""` there is no serial reader)."""
        return cls(
            config.port,
            on_scan=on_scan,
            on_rejected=on_rejected,
            on_status=on_status,
            baudrate=config.baudrate,
            id_pattern=config.id_pattern,
            max_line=config.max_line,
        )

    def stop(self) -> None:
        """Ask `run` to return; safe from any thread, and wakes a read in progress."""
        self._stop.set()
        with self._port_lock:
            cancel = getattr(self._serial, "cancel_read", None)
            if cancel is not None:
                try:
                    cancel()
                except OSError:
                    pass  # the device went away at this moment: the read ends on its own

    def run(self, should_stop: Callable[[], bool] | None = None) -> None:
        """Read until `stop()` is called or `should_stop()` turns true; never raises for I/O errors."""

        def stopping() -> bool:
            return self._stop.is_set() or (should_stop is not None and should_stop())

        delay = self.min_backoff
        while not stopping():
            try:
                port = serial.serial_for_url(
                    self.port, baudrate=self.baudrate, timeout=self.read_timeout, exclusive=True
                )
            except (OSError, ValueError) as exc:  # SerialException is an OSError; ValueError: a bad URL
                self._report(ScannerStatus.RECONNECTING, f"{self.port}: {exc}")
            else:
                opened_at = time.monotonic()
                self._serial = port
                self._report(ScannerStatus.CONNECTED, self.port)
                try:
                    self._read_until_lost(port, stopping)
                except OSError as exc:
                    self._report(ScannerStatus.RECONNECTING, f"{self.port}: {exc}")
                finally:
                    with self._port_lock:
                        self._serial = None
                        self._close(port)
                if time.monotonic() - opened_at >= self.max_backoff:
                    delay = self.min_backoff
            if self._pause(delay, stopping):
                delay = min(delay * 2, self.max_backoff)

    def _read_until_lost(self, port: serial.SerialBase, stopping: Callable[[], bool]) -> None:
        framer = LineFramer(self.max_line)
        last_data = time.monotonic()
        while not stopping():
            # Wait for one byte (up to the timeout), then take whatever else has arrived: no added latency.
            chunk = port.read(1)
            if chunk and port.in_waiting:
                chunk += port.read(min(port.in_waiting, 4096))
            now = time.monotonic()
            lines: list[bytes] = []
            if framer.in_line and now - last_data >= self.line_timeout:
                # A reader sends a whole line within milliseconds. Leftovers (a stray byte when the cable is
                # plugged in, a reader set up without a suffix) must not be glued to the next person's scan.
                lines = framer.flush()
            if chunk:
                last_data = now
                lines += framer.feed(chunk)
            for line in lines:
                result = parse_scan(line, self.pattern, self.max_line)
                if isinstance(result, Scanned):
                    self._on_scan(result)
                else:
                    self._on_rejected(result)

    def _pause(self, seconds: float, stopping: Callable[[], bool]) -> bool:
        """Wait `seconds`, checking for a stop every read timeout; False if stopped."""
        deadline = time.monotonic() + seconds
        while not stopping():
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            self._stop.wait(min(left, self.read_timeout))
        return False

    def _report(self, status: ScannerStatus, detail: str) -> None:
        if status != self.status:
            self.status = status
            self._on_status(status, detail)

    @staticmethod
    def _close(port: serial.SerialBase) -> None:
        try:
            port.close()
        except OSError:
            pass  # the device is already gone; nothing left to release


@dataclass(frozen=True, slots=True)
class WedgeEvent:
    """What a keyboard-wedge reader (or a person) typed before Enter."""

    text: str
    from_scanner: bool
    """True when the characters came as one fast burst, as a scanner types; False for human typing."""

    @property
    def method(self) -> Method:
        return Method.KEYBOARD_SCAN if self.from_scanner else Method.TYPED


class KeyboardWedge:
    """Tells a keyboard-wedge scanner's burst from human typing, by the gaps between keys.

    Feed every character with its time.monotonic(); Enter ("\\r" or "\\n") returns the event. Only the
    fast burst just before Enter counts as a scan, so a stray key pressed earlier does not spoil it.
    """

    def __init__(self, max_gap: float = 0.05, min_length: int = 4, max_length: int = 64) -> None:
        self.max_gap = max_gap
        self.min_length = min_length
        self.max_length = max_length
        self._typed: list[str] = []
        self._burst_start = 0
        self._last_at: float | None = None

    def feed(self, character: str, at: float) -> WedgeEvent | None:
        """An event when `character` is Enter and something was typed; None otherwise."""
        fast = self._last_at is not None and at - self._last_at <= self.max_gap
        self._last_at = at
        if character in ("\r", "\n"):
            return self._finish(fast)
        if len(character) != 1 or not character.isprintable():
            return None
        if not fast:
            self._burst_start = len(self._typed)
        # Beyond max_length the text is rejected as too long anyway; keeping one extra character marks it so.
        if len(self._typed) <= self.max_length:
            self._typed.append(character)
        return None

    def _finish(self, fast_enter: bool) -> WedgeEvent | None:
        typed, burst = "".join(self._typed), "".join(self._typed[self._burst_start :])
        self._typed.clear()
        self._burst_start = 0
        self._last_at = None
        if not typed:
            return None
        if fast_enter and len(burst) >= self.min_length:
            return WedgeEvent(burst, from_scanner=True)
        return WedgeEvent(typed, from_scanner=False)

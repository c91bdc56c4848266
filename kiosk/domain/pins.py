"""Duty-staff PINs: salted scrypt hashes, checked in constant time. A plain PIN is never stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1
_PREFIX = "scrypt"


def hash_pin(pin: str) -> str:
    """A string safe to put in kiosk.toml: scrypt$N$r$p$salt$digest."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join([_PREFIX, str(_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def verify_pin(pin: str, pin_hash: str) -> bool:
    """True when `pin` matches `pin_hash`; False for any malformed hash."""
    try:
        prefix, n, r, p, salt, digest = pin_hash.split("$")
        if prefix != _PREFIX:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


MIN_PIN_LENGTH = 6
"""A 4-digit PIN is guessed in minutes even with delays; `kiosk hash-pin` refuses shorter ones."""
SAMPLE_PIN = "20200131"
"""The PIN of the sample kiosk.toml's duty officer: `kiosk check-config` says when it is still in use."""


class PinGuard:
    """Wrong PINs cost time: after `free` wrong attempts each further one waits twice as long as the last, and
    after `lock_after` in a row the PIN actions are locked for `lockout` seconds. A right PIN starts afresh.

    Pure logic on a monotonic time the caller passes, so that it is tested without waiting.
    """

    def __init__(self, free: int = 3, first_delay: float = 2.0, lock_after: int = 8, lockout: float = 300.0) -> None:
        self.free = free
        self.first_delay = first_delay
        self.lock_after = lock_after
        self.lockout = lockout
        self.failures = 0
        self._not_before = 0.0
        self._locked_until = 0.0

    def wait(self, now: float) -> float:
        """Seconds before the next attempt may be checked (0: now)."""
        return max(0.0, self._not_before - now, self._locked_until - now)

    def locked(self, now: float) -> bool:
        """Inside a lockout (not merely a delay)."""
        return now < self._locked_until

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.failures >= self.lock_after:
            self._locked_until = now + self.lockout
            self.failures = 0
        elif self.failures >= self.free:
            self._not_before = now + self.first_delay * 2 ** (self.failures - self.free)

    def succeeded(self) -> None:
        self.failures = 0
        self._not_before = 0.0


def is_pin_hash(text: str) -> bool:
    parts = text.split("$")
    return len(parts) == 6 and parts[0] == _PREFIX and all(parts[1:])


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")

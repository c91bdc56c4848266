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


def is_pin_hash(text: str) -> bool:
    parts = text.split("$")
    return len(parts) == 6 and parts[0] == _PREFIX and all(parts[1:])


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")

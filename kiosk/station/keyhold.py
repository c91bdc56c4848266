"""Tells a keyboard-wedge scanner's burst from an officer's typing while a staff screen or dialog has the keys.

A wedge scanner types a whole card number and Enter within a few milliseconds per key; people leave tens of
milliseconds or more between keys. Each character is held for `max_gap`: if the next one comes sooner it joins
the run; if Enter ends a fast run of at least `min_length`, the run is a scan and never reaches the form; else
the held keys are released to the form in order, so nothing the officer typed is lost.
"""

from __future__ import annotations

from typing import Generic, TypeVar

Key = TypeVar("Key")


class BurstHold(Generic[Key]):
    """Holds keys (any objects, with their character and time) until they are known to be typing or a scan."""

    def __init__(self, max_gap: float = 0.05, min_length: int = 4) -> None:
        self.max_gap = max_gap
        self.min_length = min_length
        self._held: list[tuple[Key, str]] = []
        self._last_at = 0.0

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def add(self, key: Key, character: str, at: float) -> list[Key]:
        """Hold `key`; returns the keys to release before it (the held run, when this key is too late to join)."""
        released = self.release() if self._held and at - self._last_at > self.max_gap else []
        self._held.append((key, character))
        self._last_at = at
        return released

    def enter(self, at: float) -> str | None:
        """Enter at `at`: the scanned text when it ends a fast run, else None (release the run, then the Enter)."""
        if self._held and at - self._last_at <= self.max_gap and len(self._held) >= self.min_length:
            text = "".join(character for _, character in self._held)
            self._held.clear()
            return text
        return None

    def release(self) -> list[Key]:
        """Every held key, oldest first: they were typed by a person."""
        keys = [key for key, _ in self._held]
        self._held.clear()
        return keys

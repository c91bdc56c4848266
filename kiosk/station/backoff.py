"""Waiting between retries when the center is unreachable."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Full-jitter exponential backoff (AWS blog, "Exponential Backoff And Jitter").

    After the n-th failure in a row the wait is uniform in [0, min(cap, base * 2**n)): stations that lost the
    center together do not come back together.
    """

    def __init__(self, base: float = 1.0, cap: float = 300.0, rand: Callable[[], float] = random.random) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        """Failures since the last success."""
        self._rand = rand

    def failed(self) -> float:
        """Count a failure; return how long to wait before the next attempt, in seconds."""
        ceiling = self.cap if self.failures >= 64 else min(self.cap, self.base * 2**self.failures)
        self.failures += 1
        return self._rand() * ceiling

    def succeeded(self) -> None:
        self.failures = 0

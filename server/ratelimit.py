"""Rate limits: messages per connection, and failed join or key attempts per client address."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Allows `rate` events a second on average, with bursts of up to `burst`."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = burst
        self.updated = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class FailureLimiter:
    """Blocks an address after `limit` failed attempts within `window` seconds.

    Card tokens have 128 random bits, so guessing is hopeless anyway; this keeps a script on
    the venue Wi-Fi from hammering the server and Redis with guesses.
    """

    def __init__(self, limit: int = 20, window: float = 60.0, clock=time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, list[float]] = {}

    def _recent(self, address: str) -> list[float]:
        cutoff = self.clock() - self.window
        recent = [t for t in self._failures.get(address, []) if t > cutoff]
        if recent:
            self._failures[address] = recent
        else:
            self._failures.pop(address, None)
        return recent

    def blocked(self, address: str) -> bool:
        return len(self._recent(address)) >= self.limit

    def record(self, address: str) -> None:
        self._recent(address)
        self._failures.setdefault(address, []).append(self.clock())

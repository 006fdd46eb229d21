"""Limits on what a client may send: one connection's, or a budget that
several connections share (engagement.services keeps one per user and tweet
for typing)."""

import time


class RateLimit:
    """A token bucket: `rate` events per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._updated = time.monotonic()

    def allow(self) -> bool:
        """Take one token if there is one; return whether the event may proceed."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

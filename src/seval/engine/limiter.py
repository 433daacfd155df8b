"""Per-model concurrency that adapts to the server, the way TCP adapts to a network.

It starts below the configured ceiling and grows by one slot per success until the ceiling or the first
rate limit (slow start); after a 429 it halves and then grows by about one slot per window of successes
(additive increase). A Retry-After pauses all new requests to that model, because every request sent
during the pause would only be rejected again and counted against the quota.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class AdaptiveLimiter:
    def __init__(self, ceiling: int, *, initial: int | None = None) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = float(min(self.ceiling, initial if initial is not None else max(8, self.ceiling // 4)))
        self.in_flight = 0
        self.slow_start = True
        self.paused_until = 0.0
        self.rate_limited = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        while True:
            delay = self.paused_until - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            if self.in_flight < int(self.limit):
                self.in_flight += 1
                return
            # Woken waiters re-check pause and capacity rather than being handed a slot, so a slot is
            # never held by a task that is asleep.
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            finally:
                if not fut.done():
                    fut.cancel()
                if fut in self._waiters:
                    self._waiters.remove(fut)

    def release(self, *, success: bool) -> None:
        self.in_flight -= 1
        if success:
            if self.slow_start:
                self.limit = min(self.ceiling, self.limit + 1)
            else:
                self.limit = min(self.ceiling, self.limit + 1.0 / self.limit)
        self._wake()

    def on_rate_limited(self, retry_after: float | None) -> None:
        self.rate_limited += 1
        self.slow_start = False
        self.limit = max(1.0, self.limit / 2)
        if retry_after:
            self.paused_until = max(self.paused_until, time.monotonic() + retry_after)

    def _wake(self) -> None:
        free = int(self.limit) - self.in_flight
        while self._waiters and free > 0:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                free -= 1

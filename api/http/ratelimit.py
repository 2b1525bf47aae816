"""Per-key token buckets: per API client, for anonymous callers, per holder DID.

Each key has a bucket of ``burst`` tokens refilled at ``rate`` tokens a second;
a request takes one token or is refused with the seconds to wait
(``Retry-After``).

*Per process.* Buckets live in the worker's memory, so N workers behind one
port allow up to N times the configured rate to a client that spreads its
requests over them. A store-backed bucket would cost a write transaction (an
fsync) per request, more than most requests themselves; the per-process
bound is documented in ``docs/api.md`` instead.

Memory is bounded: at most ``max_keys`` buckets are kept, least recently used
first out. An evicted bucket comes back full, which only matters for keys an
attacker can mint freely (holder DIDs); those are also held to a shared bucket.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter", "RatePolicy", "app_limiter"]


@dataclass(frozen=True)
class RatePolicy:
    """``rate`` tokens a second, at most ``burst`` saved up."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        """Both must be positive."""
        if not (self.rate > 0 and self.burst >= 1):
            raise ValueError("a rate policy needs rate > 0 and burst >= 1")


class RateLimiter:
    """Token buckets keyed by string, thread-safe, bounded in memory."""

    def __init__(
        self,
        policy: RatePolicy,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Buckets following ``policy``; ``clock`` gives seconds (monotonic)."""
        self.policy = policy
        self.max_keys = max_keys
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens from ``key``'s bucket: 0.0 if allowed, else seconds to wait."""
        rate, burst = self.policy.rate, float(self.policy.burst)
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens >= cost:
                tokens -= cost
                wait = 0.0
            else:
                wait = (cost - tokens) / rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        """Number of buckets held."""
        with self._lock:
            return len(self._buckets)


def retry_after(wait: float) -> str:
    """``Retry-After`` header value (whole seconds, at least 1) for ``wait`` seconds."""
    return str(max(1, math.ceil(wait)))


_APP_LIMITERS = threading.Lock()


def app_limiter(state: object, name: str, policy: RatePolicy) -> RateLimiter:
    """The limiter kept as ``state.<name>`` of an app, made under ``policy`` on first use.

    Routes that are not behind the bearer-token limits (the wallet's public routes)
    keep their buckets on the app; a test may put its own limiter there first.
    """
    found = getattr(state, name, None)
    if not isinstance(found, RateLimiter):
        with _APP_LIMITERS:
            found = getattr(state, name, None)
            if not isinstance(found, RateLimiter):
                found = RateLimiter(policy)
                setattr(state, name, found)
    return found

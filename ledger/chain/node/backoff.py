"""Waiting out a chain node that stopped answering: exponential backoff, one log line per change.

A loop that talks to the node (the writer's duties, the index follower) keeps
a ``ChainOutage``. The first ``ChainUnavailableError`` logs one warning
("chain unreachable") and starts a backoff (0.25 s, doubled after each failed
attempt, at most 10 s); attempts in between log nothing; the first success
logs "chain reachable again" with how long the chain was gone. So a node
restarted elsewhere (another province's embedded chain) costs two log lines,
not one warning per tick, and the loop resumes by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ledger.chain.errors import ChainError

__all__ = ["Backoff", "ChainOutage"]

log = logging.getLogger(__name__)


@dataclass
class Backoff:
    """Delays between failing attempts: ``first``, times ``factor`` each time, at most ``cap``."""

    first: float = 0.25
    cap: float = 10.0
    factor: float = 2.0
    failures: int = 0

    def next_delay(self) -> float:
        """Count one more failure; the seconds to wait before the next attempt."""
        delay = min(self.cap, self.first * self.factor**self.failures)
        self.failures += 1
        return delay

    def reset(self) -> None:
        """Start again from ``first`` (after a success)."""
        self.failures = 0


class ChainOutage:
    """Whether the chain answers, as one loop (``name``) finds out, and when to try again.

    ``probe`` (for example ``ChainClient.block_number``) lets ``reachable`` try
    the node itself once a retry is due; without it, the caller's next attempt
    is the probe and it reports ``succeeded`` or ``failed``.
    """

    def __init__(
        self,
        name: str,
        probe: Callable[[], object] | None = None,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Track the chain for the loop ``name``."""
        self.name = name
        self.probe = probe
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.attempts = 0

    @property
    def down(self) -> bool:
        """Whether the last attempt found the chain unreachable."""
        return self.down_since is not None

    def wait(self) -> float:
        """Seconds until the next attempt is due (0 while the chain answers)."""
        return max(0.0, self.retry_at - self.clock()) if self.down else 0.0

    def failed(self, error: ChainError) -> float:
        """Record a failed attempt; returns the seconds to wait before the next one.

        Logs a warning only for the first failure of an outage.
        """
        now = self.clock()
        if self.down_since is None:
            self.down_since = now
            self.attempts = 0
            log.warning(
                "chain unreachable; retrying with backoff",
                extra={"loop": self.name, "reason": str(error)},
            )
        self.attempts += 1
        delay = self.backoff.next_delay()
        self.retry_at = now + delay
        return delay

    def succeeded(self) -> None:
        """Record a successful attempt; logs once if it ends an outage."""
        if self.down_since is not None:
            log.info(
                "chain reachable again",
                extra={
                    "loop": self.name,
                    "down_seconds": round(self.clock() - self.down_since, 1),
                    "attempts": self.attempts,
                },
            )
        self.down_since = None
        self.retry_at = 0.0
        self.backoff.reset()

    def reachable(self) -> bool:
        """Whether the caller should talk to the chain now.

        True while it answers. During an outage: False until the backoff is
        over, then the ``probe`` decides (True when the node answers again;
        without a probe, True: the caller's attempt is the probe).
        """
        if not self.down:
            return True
        if self.wait() > 0:
            return False
        if self.probe is None:
            return True
        try:
            self.probe()
        except ChainError as exc:
            self.failed(exc)
            return False
        self.succeeded()
        return True

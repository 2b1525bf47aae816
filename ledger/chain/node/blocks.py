"""Whether the node has new blocks, as cheaply as the node allows.

A block filter (``eth_newBlockFilter``, then ``eth_getFilterChanges``) answers
"anything new since the last look?" with an empty list when nothing is, and
works over plain HTTP JSON-RPC on ganache, anvil, Besu and geth. A node
without filters, or one that forgot the filter (restarted, or expired it after
minutes without a poll), falls back to comparing ``eth_blockNumber`` or gets a
new filter. Websocket ``eth_subscribe`` would push instead of being polled,
but needs a ws endpoint and a thread to hold it; one empty poll every few
hundred milliseconds costs about as little (see docs/benchmarks.md, "Idle
cost").
"""

from __future__ import annotations

import logging
from typing import Protocol

from ledger.chain.errors import ChainError, ChainUnavailableError

log = logging.getLogger(__name__)


class Rpc(Protocol):
    """What ``NewBlocks`` needs of a node (``ChainClient`` fits)."""

    def rpc(self, method: str, *params: object) -> object:
        """Call one JSON-RPC method and return its result."""
        ...


class NewBlocks:
    """Tells whether blocks arrived since the last ``arrived()`` (the first call says yes).

    Uses a block filter when the node offers one, else compares the head
    number (``eth_blockNumber``): a reorg to a chain of the same height is
    then only seen with the next block. ``ChainUnavailableError`` propagates;
    after it, the next call says yes (the node may have changed meanwhile).
    """

    def __init__(self, client: Rpc) -> None:
        """Watch the node behind ``client``."""
        self.client = client
        self.filter_id: str | None = None
        self.filters = True
        """False once the node refused ``eth_newBlockFilter``: head numbers are compared."""
        self._head: int | None = None

    def arrived(self) -> bool:
        """Whether the node has blocks this watch has not reported yet."""
        try:
            if self.filters:
                return self._by_filter()
            return self._by_number()
        except ChainUnavailableError:
            self.forget()
            raise

    def forget(self) -> None:
        """Start over: the next ``arrived()`` says yes."""
        self.filter_id = None
        self._head = None

    def _by_filter(self) -> bool:
        if self.filter_id is None:
            try:
                self.filter_id = str(self.client.rpc("eth_newBlockFilter"))
            except ChainUnavailableError:
                raise
            except ChainError as exc:
                log.info(
                    "node has no block filters; comparing head numbers", extra={"why": str(exc)}
                )
                self.filters = False
                return self._by_number()
            return True  # what happened before the filter existed is unknown
        try:
            changes = self.client.rpc("eth_getFilterChanges", self.filter_id)
        except ChainUnavailableError:
            raise
        except ChainError:
            # The node forgot the filter (restart, expiry): make a new one, assume news.
            self.filter_id = None
            return self._by_filter()
        return bool(changes)

    def _by_number(self) -> bool:
        head = int(str(self.client.rpc("eth_blockNumber")), 16)
        changed = head != self._head
        self._head = head
        return changed

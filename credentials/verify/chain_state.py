"""What the checks read from the chain index, at the one height of an index view.

Issuers, keys and anchors change only when the index commits a change, so
verifications that see the same index generation share them through a
``HeightCache``; digest statuses (revocation) are always read from the view.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ledger.chain.contracts.registry import KeyRecord
from ledger.chain.index import IndexedAnchor, IndexedStatus, IndexView

__all__ = ["ChainState", "HeightCache"]

K = TypeVar("K")
V = TypeVar("V")


class HeightCache:
    """Issuers, keys and anchors as the index holds them at one generation.

    They change only when the index commits a change (its ``generation`` grows, also
    when a reorg rewinds it), so verifications of the same generation share them;
    the cache empties when a newer generation is seen, is bypassed by views of an
    older one, and holds at most ``limit`` entries. Digest statuses are never cached.
    """

    def __init__(self, limit: int = 8192) -> None:
        """An empty cache of at most ``limit`` entries."""
        self.limit = limit
        self.generation = -1
        self.keys: dict[tuple[int, str], KeyRecord | None] = {}
        self.issuers: dict[int, bool] = {}
        self.anchors: dict[tuple[int, bytes], IndexedAnchor | None] = {}
        self.lock = threading.Lock()

    def _size(self) -> int:
        return len(self.keys) + len(self.issuers) + len(self.anchors)

    def get(self, view: IndexView, table: dict[K, V], key: K, load: Callable[[], V]) -> V:
        """``table[key]`` as of ``view``'s generation, loaded (and kept if current) on a miss."""
        with self.lock:
            if view.generation > self.generation:
                # Cleared in place: ``table`` is one of these three dicts.
                self.keys.clear()
                self.issuers.clear()
                self.anchors.clear()
                self.generation = view.generation
            if view.generation == self.generation and key in table:
                return table[key]
        value = load()
        with self.lock:
            if view.generation == self.generation and self._size() < self.limit:
                table[key] = value
        return value


@dataclass(frozen=True)
class ChainState:
    """The chain state checks (1)-(4) read: one index view, through the height cache."""

    view: IndexView
    cache: HeightCache | None = None

    @property
    def height(self) -> int:
        """The index height every answer reflects."""
        return self.view.height

    def key(self, issuer_id: int, key_id: str) -> KeyRecord | None:
        """The registry key, as of the index height."""
        view = self.view
        if self.cache is None:
            return view.key(issuer_id, key_id)
        return self.cache.get(
            view, self.cache.keys, (issuer_id, key_id), lambda: view.key(issuer_id, key_id)
        )

    def issuer_known(self, issuer_id: int) -> bool:
        """Whether the issuer was ever admitted, as of the index height."""
        view = self.view
        if self.cache is None:
            return view.issuer(issuer_id) is not None
        return self.cache.get(
            view, self.cache.issuers, issuer_id, lambda: view.issuer(issuer_id) is not None
        )

    def anchor(self, issuer_id: int, root: bytes) -> IndexedAnchor | None:
        """Where and when the issuer anchored ``root``, as of the index height."""
        view = self.view
        if self.cache is None:
            return view.anchor(issuer_id, root)
        return self.cache.get(
            view, self.cache.anchors, (issuer_id, root), lambda: view.anchor(issuer_id, root)
        )

    def digest_status(self, issuer_id: int, digest: bytes) -> IndexedStatus:
        """The digest's latest status, its reason and block, read from the view (never cached)."""
        return self.view.digest_status(issuer_id, digest)

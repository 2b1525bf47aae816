"""Subject pseudonyms: HMAC-SM3 under a per-province key, with the key's version.

The pseudonym of a subject is ``hex(HMAC-SM3(key_v, identifier))`` where the
identifier is the holder DID whenever one is known. Keys never leave the
province; rotating means adding version v+1 and using it for new events,
while old versions stay to answer citizens' questions about older events.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.audit.events import Subject
from ledger.crypto.sm3 import HmacSm3

KEY_BYTES = 32


@dataclass(frozen=True)
class PseudonymKeys:
    """The province's pseudonym keys by version; ``current`` is used for new events."""

    keys: Mapping[int, bytes]
    current: int

    def __post_init__(self) -> None:
        """Check the current version exists and every key is long enough."""
        if self.current not in self.keys:
            raise ValueError("the current pseudonym key version has no key")
        if any(len(k) < KEY_BYTES for k in self.keys.values()):
            raise ValueError(f"pseudonym keys must be at least {KEY_BYTES} bytes")

    def __reduce__(self) -> tuple[type[PseudonymKeys], tuple[dict[int, bytes], int]]:
        """Pickle the keys only (for worker processes), not the cached HMAC states."""
        return (PseudonymKeys, (dict(self.keys), self.current))

    def __repr__(self) -> str:
        """Never show key bytes."""
        return f"PseudonymKeys(versions={sorted(self.keys)}, current={self.current})"

    @classmethod
    def generate(cls) -> PseudonymKeys:
        """A fresh key set with version 1 (from the OS CSPRNG)."""
        return cls({1: secrets.token_bytes(KEY_BYTES)}, 1)

    def rotated(self) -> PseudonymKeys:
        """A copy with a new current version; older versions are kept."""
        version = max(self.keys) + 1
        return PseudonymKeys({**self.keys, version: secrets.token_bytes(KEY_BYTES)}, version)

    def subject(self, identifier: str, version: int | None = None) -> Subject:
        """The pseudonymous subject for ``identifier`` under ``version`` (default: current)."""
        chosen = self.current if version is None else version
        return Subject(self._macs()[chosen].digest(identifier.encode("utf-8")).hex(), chosen)

    def subjects(self, identifiers: Sequence[str]) -> list[Subject]:
        """``[self.subject(i) for i in identifiers]`` under the current key, in one loop."""
        version = self.current
        digests = self._macs()[version].digest_many([i.encode("utf-8") for i in identifiers])
        return [Subject(digest.hex(), version) for digest in digests]

    def _macs(self) -> dict[int, HmacSm3]:
        macs: dict[int, HmacSm3] | None = self.__dict__.get("_mac_cache")
        if macs is None:
            macs = {version: HmacSm3(key) for version, key in self.keys.items()}
            object.__setattr__(self, "_mac_cache", macs)  # frozen: cache, not state
        return macs

    def all_subjects(self, identifier: str) -> list[Subject]:
        """The subject under every key version (to find all events about one person)."""
        return [self.subject(identifier, v) for v in sorted(self.keys)]

"""The Merkle package's one exception tree."""

from __future__ import annotations


class MerkleError(Exception):
    """Base of every Merkle error."""


class ProofError(MerkleError):
    """A proof is malformed for the sizes given (wrong length, bad sizes, bad hash length)."""


class RootMismatchError(ProofError):
    """A well-formed proof leads to a different root than the one expected.

    Carries both roots, like transparency-dev's ``RootMismatchError``.
    """

    def __init__(self, expected: bytes, calculated: bytes) -> None:
        super().__init__(
            f"calculated root {calculated.hex()} does not match expected root {expected.hex()}"
        )
        self.expected = expected
        self.calculated = calculated

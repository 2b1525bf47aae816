"""The Merkle package's one exception tree."""

from __future__ import annotations


class MerkleError(Exception):
    """Base of every Merkle error."""


class ProofError(MerkleError):
    """A proof is malformed for the sizes given (wrong length, bad sizes, bad hash length)."""


class BatchError(MerkleError, ValueError):
    """Leaves given to build a batch tree are unusable: none at all, or a hash of the wrong length.

    Also a ``ValueError``, which is what an empty batch raised before this class existed.
    """


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

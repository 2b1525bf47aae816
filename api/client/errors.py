"""The wallet's one exception tree (a module of its own so that every wallet module shares it)."""

from __future__ import annotations

from credentials.reasons import Reason

__all__ = ["SealedEntryError", "WalletError"]


class WalletError(Exception):
    """The wallet cannot do what was asked; the message names why, never a claim value.

    ``reason``: for a refused credential, the reason code (``credentials.reasons``)
    the verifier gives for the same fault; None for any other error.
    """

    def __init__(self, message: str, reason: Reason | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class SealedEntryError(WalletError):
    """A sealed credential does not open under this wallet's storage key (altered or moved)."""

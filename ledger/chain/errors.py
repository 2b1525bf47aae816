"""The chain layer's one exception tree.

Every failure that crosses the chain layer's boundary is a ``ChainError``;
messages name the setting or the action to take, and never carry personal data.
"""

from __future__ import annotations

from typing import Any


class ChainError(Exception):
    """Base of every error raised by ``ledger.chain``."""


class ChainConfigError(ChainError):
    """A chain setting is invalid (unknown chain kind, missing node binary, ...)."""


class NodeBinaryMissingError(ChainConfigError):
    """The pinned npm node (ganache or anvil) is not installed."""


class NodeStartError(ChainError):
    """A local node process failed to start or to answer in time."""


class ChainUnavailableError(ChainError):
    """The node cannot be reached, stopped answering, or timed out."""


class ChainIdMismatchError(ChainError):
    """The node serves a different chain id than the configured one."""

    def __init__(self, expected: int, actual: int, url: str) -> None:
        super().__init__(
            f"chain id mismatch: TONGBAN_CHAIN_ID is {expected} but the node at {url} "
            f"serves chain {actual}; fix TONGBAN_CHAIN_ID or TONGBAN_CHAIN"
        )
        self.expected = expected
        self.actual = actual


class ContractRevertError(ChainError):
    """A contract call or transaction reverted, whatever the node reported.

    ``error_name`` is the custom error's name (``Error`` for ``require`` strings,
    ``Panic`` for Solidity panics, ``""`` when the node gave no revert data) and
    ``error_args`` its decoded arguments in ABI order.
    """

    def __init__(
        self, error_name: str, error_args: tuple[Any, ...] = (), data: bytes = b""
    ) -> None:
        shown = f"{error_name}{error_args!r}" if error_name else "revert without reason"
        super().__init__(f"contract reverted: {shown}")
        self.error_name = error_name
        self.error_args = error_args
        self.data = data


class TransactionError(ChainError):
    """A transaction could not be sent, or was not mined in time."""

"""How the bindings talk to a contract: calls and transactions whose reverts are named.

``call_named`` reads, ``transact_named`` sends and waits, and both re-raise a
consortium contract's revert as its named exception from
``ledger.chain.contracts.errors`` (``named_revert``, ``raising_named_reverts``).
A mined transaction comes back as a ``TxOutcome`` with its decoded events.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ledger.chain.contracts.binding import BoundContract, DecodedEvent
from ledger.chain.contracts.errors import REVERT_ERRORS, ConsortiumRevertError
from ledger.chain.errors import ChainError, ContractRevertError
from ledger.chain.node.client import BlockId
from ledger.chain.node.transactions import NonceManager

__all__ = [
    "TxOutcome",
    "call_named",
    "named_revert",
    "raising_named_reverts",
    "transact_named",
]


def named_revert(error: ContractRevertError) -> ContractRevertError:
    """Return ``error`` as its named subclass (same fields), or unchanged if it has none."""
    if isinstance(error, ConsortiumRevertError):
        return error
    cls = REVERT_ERRORS.get(error.error_name)
    if cls is None:
        return error
    return cls(error.error_name, error.error_args, error.data)


@contextmanager
def raising_named_reverts() -> Iterator[None]:
    """Re-raise any ``ContractRevertError`` inside the block as its named subclass."""
    try:
        yield
    except ContractRevertError as exc:
        named = named_revert(exc)
        if named is exc:
            raise
        raise named from None


@dataclass(frozen=True)
class TxOutcome:
    """A mined, successful transaction of a binding: hash, block, gas and decoded events."""

    tx_hash: str
    block_number: int
    gas_used: int
    events: tuple[DecodedEvent, ...]

    def named(self, name: str) -> list[DecodedEvent]:
        """The events called ``name``, in log order."""
        return [e for e in self.events if e.name == name]

    def event(self, name: str) -> DecodedEvent:
        """The first event called ``name``; ``ChainError`` if the transaction emitted none."""
        for candidate in self.events:
            if candidate.name == name:
                return candidate
        raise ChainError(f"transaction {self.tx_hash} emitted no {name} event")


def call_named(
    contract: BoundContract, function: str, *args: Any, block: BlockId = "latest"
) -> Any:
    """Read ``function(*args)``; a revert is raised as its named subclass."""
    with raising_named_reverts():
        return contract.call(function, *args, block=block)


def transact_named(
    contract: BoundContract,
    sender: NonceManager,
    function: str,
    *args: Any,
    extra: tuple[BoundContract, ...] = (),
    timeout: float = 60.0,
) -> TxOutcome:
    """Send ``function(*args)`` from ``sender``, wait for it and decode its events.

    A revert (found when estimating gas, or replayed after mining) is raised as its
    named subclass. The gas limit is the sender's estimate with headroom (capped at
    the block gas limit by ``NonceManager``). Events of ``contract`` and of every contract in
    ``extra`` are decoded (a governance action may make another contract emit).
    """
    data = contract.encode(function, *args)
    with raising_named_reverts():
        receipt = sender.transact(
            contract.address, data, label=f"{contract.artifact.name}.{function}", timeout=timeout
        )
    logs = receipt.get("logs", [])
    events: list[DecodedEvent] = []
    for bound in (contract, *extra):
        events.extend(bound.decode_logs(logs))
    events.sort(key=lambda e: e.log_index)
    return TxOutcome(
        tx_hash=str(receipt["transactionHash"]),
        block_number=int(receipt["blockNumber"], 16),
        gas_used=int(receipt["gasUsed"], 16),
        events=tuple(events),
    )

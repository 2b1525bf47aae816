"""Registry transactions the API asks for, sent only by the writer through the durable outbox.

An HTTP worker never sends a transaction. It *simulates* the call from the
account that will send it (``eth_estimateGas``), so a call the contract
refuses now is refused at once with the contract's error name
(``OperationRefusedError``); then it enqueues the calldata in the outbox and
answers with the outbox item's id, the *operation id*. The writer's
``OutboxProcessor`` for that account sends it, rebroadcasts it and waits for
finality; ``operation_status`` reads the item and, once final, decodes the
registry events of its receipt (e.g. ``ProposalCreated`` gives the proposal
id).

Operation kinds: ``registry_admin`` (the issuer's admin: writers and keys,
sent by the province's own account, unpinned) and ``governance`` (proposals
and approvals, pinned to the governor account this service acts for). An
item key is ``<scope>:<function>:<what>``, chosen so that retrying the same
request in the same chain state finds the same operation instead of sending
twice.

Only the process holding the writer lease (``WRITER_LEASE``) runs the
processors; ``/readyz`` checks that some process holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api.errors import ProblemCode
from api.province.audited import AdminRefusedError
from ledger.chain import outbox
from ledger.chain.contracts.binding import DecodedEvent
from ledger.chain.contracts.calls import named_revert
from ledger.chain.contracts.registry import IssuerRegistry, decode_key_id
from ledger.chain.errors import ContractRevertError
from ledger.chain.node.client import ChainClient, checksum
from ledger.chain.outbox import OutboxItem, OutboxState
from ledger.store.database import Database

__all__ = [
    "GOVERNANCE_KIND",
    "OPERATION_KINDS",
    "REGISTRY_ADMIN_KIND",
    "WRITER_LEASE",
    "ChainOperation",
    "OperationRefusedError",
    "OperationStatus",
    "event_json",
    "operation_status",
    "submit",
]

REGISTRY_ADMIN_KIND = "registry_admin"
"""Outbox kind of the issuer admin's registry calls (writers, keys)."""

GOVERNANCE_KIND = "governance"
"""Outbox kind of governance calls (propose, approve), pinned to the governor account."""

OPERATION_KINDS = (REGISTRY_ADMIN_KIND, GOVERNANCE_KIND)
"""The outbox kinds ``GET /operations/{id}`` answers for."""

WRITER_LEASE = "writer"
"""Name of the lease the province's writer process holds (checked by ``/readyz``)."""

_MAX_JSON_INT = 2**53 - 1


class OperationRefusedError(AdminRefusedError):
    """The contract refuses the call in the current chain state (found by simulating it)."""

    code = ProblemCode.CHAIN_REFUSED

    def __init__(self, error_name: str) -> None:
        """A refusal with the contract's custom error name (``""``: no reason given)."""
        super().__init__(
            f"the contract refuses this call now: {error_name or 'revert without reason'}"
        )
        self.error_name = error_name


@dataclass(frozen=True)
class ChainOperation:
    """One registry call to send once: outbox kind and key, function name, calldata."""

    kind: str
    key: str
    function: str
    calldata: bytes
    done_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperationStatus:
    """Where an operation is; ``events`` are decoded once it is final by our transaction."""

    operation_id: int
    kind: str
    function: str
    state: OutboxState
    account: str | None
    tx_hash: str | None
    block_number: int | None
    error: str | None
    already_done: bool
    created_at_ms: int
    updated_at_ms: int
    events: tuple[DecodedEvent, ...] = ()

    @property
    def proposal_id(self) -> int | None:
        """The proposal a governance operation created or approved (once final)."""
        for name in ("ProposalCreated", "ProposalApproved"):
            for event in self.events:
                if event.name == name:
                    return int(event.args["proposalId"])
        return None

    @property
    def executed(self) -> bool:
        """Whether the transaction executed a proposal (reached the threshold)."""
        return any(e.name == "ProposalExecuted" for e in self.events)


def simulate(client: ChainClient, sender: str, to: str, calldata: bytes) -> None:
    """Estimate the call from ``sender``; ``OperationRefusedError`` if the contract refuses it.

    A node that cannot be reached raises ``ChainError`` as usual.
    """
    try:
        client.estimate_gas(checksum(sender), checksum(to), calldata)
    except ContractRevertError as exc:
        raise OperationRefusedError(named_revert(exc).error_name) from None


def submit(
    db: Database,
    registry: IssuerRegistry,
    operation: ChainOperation,
    *,
    sender: str,
    pinned: bool,
) -> int:
    """Simulate ``operation`` from ``sender``, then enqueue it; returns the operation id.

    ``pinned`` ties the outbox item to ``sender``'s processor; unpinned items go
    to the writer's own account (which must then be ``sender``). Enqueueing the
    same ``(kind, key)`` again returns the first operation's id.
    """
    simulate(registry.client, sender, registry.address, operation.calldata)
    with db.write() as tx:
        return outbox.enqueue(
            tx,
            operation.kind,
            operation.key,
            registry.address,
            operation.calldata,
            done_errors=operation.done_errors,
            account=sender if pinned else None,
        )


def _function_of(item: OutboxItem) -> str:
    parts = item.key.split(":")
    return parts[1] if len(parts) > 1 else ""


def operation_status(
    db: Database, operation_id: int, registry: IssuerRegistry | None
) -> OperationStatus | None:
    """Operation ``operation_id`` (None unless it is a registry_admin or governance item).

    Once final by our own transaction, the registry's events in its receipt are
    decoded with ``registry`` (None: no events). Raises ``ChainError`` if the node
    cannot be reached for the receipt.
    """
    item = outbox.item_by_id(db, operation_id)
    if item is None or item.kind not in OPERATION_KINDS:
        return None
    events: tuple[DecodedEvent, ...] = ()
    if (
        registry is not None
        and item.state is OutboxState.FINAL
        and item.block_number is not None
        and item.tx_hash is not None
    ):
        receipt = registry.client.receipt(item.tx_hash)
        if receipt is not None:
            events = tuple(registry.contract.decode_logs(receipt.get("logs", [])))
    return OperationStatus(
        operation_id=item.id,
        kind=item.kind,
        function=_function_of(item),
        state=item.state,
        account=item.account,
        tx_hash=item.tx_hash,
        block_number=item.block_number,
        error=item.error,
        already_done=item.already_done,
        created_at_ms=item.created_at_ms,
        updated_at_ms=item.updated_at_ms,
        events=events,
    )


def _json_value(name: str, value: Any) -> Any:
    if isinstance(value, bytes):
        return decode_key_id(value) if name == "keyId" else value.hex()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= _MAX_JSON_INT else str(value)
    if isinstance(value, Sequence):
        return [_json_value(name, v) for v in value]
    return str(value)


def event_json(event: DecodedEvent) -> dict[str, Any]:
    """``{"name", "args", "blockNumber", "logIndex"}`` of a decoded registry event.

    Bytes are lowercase hex, key ids their string, integers beyond 2^53 strings.
    """
    return {
        "name": event.name,
        "args": {k: _json_value(k, v) for k, v in event.args.items()},
        "blockNumber": event.block_number,
        "logIndex": event.log_index,
    }

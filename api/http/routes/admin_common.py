"""What the administration routes share: the operation answer (refusals are ``ApiError``s)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import Field

from api.http.schemas.common import ApiModel
from api.province.operations import OperationStatus, event_json, operation_status
from ledger.audit.events import format_time
from ledger.store.database import Database

__all__ = [
    "ChainEventOut",
    "OperationOut",
    "accepted",
    "enqueued",
    "operation_out",
]


class ChainEventOut(ApiModel):
    """A registry event the operation's transaction emitted."""

    name: str = Field(description="The Solidity event, e.g. `KeyAdded`, `ProposalCreated`.")
    args: dict[str, Any] = Field(
        description="Its arguments by name: bytes as hex, key ids as strings, integers "
        "beyond 2^53 as strings."
    )
    block_number: int
    log_index: int


class OperationOut(ApiModel):
    """A registry transaction handed to the writer's outbox, and how far it got."""

    operation_id: int = Field(description="Read it again at `GET /operations/{operationId}`.")
    kind: Literal["registry_admin", "governance"]
    function: str = Field(description="The registry function, e.g. `addKey`, `approve`.")
    state: Literal["queued", "submitted", "confirmed", "final", "failed"]
    account: str | None = Field(description="The sending account (set once sent or pinned).")
    tx_hash: str | None
    block_number: int | None
    error: str | None = Field(
        description="`failed`: the contract's error name; final and `alreadyDone`: the "
        "error that meant the chain already held the result."
    )
    already_done: bool = Field(
        description="Final without a transaction of ours: the chain already held the result."
    )
    created_at: str
    updated_at: str
    events: list[ChainEventOut] = Field(description="Decoded once final (empty before).")
    proposal_id: int | None = Field(
        description="Governance: the proposal created or approved (once final)."
    )
    executed: bool = Field(description="Governance: the transaction executed the proposal.")


def operation_out(status: OperationStatus) -> OperationOut:
    """The API form of an operation's status."""
    return OperationOut(
        operation_id=status.operation_id,
        kind="governance" if status.kind == "governance" else "registry_admin",
        function=status.function,
        state=status.state.value,
        account=status.account,
        tx_hash=status.tx_hash,
        block_number=status.block_number,
        error=status.error,
        already_done=status.already_done,
        created_at=format_time(status.created_at_ms),
        updated_at=format_time(status.updated_at_ms),
        events=[ChainEventOut.model_validate(event_json(e)) for e in status.events],
        proposal_id=status.proposal_id,
        executed=status.executed,
    )


def enqueued(db: Database, operation_id: int) -> OperationOut:
    """The answer for an operation just handed to the outbox."""
    status = operation_status(db, operation_id, None)
    if status is None:
        raise RuntimeError("an operation vanished right after it was enqueued")
    return operation_out(status)


def accepted(body: ApiModel, operation_id: int) -> JSONResponse:
    """202 with ``body`` and ``Location: /operations/<id>``."""
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/operations/{operation_id}"},
    )

"""Response and request models shared by the routes (camelCase JSON, hex for bytes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ledger.audit.anchoring import StoredCheckpoint
from ledger.audit.events import format_time
from ledger.audit.log import AppendResult

__all__ = [
    "ApiModel",
    "AppendedEvent",
    "CheckpointOut",
    "EventOut",
    "InputModel",
    "ReceiptOut",
    "appended",
    "checkpoint_out",
]


class ApiModel(BaseModel):
    """Output models: camelCase on the wire."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True, frozen=True
    )


class InputModel(BaseModel):
    """Request bodies: camelCase only, unknown members refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )


class SubjectOut(ApiModel):
    """The data subject of an event: a keyed pseudonym, never the identifier."""

    pseudonym: str = Field(description="hex(HMAC-SM3(province key, subject identifier)).")
    key_version: int


class EventOut(ApiModel):
    """An access event as stored (see docs/audit.md, event schema version 1)."""

    v: int
    log_id: int
    event_id: str
    time: str
    actor: str
    actor_org: str
    action: str
    resource: str
    purpose: str
    legal_basis: str
    subject: SubjectOut | None
    request_id: str
    idempotency_key: str | None
    outcome: Literal["success", "denied", "not_found", "invalid", "error"]


class BatchPathOut(ApiModel):
    """Where the event sits in the signed group commit."""

    first_index: int
    count: int
    root: str = Field(description="RFC 9162 root (SM3, hex) over the group's leaf hashes.")
    path: list[str] = Field(description="Audit path (hex) of the event inside the group.")


class ReceiptOut(ApiModel):
    """``TongbanAuditReceipt/v1``: the log's signature that it accepted the event."""

    type: Literal["TongbanAuditReceipt/v1"]
    log_id: int
    index: int
    leaf_hash: str
    time: str
    batch: BatchPathOut
    key_id: str
    signature: str = Field(description="SM2 r || s (hex) over the batch statement.")


class AppendedEvent(ApiModel):
    """An event in the log, its index and its receipt."""

    index: int
    event: EventOut
    receipt: ReceiptOut
    replayed: bool = Field(
        default=False,
        description="True when an earlier append with this idempotency key "
        "stored the event: the original event and receipt are returned.",
    )


class CheckpointOut(ApiModel):
    """A signed checkpoint of the log and where it stands on chain."""

    tree_size: int
    root: str = Field(description="Tree root (SM3, hex).")
    note: str = Field(description="The C2SP signed note (see docs/audit.md).")
    created_at: str
    state: Literal["pending", "anchored", "superseded"]
    block_number: int | None


def appended(result: AppendResult) -> dict[str, Any]:
    """JSON of ``AppendedEvent`` for an append or read result."""
    return {
        "index": result.index,
        "event": result.event.to_json(),
        "receipt": result.receipt.to_json(),
        "replayed": result.replayed,
    }


def checkpoint_out(checkpoint: StoredCheckpoint) -> CheckpointOut:
    """The API form of a stored checkpoint."""
    return CheckpointOut(
        tree_size=checkpoint.tree_size,
        root=checkpoint.root.hex(),
        note=checkpoint.note,
        created_at=format_time(checkpoint.created_at_ms),
        state=checkpoint.state.value,
        block_number=checkpoint.block_number,
    )

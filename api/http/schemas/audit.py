"""Bodies and answers of the audit routes, and the small conversions around ``ledger.audit``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from api.http.problems import Problem
from api.http.schemas.common import ApiModel, AppendedEvent, CheckpointOut, InputModel
from ledger.audit.errors import EventRejectedError
from ledger.audit.events import AccessEvent, EventInput
from ledger.audit.pseudonyms import PseudonymKeys

__all__ = [
    "BatchIn",
    "BatchItem",
    "BatchOut",
    "CheckpointList",
    "ConsistencyProofOut",
    "EventIn",
    "InclusionProofOut",
    "replay_matches",
    "to_event_inputs",
]

OutcomeCode = Literal["success", "denied", "not_found", "invalid", "error"]


class EventIn(InputModel):
    """What a caller states about one access to personal data.

    Actor, organisation, event id, time and request id are set by the server.
    Every field is a code with a strict pattern (docs/audit.md); a broken rule
    is answered with the field and the rule, never the value.
    """

    action: str = Field(max_length=64, description="Code, e.g. `credential.verify`.")
    resource: str = Field(
        max_length=200,
        description="`credential:<64 hex>`, `presentation:<64 hex>`, `record:<type>` or "
        "`checkpoint:<n>`.",
    )
    purpose: str = Field(max_length=64, description="Code, e.g. `cross-province.enrolment`.")
    legal_basis: str = Field(max_length=64, description="Code, e.g. `prc.pipl.art13`.")
    outcome: OutcomeCode
    subject_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="The data subject's identifier (the holder DID whenever one is known). "
        "Turned into a keyed pseudonym before anything is stored; never stored or echoed.",
    )
    idempotency_key: str | None = Field(
        default=None,
        max_length=128,
        description="Same as the `Idempotency-Key` header (give one or the other, or equal).",
    )


class BatchIn(InputModel):
    """Up to 1,000 events appended all or nothing."""

    events: list[EventIn] = Field(min_length=1, max_length=1000)


class BatchItem(AppendedEvent):
    """One appended event of a batch."""

    conflict: bool = Field(
        default=False,
        description="True when the event replays an idempotency key whose stored event "
        "differs from the one sent (the stored one is returned; nothing was appended).",
    )


class BatchOut(ApiModel):
    """The events of a batch, in the order sent."""

    results: list[BatchItem]


class CheckpointList(ApiModel):
    """Checkpoints of the log, newest first."""

    origin: str
    checkpoints: list[CheckpointOut]


class InclusionProofOut(ApiModel):
    """RFC 9162 inclusion proof of event ``index`` in the tree of ``treeSize`` events."""

    index: int
    tree_size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProofOut(ApiModel):
    """RFC 9162 consistency proof that the tree of ``to`` events extends the one of ``from``."""

    from_size: int = Field(alias="from")
    to_size: int = Field(alias="to")
    from_root: str
    to_root: str
    proof: list[str]


_BODY_FIELD = {
    "subject": "subjectId",
    "requestId": "X-Request-Id",
}


def _input(body: EventIn, request_id: str, idempotency_key: str | None) -> EventInput:
    # The caller's own access event as it states it (not one of ours: api.province.access).
    return EventInput(
        action=body.action,
        resource=body.resource,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        outcome=body.outcome,
        request_id=request_id,
        subject_id=body.subject_id,
        idempotency_key=idempotency_key,
    )


def to_event_inputs(
    events: Sequence[EventIn], request_id: str, header_key: str | None, *, pointer: str
) -> list[EventInput]:
    """Ledger inputs for ``events``, each checked against the event rules first.

    ``pointer`` prefixes the field of a broken rule (``""`` for one event,
    ``"/events/"`` for a batch, followed by the index). An ``Idempotency-Key``
    header applies to a single event only and must agree with its body field.
    """
    inputs = []
    for i, event in enumerate(events):
        key = event.idempotency_key
        if header_key is not None:
            if key is not None and key != header_key:
                raise Problem.validation(
                    "Idempotency-Key", "must equal the body's idempotencyKey when both are given"
                )
            key = header_key
        item = _input(event, request_id, key)
        try:
            item.validate()
        except EventRejectedError as exc:
            # Kept here, not in the problem table: the event's field becomes the body's
            # pointer (``/events/3/purpose``) or the header's name.
            where = f"{pointer}{i}" if pointer else ""
            name = _BODY_FIELD.get(exc.field, exc.field)
            field = name if name.startswith("X-") else f"{where}/{name}"
            raise Problem.validation(field, exc.rule, "the event breaks a field rule") from None
        inputs.append(item)
    return inputs


def replay_matches(stored: AccessEvent, sent: EventInput, pseudonyms: PseudonymKeys) -> bool:
    """Whether a replayed event is the one the caller sent again (request id aside)."""
    same = (stored.action, stored.resource, stored.purpose, stored.legal_basis, stored.outcome) == (
        sent.action,
        sent.resource,
        sent.purpose,
        sent.legal_basis,
        str(sent.outcome),
    )
    if not same:
        return False
    if sent.subject_id is None or stored.subject is None:
        return sent.subject_id is None and stored.subject is None
    version = stored.subject.key_version
    if version not in pseudonyms.keys:
        return False
    return pseudonyms.subject(sent.subject_id, version).pseudonym == stored.subject.pseudonym

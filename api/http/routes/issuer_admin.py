"""``/issuer``: the province's own issuer: keys (rotate, retire, compromise) and writers.

Role operator. Chain changes are operations handed to the writer's outbox
(202 with the operation; follow it at ``GET /operations/{id}``); the
compromise response runs here and answers with what it did. Every request is
an administrative event in the province's log (``issuer.key.rotate`` ...,
purpose ``administration``, legal basis ``tongban.policy``); each credential
the compromise response re-issues is also an access event
(``credential.reissue``, through ``api.province.access``). Refusals are the
province's ``ApiError``s, answered by the problem table.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import Field

from api.errors import ProblemCode
from api.http.context import ProvinceContext
from api.http.deps import ContextDep, JsonBody, OperatorDep, RequestIdDep
from api.http.problems import Problem, problem_responses
from api.http.routes.admin_common import OperationOut, accepted, enqueued
from api.http.schemas.common import ApiModel, InputModel
from api.province.access import access_event, record_access
from api.province.audited import ADMINISTRATION, audited
from api.province.issuer_admin import IssuerAdmin, IssuerOverview
from credentials.credential import SignedCredential
from ledger.audit.events import Caller

router = APIRouter(prefix="/issuer", tags=["issuer"])

KEY_RESOURCE = "record:issuer_key"
WRITER_RESOURCE = "record:issuer_writer"
KEY_ID_PATTERN = r"^[A-Za-z0-9._-]{1,32}$"
ACCOUNT_PATTERN = r"^0x[0-9a-fA-F]{40}$"
MAX_TIME = 2**53 - 1

_READ_PROBLEMS = problem_responses(401, 403, 429, 503)
_BODY_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
_ACTION_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 429, 503)

KeyIdPath = Annotated[
    str, Path(pattern=KEY_ID_PATTERN, description="The key id (fragment of its DID URL).")
]
AccountPath = Annotated[str, Path(pattern=ACCOUNT_PATTERN, description="An EVM account.")]


class KeyRotationIn(InputModel):
    """A new signing key."""

    key_id: str | None = Field(
        default=None,
        pattern=KEY_ID_PATTERN,
        description="Its id; default the next free `key-<n>`. Key ids are never reused.",
    )
    valid_from: int | None = Field(
        default=None,
        ge=0,
        le=MAX_TIME,
        description="Unix seconds (block time) from which it signs; not before the block "
        "that adds it (default: that block's time).",
    )


class CompromiseIn(InputModel):
    """When a key may first have leaked."""

    compromised_from: int = Field(
        ge=0,
        le=MAX_TIME,
        description="Unix seconds (block time): credentials anchored at or after it are void. "
        "Only an earlier time can be set later.",
    )


class WriterIn(InputModel):
    """An account to appoint as writer."""

    account: str = Field(pattern=ACCOUNT_PATTERN, description="EVM account, 0x + 40 hex.")


class WriterOut(ApiModel):
    """One writer appointment (history is kept)."""

    account: str
    added_at: int = Field(description="Unix seconds (block time).")
    retired_at: int | None
    current: bool


class KeyOut(ApiModel):
    """One registered signing key with its validity history."""

    key_id: str
    public_key: str = Field(description="Compressed SM2 point (33 bytes, hex).")
    valid_from: int = Field(description="Unix seconds (block time).")
    retired_at: int | None
    compromised_from: int | None
    held: bool = Field(description="This province's keystore holds its private key.")
    valid_now: bool
    active: bool = Field(description="The key that signs now (the newest valid held key).")


class IssuerOut(ApiModel):
    """This province's issuer: registry record, writers, keys, the active key."""

    issuer_id: int
    did: str
    name: str
    division_code: int
    status: str = Field(description="`active` or `suspended`.")
    admin: str
    admitted_at: int
    operator_account: str | None = Field(description="The account this service sends from.")
    operator_is_admin: bool | None
    writers: list[WriterOut]
    keys: list[KeyOut]
    active_key_id: str | None
    index_height: int = Field(description="The chain index's height the keys were read at.")
    chain_time: int = Field(description="The latest block's time (Unix seconds).")


class KeyRotationOut(ApiModel):
    """The new key (in the keystore now) and the operation registering it."""

    key_id: str
    public_key: str
    operation: OperationOut


class CompromiseResponseOut(ApiModel):
    """What the compromise response did."""

    key_id: str
    compromised_from: int
    new_key_id: str = Field(description="The key the replacements are signed with.")
    affected: int = Field(description="Credentials of the key voided by the compromise.")
    revoked: int = Field(description="Of those, revocations requested now (digests).")
    revocation_requests: list[int] = Field(
        description="Status requests (`GET /credentials/status-requests/{id}`)."
    )
    reissued: int
    replacements: dict[str, str] = Field(description="Old digest -> new digest (hex).")


ROTATION_BODY = JsonBody(KeyRotationIn)
COMPROMISE_BODY = JsonBody(CompromiseIn)
WRITER_BODY = JsonBody(WriterIn)


def _admin(context: ProvinceContext) -> IssuerAdmin:
    if (
        context.registry is None
        or context.index is None
        or context.keys is None
        or context.keyring is None
        or context.issuer is None
    ):
        raise Problem(ProblemCode.UNAVAILABLE, "this process does not administer the issuer")
    return IssuerAdmin(
        context.db,
        context.registry,
        context.index,
        context.keys,
        context.keyring,
        context.issuer,
        operator_account=context.operator_account,
    )


def _issuer_out(overview: IssuerOverview) -> IssuerOut:
    info = overview.info
    operator = overview.operator_account
    return IssuerOut(
        issuer_id=info.issuer_id,
        did=info.did,
        name=info.name,
        division_code=info.division_code,
        status=info.status.name.lower(),
        admin=info.admin,
        admitted_at=info.admitted_at,
        operator_account=operator,
        operator_is_admin=None if operator is None else operator == info.admin,
        writers=[
            WriterOut(
                account=w.account, added_at=w.added_at, retired_at=w.retired_at, current=w.current
            )
            for w in overview.writers
        ],
        keys=[
            KeyOut(
                key_id=k.record.key_id,
                public_key=k.record.public_key.hex(),
                valid_from=k.record.valid_from,
                retired_at=k.record.retired_at,
                compromised_from=k.record.compromised_from,
                held=k.held,
                valid_now=k.valid_now,
                active=k.active,
            )
            for k in overview.keys
        ],
        active_key_id=overview.active_key_id,
        index_height=overview.index_height,
        chain_time=overview.chain_time,
    )


@router.get(
    "",
    response_model=IssuerOut,
    summary="This province's issuer: record, writers, keys and the active key",
    responses=_READ_PROBLEMS,
)
def read_issuer(principal: OperatorDep, context: ContextDep) -> IssuerOut:
    """The registry record and writers, the keys with their validity history, the active key."""
    return _issuer_out(_admin(context).overview())


@router.post(
    "/keys",
    status_code=202,
    response_model=KeyRotationOut,
    summary="Rotate: create a new signing key and register it on chain",
    responses=_BODY_PROBLEMS,
    openapi_extra=ROTATION_BODY.openapi,
)
def rotate_key(
    principal: OperatorDep,
    body: Annotated[KeyRotationIn, ROTATION_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """The key signs in every process once its ``addKey`` is final and indexed."""
    admin = _admin(context)
    with audited(
        context.audit_log, principal.caller, "issuer.key.rotate", KEY_RESOURCE, request_id
    ):
        key_id = body.key_id if body.key_id is not None else admin.next_key_id()
        operation_id = admin.rotate_key(key_id, body.valid_from)
    answer = KeyRotationOut(
        key_id=key_id,
        public_key=admin.keys.public_key(key_id).compressed().hex(),
        operation=enqueued(context.db, operation_id),
    )
    return accepted(answer, operation_id)


@router.post(
    "/keys/{key_id}/retire",
    status_code=202,
    response_model=OperationOut,
    summary="Retire a key from the block that retires it",
    responses=_ACTION_PROBLEMS,
)
def retire_key(
    principal: OperatorDep, context: ContextDep, request_id: RequestIdDep, key_id: KeyIdPath
) -> JSONResponse:
    """Credentials anchored while the key was valid stay valid."""
    admin = _admin(context)
    with audited(
        context.audit_log, principal.caller, "issuer.key.retire", KEY_RESOURCE, request_id
    ):
        operation_id = admin.retire_key(key_id)
    return accepted(enqueued(context.db, operation_id), operation_id)


@router.post(
    "/keys/{key_id}/compromise",
    status_code=202,
    response_model=OperationOut,
    summary="Mark a key compromised from a time",
    responses=_BODY_PROBLEMS,
    openapi_extra=COMPROMISE_BODY.openapi,
)
def compromise_key(
    principal: OperatorDep,
    body: Annotated[CompromiseIn, COMPROMISE_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
    key_id: KeyIdPath,
) -> JSONResponse:
    """Every credential of the key anchored at or after ``compromisedFrom`` fails verification."""
    admin = _admin(context)
    action = "issuer.key.compromise"
    with audited(context.audit_log, principal.caller, action, KEY_RESOURCE, request_id):
        operation_id = admin.mark_compromised(key_id, body.compromised_from)
    return accepted(enqueued(context.db, operation_id), operation_id)


def _log_reissues(
    context: ProvinceContext,
    caller: Caller,
    request_id: str,
    replacements: list[SignedCredential],
) -> None:
    # Each re-issued credential holds personal data: one access event each, the
    # province administering its own credentials under its policy.
    events = [
        access_event(
            ADMINISTRATION,
            request_id,
            "credential.reissue",
            f"credential:{new.digest_hex}",
            subject_id=str(new.document["credentialSubject"]["id"]),
        )
        for new in replacements
    ]
    record_access(context.audit_log, caller, events)


@router.post(
    "/keys/{key_id}/compromise-response",
    response_model=CompromiseResponseOut,
    summary="Revoke and re-issue under the active key what a compromise voids",
    responses=_ACTION_PROBLEMS,
)
def respond_to_compromise(
    principal: OperatorDep, context: ContextDep, request_id: RequestIdDep, key_id: KeyIdPath
) -> CompromiseResponseOut:
    """Refused while the key is not shown compromised, or while it still signs."""
    admin = _admin(context)
    action = "issuer.key.compromise_response"
    with audited(context.audit_log, principal.caller, action, KEY_RESOURCE, request_id):
        response = admin.respond_to_compromise(key_id)
    report = response.report
    _log_reissues(context, principal.caller, request_id, list(report.reissued.values()))
    return CompromiseResponseOut(
        key_id=key_id,
        compromised_from=report.compromised_from,
        new_key_id=response.new_key_id,
        affected=len(report.affected),
        revoked=sum(len(r.digests) for r in report.revocations),
        revocation_requests=[r.request_id for r in report.revocations],
        reissued=len(report.reissued),
        replacements={old.hex(): new.digest_hex for old, new in report.reissued.items()},
    )


@router.post(
    "/writers",
    status_code=202,
    response_model=OperationOut,
    summary="Appoint a writer account",
    responses=_BODY_PROBLEMS,
    openapi_extra=WRITER_BODY.openapi,
)
def add_writer(
    principal: OperatorDep,
    body: Annotated[WriterIn, WRITER_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """A writer anchors batches and checkpoints for this issuer (one issuer per account)."""
    admin = _admin(context)
    with audited(
        context.audit_log, principal.caller, "issuer.writer.add", WRITER_RESOURCE, request_id
    ):
        operation_id = admin.add_writer(body.account)
    return accepted(enqueued(context.db, operation_id), operation_id)


@router.post(
    "/writers/{account}/retire",
    status_code=202,
    response_model=OperationOut,
    summary="Retire a writer account",
    responses=_ACTION_PROBLEMS,
)
def retire_writer(
    principal: OperatorDep, context: ContextDep, request_id: RequestIdDep, account: AccountPath
) -> JSONResponse:
    """The account stops anchoring for this issuer from the block that retires it."""
    admin = _admin(context)
    action = "issuer.writer.retire"
    with audited(context.audit_log, principal.caller, action, WRITER_RESOURCE, request_id):
        operation_id = admin.retire_writer(account)
    return accepted(enqueued(context.db, operation_id), operation_id)

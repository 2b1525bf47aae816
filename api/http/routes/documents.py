"""``POST /documents/verify``: whether this exact file is the certificate file a credential names.

The body is ``multipart/form-data`` (``api.http.uploads``) with two parts: ``file``,
the OFD or PDF as the holder has it (at most ``MAX_FILE_BYTES``), and
``credential``, the credential as JSON (I-JSON, at most the API's body cap). The
answer is the credential's full verification, as ``POST /credentials/verify``
gives it (the province's verifier, checks 0-7), plus ``file``: the file check of
``credentials.file_binding`` (media type from the bytes, size, SM3 digest). The
verdict is VALID only when both hold; ``credentialVerdict`` keeps the credential's
own.

Like the other verify routes: the verifier role, the declared purpose
(``X-Purpose``, ``X-Legal-Basis``), the same rate limits, and one access event
``credential.verify`` recorded before the answer (503 ``access-log-unavailable``
otherwise), whose outcome is the combined verdict. The file's bytes go nowhere but
the SM3 function: not to a log, not to the audit log, not to disk; the answer
gives back only its digest, media type and size.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.errors import ProblemCode
from api.http.auth import Principal
from api.http.context import ProvinceContext
from api.http.deps import ContextDep, DeclarationDep, RequestIdDep, VerifierDep
from api.http.lean import json_response
from api.http.problems import FieldIssue, Problem, problem_responses, unavailable
from api.http.schemas.documents import DocumentVerificationOut, file_check_json
from api.http.uploads import FORM_DATA, FormParts, read_form
from api.province.access import Declaration, record_access_async
from credentials import ijson
from credentials.file_binding import (
    MAX_FILE_BYTES,
    CertificateFile,
    FileFacts,
    check_facts,
    inspect_file,
)
from credentials.reasons import CheckStatus
from credentials.verify import CREDENTIAL_VERIFY, VerificationRequest, Verifier
from credentials.verify.outcome import Failed, Passed
from credentials.verify.vcapi import Malformed, VcApiVerification, check_request, problem_type
from ledger.audit.events import Outcome

__all__ = ["CREDENTIAL_PART", "FILE_PART", "router"]

router = APIRouter(tags=["verification"])

FILE_PART = "file"
"""The part holding the certificate file."""
CREDENTIAL_PART = "credential"
"""The part holding the credential (JSON)."""

_FORM_SLACK = 64 * 1024  # boundaries and part headers
_RETRY_AFTER = "5"
_FILE_CHECK = "certificate-file"

_PROBLEMS = problem_responses(400, 401, 403, 413, 415, 422, 429, 500, 503)
_PROBLEMS[400]["description"] = (
    "Not a well-formed multipart body with exactly the parts `file` and `credential` "
    "(`bad-request`, naming the part), the credential part not I-JSON (`invalid-json`, ...), "
    "or not a credential at all (`bad-request`, naming each member, never its value)."
)
_PROBLEMS[413]["description"] = (
    f"The body, or the file part beyond {MAX_FILE_BYTES} bytes, or the credential part "
    "beyond the API's body cap (`body-too-large`)."
)
_PROBLEMS[415]["description"] = f"The body is not `{FORM_DATA}` with a boundary."
_PROBLEMS[422]["description"] = "`X-Purpose` or `X-Legal-Basis` missing or malformed."
_PROBLEMS[500]["description"] = "The verifier failed unexpectedly (`internal-error`)."
_PROBLEMS[503]["description"] = (
    "The verifier could not decide (`store-unavailable`), the access event could not be "
    "recorded (`access-log-unavailable`), or no verifier is served (`unavailable`); see "
    "`Retry-After`."
)

_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FORM_DATA: {
                "schema": {
                    "type": "object",
                    "required": [FILE_PART, CREDENTIAL_PART],
                    "properties": {
                        FILE_PART: {
                            "type": "string",
                            "format": "binary",
                            "description": f"The OFD or PDF file, at most {MAX_FILE_BYTES} "
                            "bytes. Its media type is read from its bytes; the part's own "
                            "Content-Type is not evidence.",
                        },
                        CREDENTIAL_PART: {
                            "type": "string",
                            "format": "binary",
                            "description": "The credential naming the file, as JSON (I-JSON).",
                        },
                    },
                    "additionalProperties": False,
                },
                "encoding": {CREDENTIAL_PART: {"contentType": "application/json"}},
            }
        },
    }
}


def _verifier(context: ProvinceContext) -> Verifier:
    if context.verifier is None:
        raise unavailable("verification")
    return context.verifier


def _form(context: ProvinceContext) -> FormParts:
    credential_cap = context.limits.body_bytes
    return FormParts(
        {FILE_PART: MAX_FILE_BYTES, CREDENTIAL_PART: credential_cap},
        MAX_FILE_BYTES + credential_cap + _FORM_SLACK,
    )


def _credential(context: ProvinceContext, data: bytes) -> Any:
    """The credential part, decoded as the JSON routes decode a body (I-JSON, caps)."""
    limits = context.limits
    # InputRejectedError (not I-JSON) is answered by the problem table, as for a JSON body.
    return ijson.parse(data, ijson.Limits(limits.body_bytes, limits.max_depth, limits.max_array))


def _malformed(malformed: Malformed) -> Problem:
    return Problem(
        ProblemCode.BAD_REQUEST,
        malformed.detail(),
        errors=[
            FieldIssue(field=f"{CREDENTIAL_PART}{p.pointer}", rule=f"{p.rule} ({p.type})")
            for p in malformed.problems
        ],
    )


def _evaluate(
    verifier: Verifier, credential: Any, data: bytes
) -> tuple[VcApiVerification, Passed[CertificateFile] | Failed, FileFacts]:
    """The credential's checklist and the file check (both CPU: run in the thread pool)."""
    options = check_request("credential", credential, None)
    if isinstance(options, Malformed):
        raise _malformed(options)
    result = verifier.evaluate_parsed_credential(credential)
    facts = inspect_file(data)
    return (
        VcApiVerification("credential", result, credential, options),
        check_facts(credential, facts),
        facts,
    )


def _file_problem(failure: Failed) -> dict[str, Any]:
    problem: dict[str, Any] = {
        "type": problem_type(failure.reason.value),
        "title": "Not the certificate file the credential names",
        "detail": failure.message,
        "check": _FILE_CHECK,
        "reasonCode": failure.reason.value,
    }
    if failure.at is not None:
        problem["at"] = failure.at
    return problem


def _answer(
    checked: VcApiVerification, outcome: Passed[CertificateFile] | Failed, facts: FileFacts
) -> dict[str, Any]:
    answer = checked.to_json()
    own = checked.result.verdict.value
    file_holds = isinstance(outcome, Passed)
    answer["verified"] = checked.verified and file_holds
    if not file_holds and checked.result.verdict is CheckStatus.VALID:
        answer["verdict"] = CheckStatus.INVALID.value
    if isinstance(outcome, Failed) and "problemDetails" in answer:
        answer["problemDetails"].append(_file_problem(outcome))
    answer["credentialVerdict"] = own
    answer["file"] = file_check_json(outcome, facts)
    return answer


def _undecided(checked: VcApiVerification) -> Problem:
    if checked.unavailable:
        return Problem(
            ProblemCode.STORE_UNAVAILABLE,
            "the verifier could not read its store or chain index, or the index has not "
            "reached the anchor's block yet; retry later",
            headers={"Retry-After": _RETRY_AFTER},
        )
    return Problem(ProblemCode.INTERNAL_ERROR, "the verification failed; see the server log")


async def _verify_document(
    request: Request,
    context: ProvinceContext,
    principal: Principal,
    declared: Declaration,
    request_id: str,
) -> Response:
    verifier = _verifier(context)
    started = time.perf_counter()
    parts = await read_form(request, _form(context))
    credential = _credential(context, bytes(parts[CREDENTIAL_PART].data))
    data = bytes(parts[FILE_PART].data)
    del parts
    checked, outcome, facts = await run_in_threadpool(_evaluate, verifier, credential, data)
    del data
    event = verifier.access_event(
        checked.result,
        VerificationRequest(principal.caller, declared.purpose, declared.legal_basis, request_id),
        CREDENTIAL_VERIFY,
    )
    if isinstance(outcome, Failed) and event.outcome is Outcome.SUCCESS:
        event = dataclasses.replace(event, outcome=Outcome.INVALID)
    await record_access_async(context.audit_log, principal.caller, [event], verdict=True)
    context.metrics.verification_seconds.observe(time.perf_counter() - started, "credential")
    context.metrics.verified.inc()
    if not checked.decided:
        raise _undecided(checked)
    return json_response(_answer(checked, outcome, facts))


@router.post(
    "/documents/verify",
    response_model=DocumentVerificationOut,
    summary="Verify a credential and the certificate file it names (logged as credential.verify)",
    responses=_PROBLEMS,
    openapi_extra=_REQUEST_BODY,
)
async def verify_document(
    principal: VerifierDep,
    declared: DeclarationDep,
    context: ContextDep,
    request_id: RequestIdDep,
    request: Request,
) -> Response:
    """Checks (0)-(7) on the credential, and whether the file is exactly the one it names.

    Multipart parts ``file`` (OFD or PDF) and ``credential`` (JSON); VALID only when both
    hold (docs/certificate-file.md).
    """
    return await _verify_document(request, context, principal, declared, request_id)

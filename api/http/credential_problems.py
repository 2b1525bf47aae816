"""Issuing refusals with the request's own JSON pointers: the one translation a route keeps.

Issuing errors name the *request* field that broke a rule (``/claims/dateOfBirth``,
``/holder``, ``/requests/3/validUntil``), never its value: a credential's pointer
(``/credentialSubject/<claim>``) is turned into the body's (``/claims/<claim>``).
A claim that is not one of the template's is named like any unknown member
(``api.http.problems.pointer_token``: its name when it looks like one, else
``*``), so a key that is itself personal data is never echoed; member names
below a claim are cut off. That needs the request, so the issuing routes call
these instead of leaving the error to the problem table
(``api.http.problems.PROBLEM_TABLE``), which maps every other error of
``credentials.errors`` callers cause; configuration errors are not theirs and
stay 500s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from api.errors import ProblemCode
from api.http.problems import FieldIssue, Problem, pointer_token
from credentials.credential import IssueRequest, build_credential
from credentials.disclosure import parse_pointer
from credentials.errors import (
    CredentialError,
    InputRejectedError,
    NotConformingError,
    SchemaViolationError,
    UnknownTemplateError,
)
from credentials.templates import TEMPLATES

__all__ = ["UNKNOWN_CLAIM_RULE", "batch_issue_problem", "issue_problem", "submitted_problem"]

UNKNOWN_CLAIM_RULE = "unknown claim: not one of the template's claims"
"""The rule of a claim the template does not define (``/claims/<name>``, or ``/claims/*``)."""

_LONG_DIGITS = re.compile(r"[0-9]{9,}")
_INDEX = re.compile(r"[0-9]{1,4}")
_TEMPLATE_RULE = "must name a certificate template: " + ", ".join(TEMPLATES)
_TOP_LEVEL = {"/validFrom": "/validFrom", "/validUntil": "/validUntil"}


def _claims_field(template: str, rest: list[str]) -> tuple[str, bool]:
    """The request's pointer below ``/claims``, and whether it names an unknown claim."""
    known = TEMPLATES.get(template)
    if not rest or known is None:
        return "/claims", False
    if rest[0] not in known.claims:
        try:
            [name] = parse_pointer("/" + rest[0])
        except ValueError:
            return "/claims/*", True
        return "/claims/" + pointer_token(name), True
    kept = [rest[0]]
    # Array positions below a claim are the format's; member names below it are input.
    for segment in rest[1:]:
        if not _INDEX.fullmatch(segment):
            break
        kept.append(segment)
    return "/claims/" + "/".join(kept), False


def _request_field(pointer: str, template: str) -> tuple[str, bool]:
    """The request's own pointer for a credential's, and whether it names an unknown claim."""
    if pointer in _TOP_LEVEL:
        return _TOP_LEVEL[pointer], False
    parts = pointer.split("/")[1:] if pointer.startswith("/") else []
    if parts[:1] != ["credentialSubject"]:
        return "", False
    if parts[1:2] == ["id"]:
        return "/holder", False
    return _claims_field(template, parts[1:])


def _safe_rule(rule: str, fallback: str) -> str:
    return fallback if _LONG_DIGITS.search(rule) else rule


def issue_problem(exc: CredentialError, request: IssueRequest, prefix: str = "") -> Problem | None:
    """The 422 for an issue request the domain refused, or None if the caller is not to blame.

    ``prefix`` is where the request sits in the body (``/requests/3`` in a batch).
    """
    if isinstance(exc, UnknownTemplateError):
        return Problem.validation(prefix + "/template", _TEMPLATE_RULE, "unknown template")
    if isinstance(exc, SchemaViolationError):
        field, unknown = _request_field(exc.pointer, request.template)
        rule = (
            UNKNOWN_CLAIM_RULE if unknown else _safe_rule(exc.rule, "breaks the template's schema")
        )
        return Problem.validation(
            prefix + field or "/", rule, "the request breaks a rule of the template"
        )
    if isinstance(exc, InputRejectedError):
        # The I-JSON checker's messages name the cap, never the value.
        rule = _safe_rule(str(exc), exc.reason)
        return Problem.validation(prefix + "/claims", rule, "the claims are not acceptable")
    return None


def batch_issue_problem(
    exc: CredentialError,
    requests: Sequence[IssueRequest],
    *,
    chain_id: int,
    issuer_id: int,
    now_ms: int,
) -> Problem | None:
    """The 422 for a refused batch, naming the first request that fails on its own.

    Issuing stops at the first bad request without saying which; building (no
    signing) finds it again. Only called once a batch was refused.
    """
    for index, request in enumerate(requests):
        try:
            build_credential(request, chain_id=chain_id, issuer_id=issuer_id, now_ms=now_ms)
        except CredentialError as found:
            return issue_problem(found, request, f"/requests/{index}")
    # Every request builds: only signing refused one (a credential over the size cap).
    problem = issue_problem(exc, requests[0])
    if problem is None:
        return None
    rule = problem.fields[0].rule if problem.fields else "a credential breaks a rule"
    return Problem.validation("/requests", rule, "a request of the batch breaks a rule")


def submitted_problem(exc: CredentialError) -> Problem | None:
    """The 400 for a credential submitted through the VC API, or None if the caller is not to blame.

    The credential's pointers become the body's (``/credential/validFrom``); options'
    stay as they are (``/options/mandatoryPointers/0``). Member names are shown
    only when they look like names (``pointer_token``).
    """
    if isinstance(exc, NotConformingError | SchemaViolationError):
        pointer, rule = exc.pointer, exc.rule
    elif isinstance(exc, InputRejectedError):
        pointer, rule = "", exc.reason
    else:
        return None
    try:
        tokens = parse_pointer(pointer)
    except ValueError:
        tokens = []
    safe = "".join("/" + (t if t.isdigit() else pointer_token(t)) for t in tokens)
    field = safe if tokens[:1] == ["options"] else "/credential" + safe
    return Problem(
        ProblemCode.BAD_REQUEST,
        "the credential does not conform to the VC data model or this issuer's profile",
        errors=[FieldIssue(field=field, rule=_safe_rule(rule, "breaks a rule"))],
    )

"""The VC API view of a verification: is the request well formed, and what was verified.

The W3C VC API (VCALM, ``POST /credentials/verify`` and ``POST /presentations/verify``)
sends ``{"verifiableCredential" | "verifiablePresentation": ..., "options": {...}}`` and
expects ``{"verified", "problemDetails", "results"?, "credential" | "verifiablePresentation"?}``.
This module is the one place that decides, for every caller (the HTTP routes, the
wallet, tools):

- **malformed request or failed check**: ``check_request`` holds the document to the
  VC Data Model (2.0 or 1.1, the rules of ``credentials.vcdm``: an object, ``@context``
  led by the base context, a ``type`` naming ``VerifiableCredential`` /
  ``VerifiablePresentation``, dateTimeStamps, URL ``id``/``issuer``/``holder``,
  ``proof`` an object or objects, ...) and the options to the VC API's lists. What
  breaks them is a malformed request (400: the verifier never runs, no challenge is
  used, no access event is written); anything else is verified, and a document that
  fails a check (Tongban's own rules of check (0) included) is a result with
  ``verified`` false;
- **options**: the known ones per route (``CREDENTIAL_OPTIONS``,
  ``PRESENTATION_OPTIONS``); an unknown one, or a known one of the wrong type, is a
  malformed request of type ``UNKNOWN_OPTION_PROVIDED`` / ``MALFORMED_OPTION``, as the
  VC API requires ("Implementations MUST throw an error if an endpoint receives data,
  options, or option values that it does not understand");
- **verified**: true only for the verdict VALID. A pending anchor (the credential
  carries no anchor proof yet) is ``verified`` false with its own problem type
  (``anchor_proof_missing``, titled "Anchor pending"); the verdict stays INVALID.
  A credential of an issuer outside the consortium whose proofs, validity period
  and status lists all hold (verdict ``UNREGISTERED_ISSUER``) is ``verified``
  false too, with exactly one problem of its own type (``issuer_not_in_registry``,
  titled "Issuer not in the consortium registry"): ``verified`` is this service's
  answer to "may I rely on it as a consortium certificate", and a caller that only
  reads ``verified`` must never take it for one. The VC API's cryptographic part is
  in ``results.proof`` (``verified`` true for each proof that verified);
- **decided**: an ERROR verdict means the verifier could not decide (its store or
  index failed, or a bug): there is no verification result to give, the caller
  answers it as a server error, never as ``verified`` false;
- **problem details**: one per failing check, ``type`` =
  ``VERIFICATION_PROBLEM_BASE`` + the reason code (stable: reason codes never change),
  ``title`` from the code, ``detail`` = the check's message (never a value of the
  document), plus the extension members ``check``, ``reasonCode`` and ``at``.

Nothing here reads the chain or writes anything; ``verify`` runs the ``Verifier``
it is given. Messages name members and positions, never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from credentials import vcdm
from credentials.anchor_proof import ANCHOR_PROOF_TYPE
from credentials.contexts import CREDENTIALS_V2
from credentials.disclosure import escape_token
from credentials.errors import nameable
from credentials.reasons import Check, CheckStatus, Reason
from credentials.vcdm import ModelViolation
from credentials.verify.result import CheckResult, VerificationResult

if TYPE_CHECKING:
    from credentials.verify.verifier import ExpectedProof, Verifier

__all__ = [
    "CREDENTIAL_OPTIONS",
    "MALFORMED_OPTION",
    "PRESENTATION_OPTIONS",
    "RETRY_REASONS",
    "UNKNOWN_OPTION_PROVIDED",
    "VCDM1_CONTEXT",
    "VCDM2_CONTEXT",
    "VERIFICATION_PROBLEM_BASE",
    "Kind",
    "Malformed",
    "RequestProblem",
    "VcApiVerification",
    "VerifyOptions",
    "check_request",
    "document_problems",
    "problem_details",
    "problem_type",
    "read_options",
    "verify",
]

Kind = Literal["credential", "presentation"]
"""What a request verifies."""

VERIFICATION_PROBLEM_BASE = "https://w3id.org/tongban/problems/verification#"
"""Prefix of every Tongban verification problem ``type``; a reason code follows it."""

UNKNOWN_OPTION_PROVIDED = "https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED"
"""The VC API's problem type for an option the implementation does not know."""

MALFORMED_OPTION = VERIFICATION_PROBLEM_BASE + "option_invalid"
"""A known option with a value of the wrong type (or ``options`` not an object)."""

VCDM2_CONTEXT = CREDENTIALS_V2
"""The base context of VCDM 2.0 (section 4.3): the first ``@context`` item."""

VCDM1_CONTEXT = vcdm.CREDENTIALS_V1
"""The base context of VCDM 1.1 (section 4.1): the first ``@context`` item."""

CREDENTIAL_OPTIONS: Mapping[str, type] = {
    "returnResults": bool,
    "returnProblemDetails": bool,
    "returnCredential": bool,
}
"""``VerifyCredentialOptions`` of the pinned VC API (additionalProperties: false)."""

PRESENTATION_OPTIONS: Mapping[str, type] = {
    "challenge": str,
    "domain": str,
    "returnPresentation": bool,
}
"""``VerifyPresentationOptions`` of the pinned VC API."""

RETRY_REASONS = frozenset({Reason.INDEX_UNAVAILABLE, Reason.ANCHOR_NOT_YET_INDEXED})
"""Reason codes of an ERROR that the same request, retried shortly, is expected to decide."""

_MEMBER = {"credential": "verifiableCredential", "presentation": "verifiablePresentation"}
_ENVELOPED = {
    "credential": "EnvelopedVerifiableCredential",
    "presentation": "EnvelopedVerifiablePresentation",
}


@dataclass(frozen=True)
class RequestProblem:
    """One reason a request is malformed: where (a JSON pointer into the body), the rule."""

    pointer: str
    rule: str
    type: str

    def to_json(self) -> dict[str, str]:
        """A VC API ProblemDetails object for it (names the member, never a value)."""
        return {
            "type": self.type,
            "title": "Malformed request",
            "detail": f"{self.pointer}: {self.rule}",
        }


@dataclass(frozen=True)
class Malformed:
    """A request the verifier does not run on: every problem found, in body order."""

    problems: tuple[RequestProblem, ...]

    @property
    def unknown_option(self) -> bool:
        """Whether an unknown option is among the problems."""
        return any(p.type == UNKNOWN_OPTION_PROVIDED for p in self.problems)

    def detail(self) -> str:
        """One sentence for a problem body: which members, never their values."""
        where = ", ".join(p.pointer for p in self.problems[:5])
        more = len(self.problems) - 5
        tail = f" and {more} more" if more > 0 else ""
        return f"the request is not a VC API verification request: see {where}{tail}"


@dataclass(frozen=True)
class VerifyOptions:
    """The options of one request, with the VC API's defaults.

    ``return_problem_details`` defaults to true (the pinned schema states no default);
    ``return_results`` and ``return_document`` to false ("if false or not provided, the
    verified credential should not be returned"). Presentations always carry
    ``results.presentation``.
    """

    return_results: bool = False
    return_problem_details: bool = True
    return_document: bool = False
    challenge: str | None = None
    domain: str | None = None

    def expected(self) -> ExpectedProof | None:
        """What the presentation's proof must carry (None: nothing asked)."""
        if self.challenge is None and self.domain is None:
            return None
        from credentials.verify.verifier import ExpectedProof

        # Imported here: the verifier pulls in the chain index, which a caller that
        # only classifies requests (the wallet) never needs.
        return ExpectedProof(challenge=self.challenge, domain=self.domain)


# ------------------------------------------------------------------ the request


def read_options(kind: Kind, options: object) -> VerifyOptions | list[RequestProblem]:
    """``options`` (the decoded member; None when absent) as ``VerifyOptions``, or its problems."""
    if options is None:
        return VerifyOptions()
    if not isinstance(options, dict):
        return [RequestProblem("/options", "must be a JSON object", MALFORMED_OPTION)]
    known = CREDENTIAL_OPTIONS if kind == "credential" else PRESENTATION_OPTIONS
    problems: list[RequestProblem] = []
    for name, value in options.items():
        shown = escape_token(name) if nameable(name) else "*"
        expected = known.get(name)
        if expected is None:
            problems.append(
                RequestProblem(
                    f"/options/{shown}", _unknown_rule(kind, name), UNKNOWN_OPTION_PROVIDED
                )
            )
        elif type(value) is not expected:
            word = "a boolean" if expected is bool else "a string"
            problems.append(
                RequestProblem(f"/options/{shown}", f"must be {word}", MALFORMED_OPTION)
            )
    if problems:
        return problems
    flag = "returnCredential" if kind == "credential" else "returnPresentation"
    return VerifyOptions(
        return_results=options.get("returnResults", False),
        return_problem_details=options.get("returnProblemDetails", True),
        return_document=options.get(flag, False),
        challenge=options.get("challenge"),
        domain=options.get("domain"),
    )


def _unknown_rule(kind: Kind, name: str) -> str:
    if kind == "credential" and name in PRESENTATION_OPTIONS:
        return (
            "not an option of POST /credentials/verify: a lone credential has no holder "
            "proof to carry a challenge or domain (use POST /presentations/verify)"
        )
    known = CREDENTIAL_OPTIONS if kind == "credential" else PRESENTATION_OPTIONS
    return f"unknown option; this endpoint knows {', '.join(sorted(known))}"


def _types(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else [value]


def _model_problem(violation: ModelViolation) -> RequestProblem:
    return RequestProblem(violation.pointer or "/", violation.rule, problem_type(violation.reason))


def _enveloped_problems(document: Mapping[str, Any], where: str) -> list[RequestProblem]:
    """VCDM 2.0 §12.2: the base context first, and an ``id`` that is a (data:) URL."""
    context = document.get("@context")
    if not isinstance(context, list) or not context or context[0] != CREDENTIALS_V2:
        rule = f"the first item must be {CREDENTIALS_V2} (VCDM 2.0 §12.2)"
        return [RequestProblem(f"{where}/@context", rule, problem_type(Reason.CONTEXT_INVALID))]
    if not vcdm.is_url(document.get("id")):
        rule = "must be a data: URL holding the enveloped document (VCDM 2.0 §12.2)"
        return [RequestProblem(f"{where}/id", rule, problem_type(Reason.ID_INVALID))]
    return []


def document_problems(
    kind: Kind, document: object, base: str | None = None
) -> list[RequestProblem]:
    """What makes ``document`` not a credential / presentation at all (empty: it is one).

    The VC Data Model's rules are ``credentials.vcdm``'s (the issuer and check (0) use
    the same ones); its first violation is the problem, and for a presentation that
    of each credential it carries. An enveloped document (VCDM 2.0 §12, its ``type``
    ``EnvelopedVerifiableCredential``/``...Presentation``) is well formed: its media
    type is what this verifier may not know, a failed check. ``base`` is the
    document's JSON pointer in the request (default: its member).
    """
    where = f"/{_MEMBER[kind]}" if base is None else base
    if isinstance(document, dict) and _ENVELOPED[kind] in _types(document.get("type")):
        return _enveloped_problems(document, where)
    try:
        if kind == "credential":
            vcdm.check_credential(document, where)
            return []
        model = vcdm.check_presentation(document, where)
    except ModelViolation as violation:
        return [_model_problem(violation)]
    embedded = document.get("verifiableCredential") if isinstance(document, dict) else None
    problems: list[RequestProblem] = []
    for index, credential in enumerate(model.credentials):
        at = f"{where}/verifiableCredential"
        at = f"{at}/{index}" if isinstance(embedded, list) else at
        problems.extend(document_problems("credential", credential, at))
    return problems


def check_request(kind: Kind, document: object, options: object) -> VerifyOptions | Malformed:
    """The request's options, or why it is malformed (the document first, then the options)."""
    problems = document_problems(kind, document)
    read = read_options(kind, options)
    if isinstance(read, list):
        problems.extend(read)
    if problems or isinstance(read, list):
        return Malformed(tuple(problems))
    return read


# ------------------------------------------------------------------- the answer


def problem_type(reason: str) -> str:
    """The problem ``type`` URI of a reason code."""
    return VERIFICATION_PROBLEM_BASE + reason


_TITLES = {
    Reason.ANCHOR_PROOF_MISSING.value: "Anchor pending",
    Reason.ISSUER_NOT_IN_REGISTRY.value: "Issuer not in the consortium registry",
}


def _title(reason: str) -> str:
    return _TITLES.get(reason, reason.replace("_", " ").capitalize())


def _problem(check: CheckResult) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": problem_type(check.reason_code),
        "title": _title(check.reason_code),
        "detail": check.message,
        "check": check.name,
        "reasonCode": check.reason_code,
    }
    if check.at is not None:
        document["at"] = check.at
    return document


def problem_details(result: VerificationResult) -> list[dict[str, Any]]:
    """One ProblemDetails per check that failed (INVALID or ERROR), in check order.

    When the verdict is not VALID but no check failed outright, the checks that were
    skipped for a reason of their own (not ``not_applicable``) are the problems.
    """
    failed = [c for c in result.checks if c.status in (CheckStatus.INVALID, CheckStatus.ERROR)]
    if not failed and result.verdict is not CheckStatus.VALID:
        failed = [
            c
            for c in result.checks
            if c.status is CheckStatus.SKIPPED and c.reason_code != Reason.NOT_APPLICABLE
        ]
    return [_problem(c) for c in failed]


def _ran(check: CheckResult) -> bool:
    return check.status in (CheckStatus.VALID, CheckStatus.INVALID)


def _proofs(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _credential_results(result: VerificationResult, document: Mapping[str, Any]) -> dict[str, Any]:
    """``results`` of VerifyCredentialResult: the members whose checks ran."""
    results: dict[str, Any] = {}
    validity = result.check(Check.VALIDITY)
    if _ran(validity):
        for name, failure in (("validFrom", Reason.NOT_YET_VALID), ("validUntil", Reason.EXPIRED)):
            if isinstance(document.get(name), str):
                ok = validity.reason_code != failure
                results[name] = {"verified": ok, "input": document[name]}
    parse = result.check(Check.PARSE)
    if parse.status is CheckStatus.VALID and "credentialSchema" in document:
        results["credentialSchema"] = [
            {"verified": True, "input": each} for each in _proofs(document["credentialSchema"])
        ]
    proofs = []
    for proof in _proofs(document.get("proof")):
        kind = proof.get("type") if isinstance(proof, dict) else None
        # Every proof but a legacy anchor proof is an issuer's (foreign ones: check 1).
        check = result.check(Check.ANCHOR if kind == ANCHOR_PROOF_TYPE else Check.ISSUER_PROOF)
        if _ran(check):
            proofs.append({"verified": check.status is CheckStatus.VALID, "input": proof})
    if proofs:
        results["proof"] = proofs
    return results


def _presentation_results(
    result: VerificationResult, document: Mapping[str, Any], options: VerifyOptions
) -> dict[str, Any]:
    """``results.presentation`` of VerifyPresentationResult, from check (6).

    Per-credential results are not given: the checklist combines a presentation's
    credentials per check (the worst, naming the credential), see ``checks``.
    """
    holder_check = result.check(Check.PRESENTATION)
    if not _ran(holder_check):
        return {}
    ok = holder_check.status is CheckStatus.VALID
    presentation: dict[str, Any] = {}
    if options.challenge is not None:
        presentation["challenge"] = {"verified": ok, "input": options.challenge}
    if options.domain is not None:
        presentation["domain"] = {"verified": ok, "input": options.domain}
    if isinstance(document.get("holder"), str):
        presentation["holder"] = {"verified": ok, "input": document["holder"]}
    presentation["proof"] = [
        {"verified": ok, "input": proof, "problemDetails": [] if ok else [_problem(holder_check)]}
        for proof in _proofs(document.get("proof"))
    ]
    return {"presentation": presentation}


@dataclass(frozen=True)
class VcApiVerification:
    """A verification the verifier decided or not, and its VC API answer."""

    kind: Kind
    result: VerificationResult
    document: Mapping[str, Any] = field(repr=False)
    options: VerifyOptions

    @property
    def verified(self) -> bool:
        """``verified``: true only when the verdict is VALID (never ``UNREGISTERED_ISSUER``)."""
        return self.result.verdict is CheckStatus.VALID

    @property
    def decided(self) -> bool:
        """False when the verifier could not decide (an ERROR verdict): no answer to give."""
        return self.result.verdict is not CheckStatus.ERROR

    @property
    def unavailable(self) -> bool:
        """Undecided for now: the store or chain index unreadable, or behind (worth a retry)."""
        return any(c.reason_code in RETRY_REASONS for c in self.result.checks)

    def to_json(self) -> dict[str, Any]:
        """The VC API VerificationResult, then Tongban's (``VerificationResult.to_json``)."""
        answer: dict[str, Any] = {"verified": self.verified}
        if self.options.return_problem_details:
            answer["problemDetails"] = problem_details(self.result)
        if self.kind == "credential":
            if self.options.return_results:
                answer["results"] = _credential_results(self.result, self.document)
            if self.options.return_document:
                answer["credential"] = self.document
        else:
            answer["results"] = _presentation_results(self.result, self.document, self.options)
            if self.options.return_document:
                answer["verifiablePresentation"] = self.document
        answer.update(self.result.to_json())
        return answer


def verify(
    verifier: Verifier,
    kind: Kind,
    document: object,
    options: object,
    *,
    now_ms: int | None = None,
    purpose: str | None = None,
) -> VcApiVerification | Malformed:
    """Check the request, then evaluate it (no access event: the caller records it).

    ``purpose``: the request's declared purpose, which a presentation bound to a
    purpose must name (``credentials.verify.purpose_binding``).

    A malformed request is returned as ``Malformed`` before the verifier runs, so it
    uses up no challenge. A presentation's challenge is consumed as by
    ``Verifier.evaluate_presentation``, held to ``options.challenge`` and
    ``options.domain`` when given.
    """
    checked = check_request(kind, document, options)
    if isinstance(checked, Malformed):
        return checked
    # document_problems refused every document that is not an object.
    document = cast("dict[str, Any]", document)
    if kind == "credential":
        result = verifier.evaluate_credential(document, now_ms=now_ms)
    else:
        result = verifier.evaluate_presentation(
            document, now_ms=now_ms, expected=checked.expected(), purpose=purpose
        )
    return VcApiVerification(kind, result, document, checked)

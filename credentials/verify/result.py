"""Check results and the verdict: building, combining and finishing a checklist's results.

A check result may point at the element it found at fault (``at``, a JSON
pointer into the verified document); the result lists what check (4) read of
each credential's status on chain (``StatusFinding``: status, reason code and
the block of the change) and what the Bitstring Status List check found for each
``credentialStatus`` entry (``ListFinding``, reported beside check (4)).

The verdict is VALID, INVALID or ERROR, or ``Verdict.UNREGISTERED_ISSUER`` when the
only thing that fails is that an issuer outside the consortium (not a
``did:tongban``) is not in the registry (``finish``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from credentials.jcs import canonicalize
from credentials.reasons import CHECK_NAMES, Check, CheckStatus, Reason, Verdict
from credentials.status import DigestStatus, StatusReason
from credentials.verify.outcome import Failed, Passed, Skipped
from ledger.crypto.sm3 import sm3

__all__ = [
    "CheckResult",
    "ListFinding",
    "StatusFinding",
    "VerificationResult",
    "check_result",
    "combine",
    "finish",
    "from_outcome",
    "only_unregistered",
    "parse_failure",
    "raw_digest",
    "skipped",
    "status_reason_name",
    "unavailable",
    "valid",
]


def status_reason_name(code: int) -> str:
    """The lower-case ``StatusReason`` name of on-chain reason ``code`` (``unknown``: unlisted)."""
    try:
        return StatusReason(code).name.lower()
    except ValueError:
        return "unknown"


@dataclass(frozen=True)
class StatusFinding:
    """A credential's status on chain as check (4) read it, as of the index height."""

    digest: str
    status: DigestStatus
    reason_code: int
    block_number: int | None

    @property
    def reason(self) -> str:
        """The reason of the latest change, by name (``unspecified`` if it never changed)."""
        return status_reason_name(self.reason_code)

    def describe(self) -> str:
        """The reason and block in words, for a check's message (codes and numbers only)."""
        where = "" if self.block_number is None else f" in block {self.block_number}"
        return f"reason {self.reason} (code {self.reason_code}){where}"

    def to_json(self) -> dict[str, Any]:
        """``{"digest", "status", "reason", "reasonCode", "blockNumber"}`` (no block: left out)."""
        document: dict[str, Any] = {
            "digest": self.digest,
            "status": self.status.name.lower(),
            "reason": self.reason,
            "reasonCode": self.reason_code,
        }
        if self.block_number is not None:
            document["blockNumber"] = self.block_number
        return document


@dataclass(frozen=True)
class ListFinding:
    """The Bitstring Status List check of one ``credentialStatus`` entry, as reported.

    ``credential``: the credential's position (0 for a credential alone); ``entry``:
    the entry's position in its ``credentialStatus``. ``status`` is VALID (bit 0),
    INVALID (bit 1: ``revoked`` / ``suspended``, or a list that breaks the
    specification) or SKIPPED (the list was not retrieved, or a purpose not
    checked). ``error_type`` is the specification's error URL when it raised one;
    ``chain_agrees`` whether the bit says what the chain says (None: not compared).
    """

    credential: int
    entry: int
    purpose: str | None
    index: int | None
    status: CheckStatus
    reason_code: str
    message: str
    status_block: int | None = None
    error_type: str | None = None
    chain_agrees: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """``{credential, entry, purpose, index, status, reasonCode, message, ...}``."""
        document: dict[str, Any] = {
            "credential": self.credential,
            "entry": self.entry,
            "purpose": self.purpose,
            "index": self.index,
            "status": self.status.value,
            "reasonCode": self.reason_code,
            "message": self.message,
        }
        if self.status_block is not None:
            document["statusBlock"] = self.status_block
        if self.error_type is not None:
            document["errorType"] = self.error_type
        if self.chain_agrees is not None:
            document["chainAgrees"] = self.chain_agrees
        return document


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome; ``at`` points at the element it found at fault, if one."""

    number: int
    name: str
    status: CheckStatus
    reason_code: str
    message: str
    at: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form for APIs (``at`` only when set)."""
        document: dict[str, Any] = {
            "number": self.number,
            "name": self.name,
            "status": self.status.value,
            "reasonCode": self.reason_code,
            "message": self.message,
        }
        if self.at is not None:
            document["at"] = self.at
        return document


@dataclass(frozen=True)
class VerificationResult:
    """The checklist's outcome for one credential or presentation."""

    kind: str
    checks: tuple[CheckResult, ...]
    verdict: CheckStatus | Verdict
    index_height: int
    digests: tuple[str, ...]
    resource: str
    holder: str | None = field(default=None, repr=False)
    statuses: tuple[StatusFinding, ...] = ()
    status_lists: tuple[ListFinding, ...] = ()
    certificates: tuple[Mapping[str, Any], ...] = ()
    """The ``zhengzhao`` members of the credentials that carry one, with their position."""

    @property
    def valid(self) -> bool:
        """Whether the verdict is VALID."""
        return self.verdict is CheckStatus.VALID

    def check(self, number: int) -> CheckResult:
        """The result of check ``number``."""
        return self.checks[number]

    def first_failure(self) -> CheckResult | None:
        """The lowest-numbered check that is INVALID or ERROR, if any."""
        for result in self.checks:
            if result.status in (CheckStatus.INVALID, CheckStatus.ERROR):
                return result
        return None

    def to_json(self) -> dict[str, Any]:
        """JSON form for APIs (no personal data: digests, codes, the index height).

        ``statuses`` (what check (4) read, per credential) only when it read any;
        ``statusList`` (the Bitstring Status List check) only for entries it checked;
        ``zhengzhao`` (each certificate's 证照标识, agency, trust grade) only when a
        credential carries the member.
        """
        document: dict[str, Any] = {
            "kind": self.kind,
            "verdict": self.verdict.value,
            "indexHeight": self.index_height,
            "credentialDigests": list(self.digests),
            "checks": [c.to_json() for c in self.checks],
        }
        if self.statuses:
            document["statuses"] = [s.to_json() for s in self.statuses]
        if self.status_lists:
            document["statusList"] = [s.to_json() for s in self.status_lists]
        if self.certificates:
            document["zhengzhao"] = [dict(c) for c in self.certificates]
        return document


def check_result(
    check: Check, status: CheckStatus, reason: Reason, message: str, at: str | None = None
) -> CheckResult:
    """The result of ``check``, named and numbered."""
    return CheckResult(int(check), CHECK_NAMES[check], status, reason.value, message, at)


def valid(check: Check, message: str = "ok") -> CheckResult:
    """``check`` is VALID."""
    return check_result(check, CheckStatus.VALID, Reason.OK, message)


def skipped(check: Check, reason: Reason, message: str) -> CheckResult:
    """``check`` is SKIPPED for ``reason``."""
    return check_result(check, CheckStatus.SKIPPED, reason, message)


def from_outcome(check: Check, outcome: Passed[object] | Skipped | Failed) -> CheckResult:
    """The result of ``check`` that returned ``outcome``."""
    if isinstance(outcome, Passed):
        return valid(check, outcome.message)
    if isinstance(outcome, Skipped):
        return skipped(check, outcome.reason, outcome.message)
    return check_result(check, CheckStatus.INVALID, outcome.reason, outcome.message, outcome.at)


def raw_digest(document: object) -> str:
    """SM3 of a document that did not parse (its bytes, or a stand-in): its event resource."""
    if isinstance(document, str):
        data = document.encode("utf-8", "surrogatepass")
    elif isinstance(document, bytes | bytearray | memoryview):
        data = bytes(document)
    else:
        try:
            data = canonicalize(document)
        except Exception:  # noqa: BLE001 - any undecodable value gets a fixed stand-in
            data = repr(type(document)).encode()
    return sm3(data).hex()


def parse_failure(kind: str, failure: Failed, height: int, document: object) -> VerificationResult:
    """Check (0) failed (ERROR for an internal error, else INVALID); the others are skipped."""
    status = CheckStatus.ERROR if failure.reason is Reason.INTERNAL_ERROR else CheckStatus.INVALID
    results = {
        Check.PARSE: check_result(Check.PARSE, status, failure.reason, failure.message, failure.at)
    }
    for check in Check:
        if check is not Check.PARSE:
            results[check] = skipped(
                check, Reason.PREREQUISITE_FAILED, "not checked: the document did not parse"
            )
    return finish(kind, results, height, [], f"{kind}:{raw_digest(document)}", None)


def unavailable(kind: str, digests: Sequence[str], holder: str | None) -> VerificationResult:
    """The document parsed but the chain index could not be read: ERROR for checks (1)-(7)."""
    results = {Check.PARSE: valid(Check.PARSE)}
    for check in Check:
        if check is not Check.PARSE:
            results[check] = check_result(
                check, CheckStatus.ERROR, Reason.INDEX_UNAVAILABLE, "the chain index is unavailable"
            )
    resource = f"{kind}:{digests[0] if digests else '0' * 64}"
    return finish(kind, results, -1, digests, resource, holder)


_SEVERITY = {
    CheckStatus.INVALID: 3,
    CheckStatus.ERROR: 2,
    CheckStatus.SKIPPED: 1,
    CheckStatus.VALID: 0,
}


def _severity(result: CheckResult) -> tuple[int, int]:
    # Of two INVALID results, an unregistered issuer ranks below any other failure, so
    # a presentation's combined check (2) never hides a compromised key behind it.
    trust_only = result.reason_code == Reason.ISSUER_NOT_IN_REGISTRY
    return _SEVERITY[result.status], 0 if trust_only else 1


def _holds(result: CheckResult) -> bool:
    return result.status is CheckStatus.VALID or (
        result.status is CheckStatus.SKIPPED and result.reason_code == Reason.NOT_APPLICABLE
    )


def only_unregistered(
    per_credential: Sequence[Mapping[Check, CheckResult]], presentation: CheckResult | None = None
) -> bool:
    """Whether the one thing wrong is check (2)'s ``issuer_not_in_registry`` (``finish``).

    True when at least one credential's issuer is outside the registry and, apart from
    that, every check of every credential (and the presentation's own, if given) holds.
    """
    if presentation is not None and not _holds(presentation):
        return False
    unregistered = False
    for results in per_credential:
        for check, result in results.items():
            if check is Check.ISSUER_KEY and result.reason_code == Reason.ISSUER_NOT_IN_REGISTRY:
                unregistered = True
            elif not _holds(result):
                return False
    return unregistered


def combine(per_credential: Sequence[Mapping[Check, CheckResult]]) -> dict[Check, CheckResult]:
    """One result per check for a presentation's credentials: the worst, naming the credential.

    Its ``at`` becomes a pointer into the presentation (``/verifiableCredential/<i>/...``).
    """
    combined: dict[Check, CheckResult] = {}
    for check in Check:
        if check is Check.PRESENTATION:
            continue
        worst: CheckResult | None = None
        worst_index = 0
        for index, results in enumerate(per_credential):
            result = results[check]
            if worst is None or _severity(result) > _severity(worst):
                worst, worst_index = result, index
        if worst is None:
            continue
        if worst.status is not CheckStatus.VALID and len(per_credential) > 1:
            worst = replace(worst, message=f"credential {worst_index}: {worst.message}")
        if worst.at is not None:
            worst = replace(worst, at=f"/verifiableCredential/{worst_index}{worst.at}")
        combined[check] = worst
    return combined


def finish(
    kind: str,
    results: Mapping[Check, CheckResult],
    height: int,
    digests: Sequence[str],
    resource: str,
    holder: str | None,
    on_chain: Sequence[StatusFinding] = (),
    *,
    lists: Sequence[ListFinding] = (),
    unregistered: bool = False,
    certificates: Sequence[Mapping[str, Any]] = (),
) -> VerificationResult:
    """The verification result: VALID only when every applicable check is VALID.

    ``on_chain``: the statuses check (4) read, in the order of ``digests``; ``lists``:
    the Bitstring Status List findings; ``certificates``: the credentials' ``zhengzhao``
    members (``zhengzhao_member.reported``). ``unregistered``: the caller found, for each
    credential, nothing wrong but an issuer outside the registry (``only_unregistered``
    of each, the presentation's own check included): an INVALID verdict becomes
    ``UNREGISTERED_ISSUER``.
    """
    checks = tuple(results[c] for c in Check)
    statuses = {c.status for c in checks}
    applicable_skips = any(
        c.status is CheckStatus.SKIPPED and c.reason_code != Reason.NOT_APPLICABLE for c in checks
    )
    if CheckStatus.INVALID in statuses:
        verdict = CheckStatus.INVALID
    elif CheckStatus.ERROR in statuses:
        verdict = CheckStatus.ERROR
    elif applicable_skips:
        verdict = CheckStatus.INVALID
    else:
        verdict = CheckStatus.VALID
    final: CheckStatus | Verdict = verdict
    if unregistered and verdict is CheckStatus.INVALID:
        final = Verdict.UNREGISTERED_ISSUER
    return VerificationResult(
        kind,
        checks,
        final,
        height,
        tuple(digests),
        resource,
        holder,
        tuple(on_chain),
        tuple(lists),
        tuple(certificates),
    )

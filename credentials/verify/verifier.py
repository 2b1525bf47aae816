"""The verifier: DESIGN's numbered checklist, one result per check, and the verdict.

Any province verifies a presented credential or presentation from the document
and the chain alone. Chain id and contract addresses come from the verifier's
own ``VerifierConfig``, never from the document; chain state comes from the
local ``ChainIndex`` (no RPC per verification), and every answer reports the
index height it reflects. The checks, in order:

(0) parse: I-JSON, size/depth/array caps, the credential structure, the template's
    JSON Schema over the revealed claims;
(1) the issuer's ``sm2-jcs-2026`` proof over the secured form, ``proofPurpose``
    ``assertionMethod``, a verification method of the issuer found in the registry;
(2) the issuer is registered, and the signing key was valid at the block time of
    the transaction that anchored the credential's batch;
(3) Merkle inclusion of the credential digest in a root that this issuer anchored
    in the verifier's configured CredentialAnchor on the configured chain;
(4) not revoked, not suspended (the result lists each credential's status on chain:
    status, reason code, block of the change);
(5) the validity period contains the verification time;
(6) presentations only: the holder's signature (``authentication``), holder
    binding (every credential's subject is the holder), the server-issued challenge
    (single use, unexpired, for this verifier) and the domain (this verifier's DID);
(7) every presented disclosure hashes to a digest in the secured form's ``_sd``.

A credential whose issuer is not a ``did:tongban`` (a *foreign* credential) gets
the checks that apply to it (``credentials.verify.foreign``): its Data Integrity
proofs (1), ``issuer_not_in_registry`` (2), no anchor (3), its status lists as its
status (4), its validity period (5); when only (2) fails the verdict is
``UNREGISTERED_ISSUER``, never VALID. A presentation may mix both kinds, and its
holder may sign with a ``did:key`` of another curve. Every credential's
``BitstringStatusListEntry`` entries are checked through the injected
``fetch_list`` and reported in ``statusList`` (``status_list_check``); for a
Tongban credential the chain still decides check (4).

Each check is ``VALID``, ``INVALID``, ``ERROR`` (the verifier could not decide,
e.g. its store failed) or ``SKIPPED`` (not applicable, or a prerequisite failed),
with a frozen reason code (``credentials.reasons``) and a message that never
quotes the document. The verdict is ``VALID`` only when every applicable check is
``VALID``. Every verification appends one access event to the verifier's audit
log (no answer is given if that fails).

This module orchestrates; the checks are ``credentials.verify.parse`` (0),
``credentials.verify.checks`` (1)-(7) and, for their parts that need no chain,
``credentials.verify.offline``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from credentials.errors import AccessLogUnavailableError, ConfigurationError
from credentials.ijson import CREDENTIAL_LIMITS, PRESENTATION_LIMITS, Limits
from credentials.jcs import canonicalize
from credentials.reasons import Check, CheckStatus, Reason
from credentials.times import now_ms
from credentials.verify import checks, foreign
from credentials.verify import parse as parsing
from credentials.verify.chain_state import ChainState, HeightCache
from credentials.verify.checks import PRESENTATION_PURPOSE
from credentials.verify.config import VerifierConfig
from credentials.verify.foreign import ForeignCredential, MixedPresentation
from credentials.verify.outcome import CheckFailedError, Failed, Passed, Skipped
from credentials.verify.parse import (
    ParsedCredential,
    ParsedPresentation,
    load_presentation,
)
from credentials.verify.result import (
    CheckResult,
    ListFinding,
    StatusFinding,
    VerificationResult,
    check_result,
    combine,
    finish,
    from_outcome,
    only_unregistered,
    parse_failure,
    skipped,
    unavailable,
    valid,
)
from credentials.verify.status_list_check import (
    FetchList,
    Retrieved,
    check_entries,
    foreign_list_verifier,
    foreign_status,
    list_urls,
    prefetch,
    tongban_list_verifier,
)
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.chain.index import ChainIndex
from ledger.crypto.sm3 import sm3
from ledger.store.challenges import Challenge, Challenges
from ledger.store.database import StoreError

log = logging.getLogger(__name__)

__all__ = [
    "CREDENTIAL_VERIFY",
    "PRESENTATION_PURPOSE",
    "PRESENTATION_VERIFY",
    "AccessLog",
    "CheckResult",
    "ExpectedProof",
    "VerificationRequest",
    "VerificationResult",
    "Verifier",
    "VerifierConfig",
]

CREDENTIAL_VERIFY = "credential.verify"
"""Action of the access event of a credential verification."""

PRESENTATION_VERIFY = "presentation.verify"
"""Action of the access event of a presentation verification."""

T = TypeVar("T")

_INDEX_UNREADABLE = "the chain index could not be read"


@dataclass(frozen=True)
class VerificationRequest:
    """Why and for whom a verification is done: goes to the access event.

    ``caller`` comes from the verifier's authentication, ``purpose`` and
    ``legal_basis`` are codes (``[a-z][a-z0-9_.-]{0,63}``), ``request_id`` a token.
    """

    caller: Caller
    purpose: str
    legal_basis: str
    request_id: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class ExpectedProof:
    """What the caller expects a presentation's proof to carry (VC API ``options``).

    ``challenge``: one this verifier issued (``issue_challenge``) that every proof of
    the presentation must carry, else check (6) is ``challenge_mismatch``; if the
    store does not know it as a presentation challenge of this verifier, check (6)
    is ``challenge_not_issued``. ``domain``: every proof's domain must equal it, else
    ``domain_mismatch``. Either may be None (not asked for).
    """

    challenge: str | None = None
    domain: str | None = None


class AccessLog(Protocol):
    """Where access events go: ``ledger.audit.log.AuditLog`` or anything with its ``append``."""

    def append(self, caller: Caller, event: EventInput) -> object:
        """Append one event durably."""


def _run(
    results: dict[Check, CheckResult],
    check: Check,
    run: Callable[[], Passed[T] | Skipped | Failed],
    *,
    unreadable: str = _INDEX_UNREADABLE,
) -> T | None:
    """Record one check's result; its value when it passed, else None.

    A failed store read is ERROR ``index_unavailable``, any other exception ERROR
    ``internal_error``: a bug never turns into VALID or INVALID.
    """
    try:
        outcome = run()
    except StoreError:
        log.exception("store unavailable during check %s", int(check))
        results[check] = check_result(
            check, CheckStatus.ERROR, Reason.INDEX_UNAVAILABLE, unreadable
        )
        return None
    except Exception:
        log.exception("check %s failed unexpectedly", int(check))
        results[check] = check_result(
            check, CheckStatus.ERROR, Reason.INTERNAL_ERROR, "internal error"
        )
        return None
    results[check] = from_outcome(check, outcome)
    return outcome.value if isinstance(outcome, Passed) else None


Checked = tuple[dict[Check, CheckResult], StatusFinding | None, list[ListFinding]]
"""One credential's check results, its on-chain status read, its status list findings."""


def _guarded(run: Callable[[], Passed[T] | Failed], what: str) -> Passed[T] | Failed:
    """Check (0) of a pre-parsed document: a ``CheckFailedError`` is its failure, a bug ERROR."""
    try:
        return run()
    except CheckFailedError as fail:
        return fail.failure
    except Exception:
        log.exception("parsing a %s failed unexpectedly", what)
        return Failed(Reason.INTERNAL_ERROR, "internal error")


_NOT_ISSUED = frozenset({Reason.CHALLENGE_UNKNOWN, Reason.CHALLENGE_WRONG_AUDIENCE})
"""Challenge store answers that mean "not issued by this verifier for presentations"."""


def _parsed_credential(value: Any) -> Passed[ParsedCredential] | Failed:
    try:
        return Passed(parsing.parse_credential(value))
    except CheckFailedError as fail:
        return fail.failure


def _within_caps(value: Any, limits: Limits = CREDENTIAL_LIMITS) -> Passed[Any] | Failed:
    """``value`` within the depth and array caps of ``limits`` (the top level counts as 1)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if type(value) in (dict, list) else []
    while stack:
        item, depth = stack.pop()
        members = item.values() if type(item) is dict else item
        if depth > limits.max_depth:
            return Failed(
                Reason.INPUT_TOO_DEEP, f"the document nests deeper than {limits.max_depth}"
            )
        if type(item) is list and len(item) > limits.max_array:
            return Failed(
                Reason.INPUT_ARRAY_TOO_LONG, f"an array has more than {limits.max_array} items"
            )
        stack.extend((member, depth + 1) for member in members if type(member) in (dict, list))
    return Passed(value)


def _proof_mismatch(proof: object, expected: ExpectedProof) -> Failed | None:
    """``challenge_mismatch`` or ``domain_mismatch`` when a proof lacks what is expected."""
    proofs = proof if isinstance(proof, list) else [proof]
    for each in proofs:
        found = each if isinstance(each, dict) else {}
        if expected.challenge is not None and found.get("challenge") != expected.challenge:
            return Failed(
                Reason.CHALLENGE_MISMATCH,
                "the presentation's proof does not carry the challenge of options.challenge",
            )
        if expected.domain is not None and found.get("domain") != expected.domain:
            return Failed(
                Reason.DOMAIN_MISMATCH,
                "the presentation's proof does not carry the domain of options.domain",
            )
    return None


class Verifier:
    """Verifies credentials and presentations for one province."""

    def __init__(
        self,
        config: VerifierConfig,
        index: ChainIndex,
        challenges: Challenges,
        access_log: AccessLog,
        *,
        clock: Callable[[], int] = now_ms,
        fetch_list: FetchList | None = None,
    ) -> None:
        """Verify against ``index`` (which must follow ``config``'s chain and contracts).

        ``fetch_list`` gets status list credentials by URL for the status list check
        (None: no list is fetched, each entry is reported SKIPPED).
        """
        if (index.chain_id, index.registry_address, index.anchor_address) != (
            config.chain_id,
            config.registry,
            config.credential_anchor,
        ):
            raise ConfigurationError(
                "the chain index follows another chain or other contracts than the verifier's "
                "configuration"
            )
        self.config = config
        self.index = index
        self.challenges = challenges
        self.access_log = access_log
        self.clock = clock
        self.fetch_list = fetch_list
        self._cache = HeightCache()

    # ------------------------------------------------------------- challenges

    def issue_challenge(self, *, now_ms: int | None = None) -> Challenge:
        """A fresh single-use challenge for a presentation to this verifier."""
        now = self.clock() if now_ms is None else now_ms
        return self.challenges.issue(
            PRESENTATION_PURPOSE, now, self.config.challenge_ttl_ms, self.config.did
        )

    # ------------------------------------------------------------ entry points

    def verify_credential(
        self, document: Any, request: VerificationRequest, *, now_ms: int | None = None
    ) -> VerificationResult:
        """Run checks (0)-(7) on one credential (bytes, text or decoded JSON)."""
        result = self.evaluate_credential(document, now_ms=now_ms)
        self._record(result, request, CREDENTIAL_VERIFY)
        return result

    def verify_presentation(
        self,
        document: Any,
        request: VerificationRequest,
        *,
        now_ms: int | None = None,
        expected: ExpectedProof | None = None,
    ) -> VerificationResult:
        """Run checks (0)-(7) on a presentation; consumes its challenge."""
        result = self.evaluate_presentation(document, now_ms=now_ms, expected=expected)
        self._record(result, request, PRESENTATION_VERIFY)
        return result

    # -------------------------------------------------------------- evaluation

    def evaluate_credential(
        self, document: Any, *, now_ms: int | None = None
    ) -> VerificationResult:
        """The checklist for one credential, without the access event."""
        return self._evaluate_credential(
            document, foreign.decode(document, CREDENTIAL_LIMITS), now_ms
        )

    def evaluate_parsed_credential(
        self, document: Any, *, now_ms: int | None = None
    ) -> VerificationResult:
        """``evaluate_credential`` of a value ``credentials.ijson.parse`` decoded (a body's).

        Its I-JSON value rules held then: only ``CREDENTIAL_LIMITS``' container caps are checked.
        """
        return self._evaluate_credential(document, _within_caps(document), now_ms)

    def _evaluate_credential(
        self, document: Any, decoded: Passed[Any] | Failed, now_ms: int | None
    ) -> VerificationResult:
        now = self.clock() if now_ms is None else now_ms
        # (0) parse: a foreign issuer's credential by its own rules, else Tongban's
        loaded: Passed[ParsedCredential | ForeignCredential] | Failed
        if isinstance(decoded, Failed):
            loaded = decoded
        elif foreign.is_foreign(decoded.value):
            loaded = _guarded(lambda: Passed(foreign.parse_foreign(decoded.value)), "credential")
        else:
            # decoded.value is within CREDENTIAL_LIMITS already: parsed, not checked again.
            loaded = _guarded(lambda: _parsed_credential(decoded.value), "credential")
        if isinstance(loaded, Failed):
            return self._parse_failure("credential", loaded, document)
        parsed = loaded.value
        retrieved = prefetch(list_urls([parsed.document]), self.fetch_list)
        try:
            with self.index.view() as view:
                chain = ChainState(view, self._cache)
                results, found, lists = self._checks(parsed, 0, chain, retrieved, now)
                height = view.height
        except StoreError:
            log.exception("the chain index could not be read")
            return unavailable("credential", [parsed.digest.hex()], parsed.holder)
        # (6) presentation
        results[Check.PRESENTATION] = skipped(
            Check.PRESENTATION, Reason.NOT_APPLICABLE, "a credential alone has no holder proof"
        )
        digest = parsed.digest.hex()
        statuses = [] if found is None else [found]
        return finish(
            "credential",
            results,
            height,
            [digest],
            "credential:" + digest,
            parsed.holder,
            statuses,
            lists=lists,
            unregistered=only_unregistered([results]),
        )

    def evaluate_presentation(
        self, document: Any, *, now_ms: int | None = None, expected: ExpectedProof | None = None
    ) -> VerificationResult:
        """The checklist for a presentation, without the access event; consumes the challenge.

        ``expected``: the challenge and domain the caller asked for (see ``ExpectedProof``).
        """
        now = self.clock() if now_ms is None else now_ms
        # (0) parse: a presentation with a foreign credential or holder proof is mixed
        decoded = foreign.decode(document, PRESENTATION_LIMITS)
        loaded: Passed[ParsedPresentation | MixedPresentation] | Failed
        if isinstance(decoded, Failed):
            loaded = decoded
        elif foreign.needs_mixed_path(decoded.value):
            loaded = _guarded(
                lambda: Passed(foreign.parse_mixed_presentation(decoded.value)), "presentation"
            )
        else:
            loaded = _guarded(lambda: load_presentation(decoded.value), "presentation")
        if isinstance(loaded, Failed):
            return self._parse_failure("presentation", loaded, document)
        parsed = loaded.value
        digests = [c.digest.hex() for c in parsed.credentials]
        resource = "presentation:" + sm3(canonicalize(parsed.document)).hex()
        retrieved = prefetch(list_urls(c.document for c in parsed.credentials), self.fetch_list)
        try:
            with self.index.view() as view:
                chain = ChainState(view, self._cache)
                checked = [
                    self._checks(c, i, chain, retrieved, now)
                    for i, c in enumerate(parsed.credentials)
                ]
                results = combine([each for each, _, _ in checked])
                statuses = [found for _, found, _ in checked if found is not None]
                lists = [finding for _, _, found in checked for finding in found]
                height = view.height
        except StoreError:
            log.exception("the chain index could not be read")
            return unavailable("presentation", digests, parsed.holder)
        # (6) presentation: outside the index's read transaction, since consuming the
        # challenge writes to the store.
        _run(
            results,
            Check.PRESENTATION,
            lambda: self._presentation(parsed, now, expected),
            unreadable="the challenge store could not be read",
        )
        unregistered = only_unregistered(
            [each for each, _, _ in checked], results[Check.PRESENTATION]
        )
        return finish(
            "presentation",
            results,
            height,
            digests,
            resource,
            parsed.holder,
            statuses,
            lists=lists,
            unregistered=unregistered,
        )

    def _presentation(
        self,
        parsed: ParsedPresentation | MixedPresentation,
        now: int,
        expected: ExpectedProof | None,
    ) -> Passed[None] | Failed:
        """Check (6), held to what the caller expects of the proof (``ExpectedProof``)."""

        def holder_check() -> Passed[None] | Failed:
            if isinstance(parsed, MixedPresentation):
                return foreign.mixed_presentation(parsed, self.config, self.challenges, now)
            return checks.presentation(parsed, self.config, self.challenges, now)

        if expected is None:
            return holder_check()
        # Before the challenge is consumed: a request that names another challenge
        # uses up nothing.
        mismatch = _proof_mismatch(parsed.document.get("proof"), expected)
        if mismatch is not None:
            return mismatch
        outcome = holder_check()
        if (
            expected.challenge is not None
            and isinstance(outcome, Failed)
            and outcome.reason in _NOT_ISSUED
        ):
            return Failed(
                Reason.CHALLENGE_NOT_ISSUED,
                "this verifier did not issue the challenge for presentations",
            )
        return outcome

    def _parse_failure(self, kind: str, failure: Failed, document: object) -> VerificationResult:
        try:
            height = self.index.height
        except StoreError:
            height = -1
        return parse_failure(kind, failure, height, document)

    def _checks(
        self,
        parsed: ParsedCredential | ForeignCredential,
        position: int,
        chain: ChainState,
        retrieved: dict[str, Retrieved],
        now: int,
    ) -> Checked:
        """One credential's checks, and its status lists checked and reported.

        A Tongban credential's lists are checked against its registry key and compared
        with the chain; a foreign credential's decide its check (4).
        """
        if isinstance(parsed, ForeignCredential):
            return self._foreign_checks(parsed, position, retrieved, now)
        results, found = self._credential_checks(parsed, chain, now)
        verify = tongban_list_verifier(parsed.issuer, self.config.chain_id, chain)
        lists = check_entries(parsed.document, position, retrieved, verify, found)
        return results, found, lists

    def _foreign_checks(
        self, parsed: ForeignCredential, position: int, retrieved: dict[str, Retrieved], now: int
    ) -> Checked:
        """Checks (1)-(5) and (7) of a foreign credential (``credentials.verify.foreign``)."""
        results: dict[Check, CheckResult] = {Check.PARSE: valid(Check.PARSE)}
        _run(results, Check.ISSUER_PROOF, lambda: foreign.issuer_proofs(parsed, now))
        results[Check.ISSUER_KEY] = from_outcome(Check.ISSUER_KEY, foreign.registry_membership())
        results[Check.ANCHOR] = from_outcome(Check.ANCHOR, foreign.anchor_not_applicable())
        verify = foreign_list_verifier(parsed.issuer, now)
        lists = check_entries(parsed.document, position, retrieved, verify)
        results[Check.STATUS] = from_outcome(Check.STATUS, foreign_status(parsed.document, lists))
        _run(
            results,
            Check.VALIDITY,
            lambda: checks.validity_window(
                parsed.model.valid_from_ms, parsed.model.valid_until_ms, now
            ),
        )
        results[Check.DISCLOSURES] = from_outcome(
            Check.DISCLOSURES, foreign.disclosures_not_applicable()
        )
        return results, None, lists

    def _credential_checks(
        self, parsed: ParsedCredential, chain: ChainState, now: int
    ) -> tuple[dict[Check, CheckResult], StatusFinding | None]:
        """Checks (1)-(5) and (7) of one parsed credential, and the status (4) read.

        They run in the order 1, 3, 2, 4, 5, 7: check (2) judges the key that (1)
        established at the block time of the anchor that (3) found, so it runs after both.
        """
        config = self.config
        results: dict[Check, CheckResult] = {Check.PARSE: valid(Check.PARSE)}
        # (1) issuer proof: the signature, by a registered key of the issuer
        key = _run(results, Check.ISSUER_PROOF, lambda: checks.issuer_proof(parsed, config, chain))
        # (3) anchor inclusion: also gives (2) the anchor block time
        anchor = _run(results, Check.ANCHOR, lambda: checks.anchor_inclusion(parsed, config, chain))
        # (2) issuer registered, key valid at the anchor block time
        _run(
            results,
            Check.ISSUER_KEY,
            lambda: checks.issuer_key_validity(parsed, config, chain, key, anchor),
        )
        # (4) status: read (an unreadable index is ERROR), then judged
        found = _run(results, Check.STATUS, lambda: checks.status_on_chain(parsed, config, chain))
        if found is not None:
            results[Check.STATUS] = from_outcome(Check.STATUS, checks.status(found))
        # (5) validity period
        _run(results, Check.VALIDITY, lambda: checks.validity_period(parsed, now))
        # (7) disclosures
        _run(results, Check.DISCLOSURES, lambda: checks.disclosures(parsed))
        return results, found

    # ------------------------------------------------------------------ audit

    def access_event(
        self, result: VerificationResult, request: VerificationRequest, action: str
    ) -> EventInput:
        """The access event of ``result``: what ``verify_*`` append.

        A caller that appends asynchronously builds the event here, and must not
        answer before the event is durable.
        """
        # UNREGISTERED_ISSUER is ``invalid`` in the log's fixed outcome vocabulary: it
        # is not a successful verification of a consortium certificate.
        if result.verdict is CheckStatus.VALID:
            outcome = Outcome.SUCCESS
        elif result.verdict is CheckStatus.ERROR:
            outcome = Outcome.ERROR
        else:
            outcome = Outcome.INVALID
        return EventInput(
            action=action,
            resource=result.resource,
            purpose=request.purpose,
            legal_basis=request.legal_basis,
            outcome=outcome,
            request_id=request.request_id,
            subject_id=result.holder,
            idempotency_key=request.idempotency_key,
        )

    def _record(
        self, result: VerificationResult, request: VerificationRequest, action: str
    ) -> None:
        event = self.access_event(result, request, action)
        try:
            self.access_log.append(request.caller, event)
        except Exception as exc:
            log.exception("access event could not be appended")
            raise AccessLogUnavailableError(
                "the access event could not be recorded; no verification answer is given"
            ) from exc

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
``credentials.verify.offline``. One credential's checklist (check (0), checks
(1)-(5) and (7) against one ``ChainState``, its result) is
``credentials.verify.checklist``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent import futures
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol

from credentials.errors import AccessLogUnavailableError, ConfigurationError
from credentials.ijson import CREDENTIAL_LIMITS, PRESENTATION_LIMITS
from credentials.jcs import canonicalize
from credentials.reasons import Check, CheckStatus, Reason
from credentials.times import now_ms
from credentials.verify import checks, foreign
from credentials.verify.chain_state import ChainState, HeightCache
from credentials.verify.checklist import (
    credential_checks,
    credential_result,
    guarded,
    load_credential,
    run_check,
    within_caps,
)
from credentials.verify.checks import PRESENTATION_PURPOSE
from credentials.verify.config import VerifierConfig
from credentials.verify.foreign import MixedPresentation
from credentials.verify.outcome import Failed, Passed
from credentials.verify.parse import (
    ParsedCredential,
    ParsedPresentation,
    load_presentation,
)
from credentials.verify.purpose_binding import purpose_binding
from credentials.verify.result import (
    CheckResult,
    VerificationResult,
    combine,
    finish,
    only_unregistered,
    parse_failure,
    skipped,
    unavailable,
)
from credentials.verify.status_list_check import (
    FetchList,
    list_urls,
    prefetch,
)
from credentials.verify.zhengzhao_member import reported
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


_NOT_ISSUED = frozenset({Reason.CHALLENGE_UNKNOWN, Reason.CHALLENGE_WRONG_AUDIENCE})
"""Challenge store answers that mean "not issued by this verifier for presentations"."""


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


def _tongban_document(credential: object) -> dict[str, Any] | None:
    """The document of a credential that passed Tongban's check (0), else None."""
    return credential.document if isinstance(credential, ParsedCredential) else None


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
        result = self.evaluate_presentation(
            document, now_ms=now_ms, expected=expected, purpose=request.purpose
        )
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
        return self._evaluate_credential(document, within_caps(document), now_ms)

    def evaluate_credentials(
        self,
        documents: Sequence[Any],
        *,
        now_ms: int | None = None,
        parsed: bool = False,
        executor: Executor | None = None,
        threads: int = 1,
    ) -> list[VerificationResult]:
        """``evaluate_credential`` of each of ``documents``, in order, in one index view.

        Every credential is judged at the same instant and against the same chain
        state: one read view of the index (every result reports its height), one
        ``ChainState`` whose issuers, keys and anchors the credentials share, and each
        distinct status list fetched once for all of them. The thread hands the GIL
        over between credentials, so a long batch does not starve other threads.

        ``parsed``: every document is a value ``credentials.ijson.parse`` decoded (a
        request body's), so only the container caps are checked, as
        ``evaluate_parsed_credential`` does; otherwise as ``evaluate_credential``.

        ``threads``: how many threads check the credentials in that one view, the
        calling one and ``threads - 1`` of ``executor`` (SM2 releases the GIL); each
        takes the next unchecked credential, and the results stay in order.
        """
        now = self.clock() if now_ms is None else now_ms
        loaded = [
            load_credential(
                within_caps(each) if parsed else foreign.decode(each, CREDENTIAL_LIMITS)
            )
            for each in documents
        ]
        passed = [each.value for each in loaded if isinstance(each, Passed)]
        retrieved = prefetch(list_urls(each.document for each in passed), self.fetch_list)
        done: list[VerificationResult | None] = [None] * len(documents)
        try:
            with self.index.view() as view:
                chain = ChainState(view, self._cache)
                # A list iterator: next() is atomic, so each credential is taken once.
                pending = iter(
                    [(p, e.value) for p, e in enumerate(loaded) if isinstance(e, Passed)]
                )

                def check_pending() -> None:
                    for position, credential in pending:
                        checked = credential_checks(
                            self.config, credential, 0, chain, retrieved, now
                        )
                        done[position] = credential_result(credential, checked, view.height)
                        # A thread that wants the GIL (the event loop, a single
                        # verification) would otherwise wait a switch interval.
                        time.sleep(0)

                helpers = (
                    [executor.submit(check_pending) for _ in range(threads - 1)]
                    if executor is not None
                    else []
                )
                try:
                    check_pending()
                finally:
                    # The view must outlive every helper that reads it; one still queued
                    # (the executor busy with another batch) has nothing left to take.
                    for helper in helpers:
                        helper.cancel()
                    futures.wait(helpers)
                for helper in helpers:
                    if not helper.cancelled():
                        helper.result()
        except StoreError:
            log.exception("the chain index could not be read")
        results = []
        for document, each, result in zip(documents, loaded, done, strict=True):
            if result is not None:
                results.append(result)
            elif isinstance(each, Failed):
                results.append(self._parse_failure("credential", each, document))
            else:
                credential = each.value
                results.append(
                    unavailable("credential", [credential.digest.hex()], credential.holder)
                )
        return results

    def _evaluate_credential(
        self, document: Any, decoded: Passed[Any] | Failed, now_ms: int | None
    ) -> VerificationResult:
        now = self.clock() if now_ms is None else now_ms
        # (0) parse: a foreign issuer's credential by its own rules, else Tongban's
        loaded = load_credential(decoded)
        if isinstance(loaded, Failed):
            return self._parse_failure("credential", loaded, document)
        parsed = loaded.value
        retrieved = prefetch(list_urls([parsed.document]), self.fetch_list)
        try:
            with self.index.view() as view:
                chain = ChainState(view, self._cache)
                checked = credential_checks(self.config, parsed, 0, chain, retrieved, now)
                height = view.height
        except StoreError:
            log.exception("the chain index could not be read")
            return unavailable("credential", [parsed.digest.hex()], parsed.holder)
        return credential_result(parsed, checked, height)

    def evaluate_presentation(
        self,
        document: Any,
        *,
        now_ms: int | None = None,
        expected: ExpectedProof | None = None,
        purpose: str | None = None,
    ) -> VerificationResult:
        """The checklist for a presentation, without the access event; consumes the challenge.

        ``expected``: the challenge and domain the caller asked for (see ``ExpectedProof``).
        ``purpose``: the purpose the request declares (its access event's); a presentation
        bound to another (``purpose_binding``) fails (6). None: not compared.
        """
        now = self.clock() if now_ms is None else now_ms
        # (0) parse: a presentation with a foreign credential or holder proof is mixed
        decoded = foreign.decode(document, PRESENTATION_LIMITS)
        loaded: Passed[ParsedPresentation | MixedPresentation] | Failed
        if isinstance(decoded, Failed):
            loaded = decoded
        elif foreign.needs_mixed_path(decoded.value):
            loaded = guarded(
                lambda: Passed(foreign.parse_mixed_presentation(decoded.value)), "presentation"
            )
        else:
            loaded = guarded(lambda: load_presentation(decoded.value), "presentation")
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
                    credential_checks(self.config, c, i, chain, retrieved, now)
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
        if any(r.reason_code == Reason.ANCHOR_NOT_YET_INDEXED for r in results.values()):
            # Undecided until the index catches up: the holder's challenge must survive
            # for the same presentation to be sent again (the answer says retry).
            results[Check.PRESENTATION] = skipped(
                Check.PRESENTATION,
                Reason.PREREQUISITE_FAILED,
                "not checked yet: the chain index has not reached an anchor's block; "
                "the challenge stays usable for a retry",
            )
        else:
            run_check(
                results,
                Check.PRESENTATION,
                lambda: self._presentation(parsed, now, expected, purpose),
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
            certificates=reported([_tongban_document(c) for c in parsed.credentials]),
        )

    def _presentation(
        self,
        parsed: ParsedPresentation | MixedPresentation,
        now: int,
        expected: ExpectedProof | None,
        purpose: str | None = None,
    ) -> Passed[None] | Failed:
        """Check (6), held to what the caller expects of the proof and to the declared purpose."""

        def holder_check() -> Passed[None] | Failed:
            if isinstance(parsed, MixedPresentation):
                held = foreign.mixed_presentation(parsed, self.config, self.challenges, now)
            else:
                held = checks.presentation(parsed, self.config, self.challenges, now)
            # After the holder's proof verified (it covers termsOfUse): a tampered binding
            # is the holder's signature failing, never a purpose mismatch.
            if isinstance(held, Failed):
                return held
            bound = purpose_binding(parsed.document, purpose)
            return bound if isinstance(bound, Failed) else held

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

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
(4) not revoked, not suspended;
(5) the validity period contains the verification time;
(6) presentations only: the holder's signature (``authentication``), holder
    binding (every credential's subject is the holder), the server-issued challenge
    (single use, unexpired, for this verifier) and the domain (this verifier's DID);
(7) every presented disclosure hashes to a digest in the secured form's ``_sd``.

Each check is ``VALID``, ``INVALID``, ``ERROR`` (the verifier could not decide,
e.g. its store failed) or ``SKIPPED`` (not applicable, or a prerequisite failed),
with a frozen reason code (``credentials.reasons``) and a message that never
quotes the document. The verdict is ``VALID`` only when every applicable check is
``VALID``. Every verification appends one access event to the verifier's audit
log (no answer is given if that fails).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from credentials.anchor_proof import ANCHOR_PROOF_TYPE, AnchorProof
from credentials.credential import CONTEXT, secured_form
from credentials.cryptosuite import (
    ASSERTION,
    AUTHENTICATION,
    CRYPTOSUITE,
    PROOF_TYPE,
    decode_proof_value,
    hash_data,
)
from credentials.did import (
    check_did_key_form,
    parse_holder_verification_method,
    parse_issuer_did,
    parse_issuer_verification_method,
    public_key_of_did_key,
)
from credentials.disclosure import (
    MIN_SALT_BYTES,
    claim_name,
    disclosure_digest,
    reveal,
    salt_length,
)
from credentials.errors import (
    AccessLogUnavailableError,
    ConfigurationError,
    InputRejectedError,
    SchemaViolationError,
)
from credentials.holder import MAX_PRESENTED_CREDENTIALS
from credentials.ijson import CREDENTIAL_LIMITS, PRESENTATION_LIMITS, Limits, check, parse
from credentials.jcs import canonicalize
from credentials.reasons import CHECK_NAMES, Check, CheckStatus, Reason
from credentials.schema import validate, validate_format
from credentials.templates import Template, template_by_schema, template_by_type
from credentials.times import now_ms, parse_ms
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.chain.contracts.credential_anchor import DigestStatus
from ledger.chain.contracts.registry import KeyRecord
from ledger.chain.index import ChainIndex, IndexedAnchor, IndexView
from ledger.chain.node.client import checksum
from ledger.crypto.errors import CryptoError
from ledger.crypto.sm2 import Sm2PublicKey
from ledger.crypto.sm2 import verify as sm2_verify
from ledger.crypto.sm3 import sm3
from ledger.merkle.errors import MerkleError
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.verify import root_from_inclusion_proof
from ledger.store.challenges import Challenge, ChallengeError, Challenges
from ledger.store.database import StoreError

log = logging.getLogger(__name__)

__all__ = [
    "CREDENTIAL_VERIFY",
    "PRESENTATION_PURPOSE",
    "PRESENTATION_VERIFY",
    "AccessLog",
    "CheckResult",
    "VerificationRequest",
    "VerificationResult",
    "Verifier",
    "VerifierConfig",
]

CREDENTIAL_VERIFY = "credential.verify"
"""Action of the access event of a credential verification."""

PRESENTATION_VERIFY = "presentation.verify"
"""Action of the access event of a presentation verification."""

PRESENTATION_PURPOSE = "presentation"
"""Purpose of the challenges a verifier issues for presentations."""

_CREDENTIAL_KEYS = frozenset(
    {
        "@context",
        "id",
        "type",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSchema",
        "credentialSubject",
        "disclosures",
        "proof",
    }
)
_CREDENTIAL_REQUIRED = _CREDENTIAL_KEYS - {"validUntil", "disclosures"}
_PRESENTATION_KEYS = frozenset(
    {"@context", "id", "type", "holder", "verifiableCredential", "proof"}
)
_ISSUER_PROOF_KEYS = frozenset(
    {"type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue"}
)
_HOLDER_PROOF_KEYS = _ISSUER_PROOF_KEYS | {"challenge", "domain"}
_CHALLENGE_REASONS = {
    "unknown": Reason.CHALLENGE_UNKNOWN,
    "already used": Reason.CHALLENGE_USED,
    "expired": Reason.CHALLENGE_EXPIRED,
}


class _CheckFailedError(Exception):
    """A check's INVALID outcome, raised inside the check."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome."""

    number: int
    name: str
    status: CheckStatus
    reason_code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """JSON form for APIs."""
        return {
            "number": self.number,
            "name": self.name,
            "status": self.status.value,
            "reasonCode": self.reason_code,
            "message": self.message,
        }


def _result(check_: Check, status: CheckStatus, reason: Reason, message: str) -> CheckResult:
    return CheckResult(int(check_), CHECK_NAMES[check_], status, reason.value, message)


def _valid(check_: Check, message: str = "ok") -> CheckResult:
    return _result(check_, CheckStatus.VALID, Reason.OK, message)


def _skipped(check_: Check, reason: Reason, message: str) -> CheckResult:
    return _result(check_, CheckStatus.SKIPPED, reason, message)


@dataclass(frozen=True)
class VerificationResult:
    """The checklist's outcome for one credential or presentation."""

    kind: str
    checks: tuple[CheckResult, ...]
    verdict: CheckStatus
    index_height: int
    digests: tuple[str, ...]
    resource: str
    holder: str | None = field(default=None, repr=False)

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
        """JSON form for APIs (no personal data: digests, codes, the index height)."""
        return {
            "kind": self.kind,
            "verdict": self.verdict.value,
            "indexHeight": self.index_height,
            "credentialDigests": list(self.digests),
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class VerifierConfig:
    """A verifying province's own configuration: the chain and contracts it trusts.

    ``did`` is the verifier's DID: presentations must name it as ``domain`` and its
    challenges are issued for it.
    """

    chain_id: int
    registry: str
    credential_anchor: str
    did: str
    challenge_ttl_ms: int = 300_000

    def __post_init__(self) -> None:
        """Normalise addresses to EIP-55."""
        object.__setattr__(self, "registry", checksum(self.registry))
        object.__setattr__(self, "credential_anchor", checksum(self.credential_anchor))
        if not self.did or len(self.did) > 256:
            raise ConfigurationError("the verifier's DID must be 1-256 characters")


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


class AccessLog(Protocol):
    """Where access events go: ``ledger.audit.log.AuditLog`` or anything with its ``append``."""

    def append(self, caller: Caller, event: EventInput) -> object:
        """Append one event durably."""


@lru_cache(maxsize=4096)
def _issuer_key(raw: bytes) -> Sm2PublicKey | None:
    try:
        return Sm2PublicKey.from_bytes(raw)
    except CryptoError:
        return None


@lru_cache(maxsize=4096)
def _holder_key(did: str) -> Sm2PublicKey | None:
    try:
        return public_key_of_did_key(did)
    except ValueError:
        return None


@dataclass
class _Parsed:
    """A credential that passed check (0)."""

    document: dict[str, Any]
    secured: dict[str, Any]
    digest: bytes
    template: Template
    issuer: str
    issuer_chain: int
    issuer_id: int
    holder: str
    valid_from: int
    valid_until: int | None
    sd: frozenset[str]
    disclosures: list[list[Any]]
    issuer_proof: dict[str, Any]
    anchor_proof: Any


def _load(document: Any, limits: Limits) -> Any:
    if isinstance(document, bytes | bytearray | memoryview | str):
        return parse(document, limits)
    check(document, limits)
    return document


def _string(value: Any, reason: Reason, what: str) -> str:
    if not isinstance(value, str):
        raise _CheckFailedError(reason, f"{what} must be a string")
    return value


def _parse_credential(value: Any, where: str = "credential") -> _Parsed:
    """Check (0) for one credential; raises ``_CheckFailedError``."""
    if not isinstance(value, dict):
        raise _CheckFailedError(Reason.STRUCTURE_INVALID, f"the {where} is not a JSON object")
    keys = set(value)
    if not keys <= _CREDENTIAL_KEYS or not keys >= _CREDENTIAL_REQUIRED:
        raise _CheckFailedError(
            Reason.STRUCTURE_INVALID, f"the {where} has missing or unknown members"
        )
    if value["@context"] != CONTEXT:
        raise _CheckFailedError(Reason.CONTEXT_INVALID, f"the {where}'s @context must be {CONTEXT}")
    kinds = value["type"]
    if (
        not isinstance(kinds, list)
        or len(kinds) != 2
        or kinds[0] != "VerifiableCredential"
        or not isinstance(kinds[1], str)
    ):
        raise _CheckFailedError(
            Reason.TYPE_INVALID, f"the {where}'s type must be [VerifiableCredential, T]"
        )
    template = template_by_type(kinds[1])
    if template is None:
        raise _CheckFailedError(
            Reason.TYPE_INVALID, f"the {where}'s type is not a known certificate"
        )
    schema = value["credentialSchema"]
    if (
        not isinstance(schema, dict)
        or set(schema) != {"id", "type"}
        or schema["type"] != "JsonSchema"
        or not isinstance(schema["id"], str)
        or template_by_schema(schema["id"]) is not template
    ):
        raise _CheckFailedError(
            Reason.SCHEMA_UNKNOWN, f"the {where}'s credentialSchema is not its template's"
        )
    if not isinstance(value["id"], str) or not _URN_UUID.fullmatch(value["id"]):
        raise _CheckFailedError(Reason.ID_INVALID, f"the {where}'s id is not a urn:uuid")
    try:
        issuer_chain, issuer_id = parse_issuer_did(value["issuer"])
    except ValueError:
        raise _CheckFailedError(
            Reason.ISSUER_INVALID, f"the {where}'s issuer is not a did:tongban"
        ) from None
    try:
        valid_from = parse_ms(value["validFrom"])
        valid_until = None if "validUntil" not in value else parse_ms(value["validUntil"])
    except ValueError:
        raise _CheckFailedError(
            Reason.DATES_INVALID, f"the {where}'s dates are not UTC date-times"
        ) from None
    if valid_until is not None and valid_until <= valid_from:
        raise _CheckFailedError(
            Reason.DATES_INVALID, f"the {where}'s validUntil is not after validFrom"
        )
    subject = value["credentialSubject"]
    if not isinstance(subject, dict) or "id" not in subject or "_sd" not in subject:
        raise _CheckFailedError(
            Reason.SUBJECT_INVALID, f"the {where}'s credentialSubject lacks id or _sd"
        )
    try:
        check_did_key_form(subject["id"])
    except ValueError:
        raise _CheckFailedError(
            Reason.SUBJECT_INVALID, f"the {where}'s subject id is not a did:key"
        ) from None
    if not set(subject) - {"id", "_sd"} <= set(template.clear):
        raise _CheckFailedError(
            Reason.SUBJECT_INVALID, f"the {where}'s subject has claims not in clear"
        )
    sd = subject["_sd"]
    if (
        not isinstance(sd, list)
        or len(sd) != template.sd_slots
        or not all(isinstance(d, str) and len(d) == 64 and _is_hex(d) for d in sd)
        or any(sd[i] >= sd[i + 1] for i in range(len(sd) - 1))
    ):
        raise _CheckFailedError(
            Reason.SD_INVALID,
            f"the {where}'s _sd must be {template.sd_slots} sorted, distinct 64-hex digests",
        )
    disclosures = value.get("disclosures", [])
    _check_disclosures(disclosures, template, where)
    proofs = value["proof"]
    if (
        not isinstance(proofs, list)
        or not 1 <= len(proofs) <= 2
        or not all(isinstance(p, dict) for p in proofs)
        or proofs[0].get("type") != PROOF_TYPE
        or (len(proofs) == 2 and proofs[1].get("type") != ANCHOR_PROOF_TYPE)
    ):
        raise _CheckFailedError(
            Reason.PROOF_SET_INVALID,
            f"the {where}'s proof must be [DataIntegrityProof] or "
            f"[DataIntegrityProof, {ANCHOR_PROOF_TYPE}]",
        )
    secured = secured_form(value)
    shown = {claim_name(d[1]) for d in disclosures}
    waived = frozenset(set(template.disclosable) - shown)
    try:
        # The envelope was checked above, member by member; the schema checks the claims.
        validate(
            template.subject_schema,
            reveal(subject, disclosures),
            not_required={"/credentialSubject": waived},
            at="/credentialSubject",
        )
    except SchemaViolationError as exc:
        raise _CheckFailedError(
            Reason.SCHEMA_VIOLATION, f"the {where} breaks its schema at {exc.pointer}: {exc.rule}"
        ) from None
    canonical = canonicalize(secured)
    if len(canonical) > CREDENTIAL_LIMITS.max_bytes:
        raise _CheckFailedError(
            Reason.INPUT_TOO_LARGE, f"the {where} is larger than the credential cap"
        )
    return _Parsed(
        document=value,
        secured=secured,
        digest=sm3(canonical),
        template=template,
        issuer=str(value["issuer"]),
        issuer_chain=issuer_chain,
        issuer_id=issuer_id,
        holder=str(subject["id"]),
        valid_from=valid_from,
        valid_until=valid_until,
        sd=frozenset(sd),
        disclosures=disclosures,
        issuer_proof=proofs[0],
        anchor_proof=proofs[1] if len(proofs) == 2 else None,
    )


_HEX = frozenset("0123456789abcdef")
_URN_UUID = re.compile(
    r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.ASCII
)


def _is_hex(text: str) -> bool:
    return set(text) <= _HEX


def _check_disclosures(disclosures: Any, template: Template, where: str) -> None:
    if not isinstance(disclosures, list):
        raise _CheckFailedError(
            Reason.DISCLOSURE_MALFORMED, f"the {where}'s disclosures must be an array"
        )
    previous = ""
    for item in disclosures:
        if (
            not isinstance(item, list)
            or len(item) != 3
            or not isinstance(item[0], str)
            or not isinstance(item[1], str)
        ):
            raise _CheckFailedError(
                Reason.DISCLOSURE_MALFORMED,
                f"each disclosure of the {where} is [salt, pointer, value]",
            )
        try:
            salt_length(item[0])
        except ValueError:
            raise _CheckFailedError(
                Reason.DISCLOSURE_MALFORMED, f"a disclosure salt of the {where} is not base64url"
            ) from None
        try:
            name = claim_name(item[1])
        except ValueError:
            raise _CheckFailedError(
                Reason.DISCLOSURE_POINTER_INVALID,
                f"a disclosure pointer of the {where} is not /credentialSubject/<claim>",
            ) from None
        if name not in template.disclosable:
            raise _CheckFailedError(
                Reason.DISCLOSURE_POINTER_INVALID,
                f"a disclosure of the {where} names a claim that is not disclosable",
            )
        if item[1] == previous:
            raise _CheckFailedError(
                Reason.DISCLOSURE_DUPLICATE, f"the {where} discloses a claim twice"
            )
        if item[1] < previous:
            raise _CheckFailedError(
                Reason.DISCLOSURE_MALFORMED, f"the {where}'s disclosures are not sorted by pointer"
            )
        previous = item[1]


def _check_proof_fields(proof: Any, keys: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(proof, dict) or set(proof) != keys:
        raise _CheckFailedError(
            Reason.PROOF_MALFORMED, f"the {what} proof has missing or unknown members"
        )
    if not all(isinstance(proof[k], str) for k in keys):
        raise _CheckFailedError(
            Reason.PROOF_MALFORMED, f"every member of the {what} proof is a string"
        )
    if not validate_format("date-time", proof["created"]):
        raise _CheckFailedError(
            Reason.PROOF_MALFORMED, f"the {what} proof's created is not a UTC date-time"
        )
    if proof["cryptosuite"] != CRYPTOSUITE:
        raise _CheckFailedError(
            Reason.CRYPTOSUITE_UNSUPPORTED, f"the {what} proof is not {CRYPTOSUITE}"
        )
    return proof


_MISS = object()


class _HeightCache:
    """Issuers, keys and anchors as the index holds them at one generation.

    They change only when the index commits a change (its ``generation`` grows, also
    when a reorg rewinds it), so verifications of the same generation share them;
    the cache empties when a newer generation is seen, is bypassed by views of an
    older one, and holds at most ``limit`` entries. Digest statuses are never cached.
    """

    def __init__(self, limit: int = 8192) -> None:
        self.limit = limit
        self.generation = -1
        self.items: dict[tuple[str, int, Any], Any] = {}
        self.lock = threading.Lock()

    def get(self, view: IndexView, key: tuple[str, int, Any], load: Callable[[], Any]) -> Any:
        with self.lock:
            if view.generation > self.generation:
                self.items = {}
                self.generation = view.generation
            current = view.generation == self.generation
            hit = self.items.get(key, _MISS) if current else _MISS
        if hit is not _MISS:
            return hit
        value = load()
        with self.lock:
            if view.generation == self.generation and len(self.items) < self.limit:
                self.items[key] = value
        return value


@dataclass
class _Context:
    config: VerifierConfig
    view: IndexView | None
    now: int
    cache: _HeightCache | None = None

    @property
    def index(self) -> IndexView:
        """The index view (only checks (1)-(5) read it)."""
        if self.view is None:
            raise RuntimeError("no index view in this context")
        return self.view

    def _cached(self, key: tuple[str, int, Any], load: Callable[[], Any]) -> Any:
        if self.cache is None:
            return load()
        return self.cache.get(self.index, key, load)

    def key(self, issuer_id: int, key_id: str) -> KeyRecord | None:
        """The registry key, as of the index height."""
        view = self.index
        record: KeyRecord | None = self._cached(
            ("key", issuer_id, key_id), lambda: view.key(issuer_id, key_id)
        )
        return record

    def issuer_known(self, issuer_id: int) -> bool:
        """Whether the issuer was ever admitted, as of the index height."""
        view = self.index
        return bool(
            self._cached(("issuer", issuer_id, None), lambda: view.issuer(issuer_id) is not None)
        )

    def anchor(self, issuer_id: int, root: bytes) -> IndexedAnchor | None:
        """Where and when the issuer anchored ``root``, as of the index height."""
        view = self.index
        anchored: IndexedAnchor | None = self._cached(
            ("anchor", issuer_id, root), lambda: view.anchor(issuer_id, root)
        )
        return anchored


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
    ) -> None:
        """Verify against ``index`` (which must follow ``config``'s chain and contracts)."""
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
        self._cache = _HeightCache()

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
        self, document: Any, request: VerificationRequest, *, now_ms: int | None = None
    ) -> VerificationResult:
        """Run checks (0)-(7) on a presentation; consumes its challenge."""
        result = self.evaluate_presentation(document, now_ms=now_ms)
        self._record(result, request, PRESENTATION_VERIFY)
        return result

    # -------------------------------------------------------------- evaluation

    def evaluate_credential(
        self, document: Any, *, now_ms: int | None = None
    ) -> VerificationResult:
        """The checklist for one credential, without the access event."""
        now = self.clock() if now_ms is None else now_ms
        try:
            value = _load(document, CREDENTIAL_LIMITS)
            parsed = _parse_credential(value)
        except InputRejectedError as exc:
            return self._parse_failure("credential", Reason(exc.reason), str(exc), document)
        except _CheckFailedError as fail:
            return self._parse_failure("credential", fail.reason, fail.message, document)
        except Exception:
            log.exception("parsing a credential failed unexpectedly")
            return self._parse_failure(
                "credential", Reason.INTERNAL_ERROR, "internal error", document
            )
        try:
            with self.index.view() as view:
                ctx = _Context(self.config, view, now, self._cache)
                results = self._credential_checks(parsed, ctx)
                height = view.height
        except StoreError:
            log.exception("the chain index could not be read")
            return _unavailable("credential", [parsed], parsed.holder)
        results[Check.PRESENTATION] = _skipped(
            Check.PRESENTATION, Reason.NOT_APPLICABLE, "a credential alone has no holder proof"
        )
        digest = parsed.digest.hex()
        return _finish(
            "credential", results, height, [digest], "credential:" + digest, parsed.holder
        )

    def evaluate_presentation(
        self, document: Any, *, now_ms: int | None = None
    ) -> VerificationResult:
        """The checklist for a presentation, without the access event; consumes the challenge."""
        now = self.clock() if now_ms is None else now_ms
        try:
            value = _load(document, PRESENTATION_LIMITS)
            credentials = self._parse_presentation(value)
        except InputRejectedError as exc:
            return self._parse_failure("presentation", Reason(exc.reason), str(exc), document)
        except _CheckFailedError as fail:
            return self._parse_failure("presentation", fail.reason, fail.message, document)
        except Exception:
            log.exception("parsing a presentation failed unexpectedly")
            return self._parse_failure(
                "presentation", Reason.INTERNAL_ERROR, "internal error", document
            )
        holder = str(value["holder"])
        resource = "presentation:" + sm3(canonicalize(value)).hex()
        try:
            with self.index.view() as view:
                ctx = _Context(self.config, view, now, self._cache)
                results = _combine([self._credential_checks(p, ctx) for p in credentials])
                height = view.height
        except StoreError:
            log.exception("the chain index could not be read")
            return _unavailable("presentation", credentials, holder)
        # Outside the index's read transaction: consuming the challenge writes to the store.
        results[Check.PRESENTATION] = self._holder_check(
            value, credentials, _Context(self.config, None, now)
        )
        return _finish(
            "presentation",
            results,
            height,
            [p.digest.hex() for p in credentials],
            resource,
            holder,
        )

    def _parse_failure(
        self, kind: str, reason: Reason, message: str, document: Any
    ) -> VerificationResult:
        status = CheckStatus.ERROR if reason is Reason.INTERNAL_ERROR else CheckStatus.INVALID
        results = {Check.PARSE: _result(Check.PARSE, status, reason, message)}
        for check_ in Check:
            if check_ is not Check.PARSE:
                results[check_] = _skipped(
                    check_, Reason.PREREQUISITE_FAILED, "not checked: the document did not parse"
                )
        try:
            height = self.index.height
        except StoreError:
            height = -1
        return _finish(kind, results, height, [], f"{kind}:{_raw_digest(document)}", None)

    def _parse_presentation(self, value: Any) -> list[_Parsed]:
        if not isinstance(value, dict):
            raise _CheckFailedError(
                Reason.PRESENTATION_MALFORMED, "the presentation is not a JSON object"
            )
        keys = set(value)
        if not keys <= _PRESENTATION_KEYS or not _PRESENTATION_KEYS - {"id"} <= keys:
            raise _CheckFailedError(
                Reason.PRESENTATION_MALFORMED, "the presentation has missing or unknown members"
            )
        if value["@context"] != CONTEXT:
            raise _CheckFailedError(
                Reason.CONTEXT_INVALID, f"the presentation's @context must be {CONTEXT}"
            )
        if value["type"] != ["VerifiablePresentation"]:
            raise _CheckFailedError(
                Reason.TYPE_INVALID, "the presentation's type is not [VerifiablePresentation]"
            )
        if "id" in value and not isinstance(value["id"], str):
            raise _CheckFailedError(Reason.ID_INVALID, "the presentation's id must be a string")
        try:
            check_did_key_form(value["holder"])
        except ValueError:
            raise _CheckFailedError(
                Reason.PRESENTATION_MALFORMED, "the holder is not a did:key"
            ) from None
        proof = value["proof"]
        if not isinstance(proof, dict) or proof.get("type") != PROOF_TYPE:
            raise _CheckFailedError(
                Reason.PROOF_SET_INVALID, "the presentation's proof is one DataIntegrityProof"
            )
        embedded = value["verifiableCredential"]
        if not isinstance(embedded, list) or not embedded:
            raise _CheckFailedError(
                Reason.PRESENTATION_MALFORMED, "verifiableCredential must be a non-empty array"
            )
        if len(embedded) > MAX_PRESENTED_CREDENTIALS:
            raise _CheckFailedError(
                Reason.TOO_MANY_CREDENTIALS,
                f"a presentation carries at most {MAX_PRESENTED_CREDENTIALS} credentials",
            )
        return [_parse_credential(c, f"credential {i}") for i, c in enumerate(embedded)]

    def _credential_checks(self, parsed: _Parsed, ctx: _Context) -> dict[Check, CheckResult]:
        results: dict[Check, CheckResult] = {Check.PARSE: _valid(Check.PARSE)}
        key = _guard(results, Check.ISSUER_PROOF, lambda: _issuer_proof(parsed, ctx))
        anchor = _guard(results, Check.ANCHOR, lambda: _anchor(parsed, ctx))
        _guard(results, Check.ISSUER_KEY, lambda: _key_validity(parsed, ctx, key, anchor))
        _guard(results, Check.STATUS, lambda: _status(parsed, ctx))
        _guard(results, Check.VALIDITY, lambda: _validity(parsed, ctx))
        _guard(results, Check.DISCLOSURES, lambda: _disclosures(parsed))
        return results

    def _holder_check(
        self, value: dict[str, Any], credentials: list[_Parsed], ctx: _Context
    ) -> CheckResult:
        holder = str(value["holder"])
        try:
            proof = _check_proof_fields(value["proof"], _HOLDER_PROOF_KEYS, "presentation")
            if proof["proofPurpose"] != AUTHENTICATION:
                raise _CheckFailedError(
                    Reason.HOLDER_PROOF_PURPOSE_MISMATCH,
                    "the presentation proof's purpose must be authentication",
                )
            try:
                did, _ = parse_holder_verification_method(proof["verificationMethod"])
            except ValueError:
                raise _CheckFailedError(
                    Reason.HOLDER_VERIFICATION_METHOD_INVALID,
                    "the verification method is not the holder's did:key#key",
                ) from None
            if did != holder:
                raise _CheckFailedError(
                    Reason.HOLDER_VERIFICATION_METHOD_INVALID,
                    "the verification method is not the holder's",
                )
            key = _holder_key(holder)
            if key is None:
                raise _CheckFailedError(
                    Reason.HOLDER_INVALID, "the holder's did:key is not a valid SM2 key"
                )
            try:
                signature = decode_proof_value(proof["proofValue"])
            except ValueError:
                raise _CheckFailedError(
                    Reason.PROOF_VALUE_MALFORMED, "the presentation's proofValue is malformed"
                ) from None
            unsecured = {k: v for k, v in value.items() if k != "proof"}
            try:
                sm2_verify(key, hash_data(unsecured, proof), signature)
            except CryptoError:
                raise _CheckFailedError(
                    Reason.HOLDER_SIGNATURE_INVALID, "the holder's signature does not verify"
                ) from None
            if proof["domain"] != ctx.config.did:
                raise _CheckFailedError(
                    Reason.DOMAIN_MISMATCH, "the presentation is for another verifier"
                )
            try:
                self.challenges.consume(
                    proof["challenge"], PRESENTATION_PURPOSE, ctx.now, ctx.config.did
                )
            except ChallengeError as exc:
                raise _CheckFailedError(
                    _CHALLENGE_REASONS.get(exc.reason, Reason.CHALLENGE_WRONG_AUDIENCE),
                    f"the challenge is {exc.reason}",
                ) from None
            for index, parsed in enumerate(credentials):
                if parsed.holder != holder:
                    raise _CheckFailedError(
                        Reason.HOLDER_BINDING_MISMATCH,
                        f"credential {index}'s subject is not the presentation's holder",
                    )
        except _CheckFailedError as fail:
            return _result(Check.PRESENTATION, CheckStatus.INVALID, fail.reason, fail.message)
        except StoreError:
            log.exception("challenge store unavailable")
            return _result(
                Check.PRESENTATION,
                CheckStatus.ERROR,
                Reason.INDEX_UNAVAILABLE,
                "the challenge store could not be read",
            )
        except Exception:
            log.exception("presentation check failed unexpectedly")
            return _result(
                Check.PRESENTATION, CheckStatus.ERROR, Reason.INTERNAL_ERROR, "internal error"
            )
        return _valid(Check.PRESENTATION, "holder proof, binding, challenge and domain hold")

    # ------------------------------------------------------------------ audit

    def access_event(
        self, result: VerificationResult, request: VerificationRequest, action: str
    ) -> EventInput:
        """The access event of ``result``: what ``verify_*`` append.

        A caller that appends asynchronously builds the event here, and must not
        answer before the event is durable.
        """
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


# -------------------------------------------------------------------- the checks


def _guard(
    results: dict[Check, CheckResult],
    check_: Check,
    run: Callable[[], tuple[Any, str, Reason | None]],
) -> Any:
    """Run one check: VALID with its value, INVALID on a failed check, ERROR on anything else."""
    try:
        value, message, skipped = run()
    except _CheckFailedError as fail:
        results[check_] = _result(check_, CheckStatus.INVALID, fail.reason, fail.message)
        return None
    except StoreError:
        log.exception("chain index unavailable during check %s", int(check_))
        results[check_] = _result(
            check_, CheckStatus.ERROR, Reason.INDEX_UNAVAILABLE, "the chain index could not be read"
        )
        return None
    except Exception:
        log.exception("check %s failed unexpectedly", int(check_))
        results[check_] = _result(
            check_, CheckStatus.ERROR, Reason.INTERNAL_ERROR, "internal error"
        )
        return None
    if skipped is not None:
        results[check_] = _skipped(check_, skipped, message)
    else:
        results[check_] = _valid(check_, message)
    return value


def _issuer_proof(parsed: _Parsed, ctx: _Context) -> tuple[KeyRecord, str, None]:
    proof = _check_proof_fields(parsed.issuer_proof, _ISSUER_PROOF_KEYS, "issuer")
    if parsed.issuer_chain != ctx.config.chain_id:
        raise _CheckFailedError(Reason.ISSUER_CHAIN_MISMATCH, "the issuer DID names another chain")
    if proof["proofPurpose"] != ASSERTION:
        raise _CheckFailedError(
            Reason.PROOF_PURPOSE_MISMATCH, "the issuer proof's purpose must be assertionMethod"
        )
    try:
        method = parse_issuer_verification_method(proof["verificationMethod"])
    except ValueError:
        raise _CheckFailedError(
            Reason.VERIFICATION_METHOD_NOT_ISSUER,
            "the verification method is not a did:tongban key",
        ) from None
    if method.did != parsed.issuer:
        raise _CheckFailedError(
            Reason.VERIFICATION_METHOD_NOT_ISSUER,
            "the verification method is not controlled by the credential's issuer",
        )
    record = ctx.key(method.issuer_id, method.key_id)
    key = None if record is None else _issuer_key(record.public_key)
    if record is None or key is None:
        raise _CheckFailedError(
            Reason.VERIFICATION_METHOD_UNKNOWN,
            "the issuer has no such key in the registry (as of the index height)",
        )
    try:
        signature = decode_proof_value(proof["proofValue"])
    except ValueError:
        raise _CheckFailedError(
            Reason.PROOF_VALUE_MALFORMED, "the issuer proofValue is malformed"
        ) from None
    try:
        sm2_verify(key, hash_data(parsed.secured, proof, document_hash=parsed.digest), signature)
    except CryptoError:
        raise _CheckFailedError(
            Reason.SIGNATURE_INVALID, "the issuer's signature does not verify"
        ) from None
    return record, "the issuer's sm2-jcs-2026 signature verifies", None


def _anchor(parsed: _Parsed, ctx: _Context) -> tuple[IndexedAnchor, str, None]:
    if parsed.anchor_proof is None:
        raise _CheckFailedError(
            Reason.ANCHOR_PROOF_MISSING, "the credential carries no anchor proof yet"
        )
    try:
        proof = AnchorProof.from_json(parsed.anchor_proof)
    except ValueError:
        raise _CheckFailedError(
            Reason.ANCHOR_PROOF_MALFORMED, "the anchor proof is malformed"
        ) from None
    if proof.chain_id != ctx.config.chain_id:
        raise _CheckFailedError(
            Reason.ANCHOR_CHAIN_MISMATCH, "the anchor proof names another chain"
        )
    if proof.contract != ctx.config.credential_anchor:
        raise _CheckFailedError(
            Reason.ANCHOR_CONTRACT_MISMATCH, "the anchor proof names another CredentialAnchor"
        )
    if proof.issuer_id != parsed.issuer_id or parsed.issuer_chain != ctx.config.chain_id:
        raise _CheckFailedError(
            Reason.ANCHOR_ISSUER_MISMATCH, "the anchor proof names another issuer"
        )
    try:
        root = root_from_inclusion_proof(
            SM3_TREE,
            proof.leaf_index,
            proof.tree_size,
            SM3_TREE.hash_leaf(parsed.digest),
            proof.audit_path,
        )
    except MerkleError:
        raise _CheckFailedError(
            Reason.ANCHOR_PATH_INVALID, "the audit path has the wrong shape"
        ) from None
    if root != proof.root:
        raise _CheckFailedError(
            Reason.ANCHOR_ROOT_MISMATCH, "the audit path does not lead to the proof's root"
        )
    anchored = ctx.anchor(proof.issuer_id, proof.root)
    if anchored is None:
        raise _CheckFailedError(
            Reason.ROOT_NOT_ANCHORED,
            "the issuer did not anchor this root in the configured contract "
            "(as of the index height)",
        )
    if anchored.tree_size != proof.tree_size:
        raise _CheckFailedError(Reason.ANCHOR_TREE_SIZE_MISMATCH, "the anchored tree size differs")
    if anchored.block_number != proof.block_number:
        raise _CheckFailedError(
            Reason.ANCHOR_BLOCK_MISMATCH, "the root was anchored in another block"
        )
    return anchored, f"included in a root anchored in block {anchored.block_number}", None


def _key_validity(
    parsed: _Parsed, ctx: _Context, key: KeyRecord | None, anchor: IndexedAnchor | None
) -> tuple[None, str, Reason | None]:
    if parsed.issuer_chain != ctx.config.chain_id:
        return None, "the issuer DID names another chain", Reason.PREREQUISITE_FAILED
    if not ctx.issuer_known(parsed.issuer_id):
        raise _CheckFailedError(Reason.ISSUER_UNKNOWN, "the issuer is not registered")
    if key is None:
        return None, "the signing key could not be established", Reason.PREREQUISITE_FAILED
    if anchor is None:
        return None, "the anchor block time is unknown", Reason.ANCHOR_TIME_UNKNOWN
    at = anchor.block_time
    if at < key.valid_from:
        raise _CheckFailedError(
            Reason.KEY_NOT_YET_VALID_AT_ANCHOR, "the key was not yet valid at anchoring"
        )
    if key.compromised_from is not None and at >= key.compromised_from:
        raise _CheckFailedError(
            Reason.KEY_COMPROMISED_AT_ANCHOR, "the key was marked compromised before anchoring"
        )
    if key.retired_at is not None and at >= key.retired_at:
        raise _CheckFailedError(
            Reason.KEY_RETIRED_AT_ANCHOR, "the key was retired before anchoring"
        )
    return None, "registered issuer; key valid at the anchor block time", None


def _status(parsed: _Parsed, ctx: _Context) -> tuple[None, str, Reason | None]:
    if parsed.issuer_chain != ctx.config.chain_id:
        return None, "the issuer DID names another chain", Reason.PREREQUISITE_FAILED
    status = ctx.index.digest_status(parsed.issuer_id, parsed.digest).status
    if status is DigestStatus.REVOKED:
        raise _CheckFailedError(Reason.REVOKED, "the issuer revoked the credential")
    if status is DigestStatus.SUSPENDED:
        raise _CheckFailedError(Reason.SUSPENDED, "the issuer suspended the credential")
    return None, "neither revoked nor suspended", None


def _validity(parsed: _Parsed, ctx: _Context) -> tuple[None, str, None]:
    if ctx.now < parsed.valid_from:
        raise _CheckFailedError(Reason.NOT_YET_VALID, "the credential is not valid yet")
    if parsed.valid_until is not None and ctx.now >= parsed.valid_until:
        raise _CheckFailedError(Reason.EXPIRED, "the credential has expired")
    return None, "within its validity period", None


def _disclosures(parsed: _Parsed) -> tuple[None, str, None]:
    for item in parsed.disclosures:
        if salt_length(item[0]) < MIN_SALT_BYTES:
            raise _CheckFailedError(
                Reason.DISCLOSURE_SALT_TOO_SHORT,
                f"a disclosure salt is shorter than {MIN_SALT_BYTES * 8} bits",
            )
        if disclosure_digest(item) not in parsed.sd:
            raise _CheckFailedError(
                Reason.DISCLOSURE_NOT_IN_SD, "a disclosure does not hash to a digest in _sd"
            )
    count = len(parsed.disclosures)
    return None, f"{count} disclosure(s), each listed in _sd", None


# ------------------------------------------------------------------ assembling


def _raw_digest(document: Any) -> str:
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


def _unavailable(kind: str, credentials: list[_Parsed], holder: str) -> VerificationResult:
    results = {Check.PARSE: _valid(Check.PARSE)}
    for check_ in Check:
        if check_ is not Check.PARSE:
            results[check_] = _result(
                check_,
                CheckStatus.ERROR,
                Reason.INDEX_UNAVAILABLE,
                "the chain index is unavailable",
            )
    digests = [p.digest.hex() for p in credentials]
    resource = f"{kind}:{digests[0] if digests else '0' * 64}"
    return _finish(kind, results, -1, digests, resource, holder)


_SEVERITY = {
    CheckStatus.INVALID: 3,
    CheckStatus.ERROR: 2,
    CheckStatus.SKIPPED: 1,
    CheckStatus.VALID: 0,
}


def _combine(per_credential: list[dict[Check, CheckResult]]) -> dict[Check, CheckResult]:
    """One result per check for several credentials: the worst, naming the credential."""
    combined: dict[Check, CheckResult] = {}
    for check_ in Check:
        if check_ is Check.PRESENTATION:
            continue
        worst: CheckResult | None = None
        worst_index = 0
        for index, results in enumerate(per_credential):
            result = results[check_]
            if worst is None or _SEVERITY[result.status] > _SEVERITY[worst.status]:
                worst, worst_index = result, index
        if worst is None:
            continue
        if worst.status is not CheckStatus.VALID and len(per_credential) > 1:
            worst = CheckResult(
                worst.number,
                worst.name,
                worst.status,
                worst.reason_code,
                f"credential {worst_index}: {worst.message}",
            )
        combined[check_] = worst
    return combined


def _finish(
    kind: str,
    results: Mapping[Check, CheckResult],
    height: int,
    digests: list[str],
    resource: str,
    holder: str | None,
) -> VerificationResult:
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
    return VerificationResult(kind, checks, verdict, height, tuple(digests), resource, holder)

"""Credentials Tongban did not issue: check (0) for them, and the checks that apply.

A credential whose ``issuer`` is not a ``did:tongban`` (a ``did:key`` of any curve,
a ``did:web``, an ``https`` URL) is *foreign*: no consortium member vouches for it,
there is no anchor and no on-chain status. The verifier still says what it can:

- (0) the VC Data Model (``credentials.vcdm``, the rules the VC API view applies too),
  every ``@context`` from the packaged allow-list (``context_not_allowed``), the
  credential caps;
- (1) every Data Integrity proof (``credentials.suites.verify_proofs``, purpose
  ``assertionMethod``: eddsa/ecdsa RDFC and JCS, ``Ed25519Signature2020``,
  ``sm2-jcs-2026`` by an SM2 ``did:key``), each by a verification method the
  issuer controls (``verification_method_not_issuer`` otherwise: a key that is not
  the issuer's proves nothing about the issuer);
- (2) always INVALID ``issuer_not_in_registry``: the outcome that makes the verdict
  ``UNREGISTERED_ISSUER`` when nothing else fails;
- (3) SKIPPED ``not_applicable``; (4) the Bitstring Status List check, the only
  status there is (``credentials.verify.status_list_check``); (5) the same rule as
  for any credential (``checks.validity_window``); (7) SKIPPED ``not_applicable``.

A presentation that carries a foreign credential, or whose holder proof is not
Tongban's (a ``did:key`` of another curve), is parsed here too (``MixedPresentation``):
its Tongban credentials keep their own checklist (``parse.parse_credential``), its
proof is verified with the suites (purpose ``authentication``) and held to the same
challenge, domain and binding rules as check (6).

``suite_reason`` is the one mapping from the suites' codes to ``Reason`` values.
Messages name members and positions, never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credentials.contexts import CONTEXT_FILES
from credentials.cryptosuite import CRYPTOSUITE, PROOF_TYPE
from credentials.did import check_did_key_form
from credentials.errors import InputRejectedError
from credentials.holder import MAX_PRESENTED_CREDENTIALS
from credentials.ijson import CREDENTIAL_LIMITS, Limits
from credentials.jcs import canonicalize
from credentials.reasons import Reason
from credentials.suites import DEFAULT_LIMITS, CanonLimits, ProofVerification, verify_proofs
from credentials.vcdm import CredentialModel, ModelViolation, as_list, check_credential
from credentials.vcdm import check_presentation as check_presentation_model
from credentials.verify.checks import consume_challenge, holder_binding
from credentials.verify.config import VerifierConfig
from credentials.verify.outcome import CheckFailedError, Failed, Passed, Skipped
from credentials.verify.parse import JsonObject, ParsedCredential, load, parse_credential
from ledger.crypto.sm3 import sm3
from ledger.store.challenges import Challenges

__all__ = [
    "TONGBAN_DID_PREFIX",
    "ForeignCredential",
    "MixedPresentation",
    "anchor_not_applicable",
    "decode",
    "disclosures_not_applicable",
    "is_foreign",
    "issuer_proofs",
    "mixed_presentation",
    "needs_mixed_path",
    "parse_foreign",
    "parse_mixed_presentation",
    "registry_membership",
    "suite_reason",
]

TONGBAN_DID_PREFIX = "did:tongban:"
"""Issuers with this prefix are consortium DIDs: Tongban's own checklist applies."""

ASSERTION_METHOD = "assertionMethod"
AUTHENTICATION = "authentication"

_SYNONYMS = {
    "proof_signature_invalid": Reason.SIGNATURE_INVALID,
    "proof_value_invalid": Reason.PROOF_VALUE_MALFORMED,
}
_HOLDER_SYNONYMS = {
    "proof_signature_invalid": Reason.HOLDER_SIGNATURE_INVALID,
    "proof_purpose_mismatch": Reason.HOLDER_PROOF_PURPOSE_MISMATCH,
}


def suite_reason(code: str | None, *, holder: bool = False) -> Reason:
    """The ``Reason`` of a ``credentials.suites`` code (the one mapping; see the module).

    The suites' codes are ``Reason`` values with the same spelling, except the two
    that check (1) already names (``signature_invalid``, ``proof_value_malformed``)
    and, for a holder's proof (``holder``), the holder's own codes of check (6).
    """
    if code is None:
        return Reason.PROOF_MALFORMED
    found = (_HOLDER_SYNONYMS if holder else {}).get(code) or _SYNONYMS.get(code)
    if found is not None:
        return found
    try:
        return Reason(code)
    except ValueError:
        return Reason.PROOF_MALFORMED


def _issuer_text(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def is_foreign(value: object) -> bool:
    """Whether ``value`` is a credential object of an issuer outside the consortium.

    Its issuer is a string that is not a ``did:tongban``, and no proof names a
    ``did:tongban`` verification method. Anything else (no issuer, a malformed one, a
    ``did:tongban``, or a consortium key's proof under another issuer: a Tongban
    credential whose issuer was changed) keeps Tongban's check (0), which names what
    is wrong with it, as the wallet's same check does.
    """
    if not isinstance(value, dict):
        return False
    issuer = _issuer_text(value.get("issuer"))
    if issuer is None or issuer.startswith(TONGBAN_DID_PREFIX):
        return False
    return not any(
        isinstance(proof, dict)
        and str(proof.get("verificationMethod", "")).startswith(TONGBAN_DID_PREFIX)
        for proof in as_list(value.get("proof"))
    )


def decode(document: object, limits: Limits) -> Passed[Any] | Failed:
    """Bytes, text or decoded JSON as decoded JSON within ``limits`` (check (0)'s I-JSON)."""
    try:
        return Passed(load(document, limits))
    except InputRejectedError as exc:
        return Failed(Reason(exc.reason), str(exc))


@dataclass(frozen=True)
class ForeignCredential:
    """A credential of an issuer outside the consortium that passed check (0).

    ``digest`` is SM3 of the JCS form without ``proof`` (the access event's resource);
    ``holder`` the id of its one ``credentialSubject`` when it has one; ``at`` its
    JSON pointer in the verified document.
    """

    document: JsonObject
    model: CredentialModel
    digest: bytes
    issuer: str
    holder: str | None
    at: str = ""


def parse_foreign(value: object, where: str = "credential", at: str = "") -> ForeignCredential:
    """Check (0) for a foreign credential; raises ``CheckFailedError``."""
    try:
        model = check_credential(value, at)
    except ModelViolation as broken:
        raise CheckFailedError(
            broken.reason, f"the {where} breaks the VC data model: {broken}", broken.pointer or None
        ) from None
    if not isinstance(value, dict):  # check_credential refused it already
        raise CheckFailedError(Reason.STRUCTURE_INVALID, f"the {where} is not a JSON object")
    contexts = as_list(value.get("@context"))
    if any(not isinstance(c, str) or c not in CONTEXT_FILES for c in contexts):
        raise CheckFailedError(
            Reason.CONTEXT_NOT_ALLOWED,
            f"the {where}'s @context holds a context outside the packaged allow-list",
            f"{at}/@context",
        )
    canonical = canonicalize({k: v for k, v in value.items() if k != "proof"})
    if len(canonical) > CREDENTIAL_LIMITS.max_bytes:
        raise CheckFailedError(
            Reason.INPUT_TOO_LARGE, f"the {where} is larger than the credential cap"
        )
    holder = None
    if not model.subject_is_array and isinstance(model.subjects[0].get("id"), str):
        holder = str(model.subjects[0]["id"])
    return ForeignCredential(value, model, sm3(canonical), model.issuer, holder, at)


def _proof_at(document: Mapping[str, Any], base: str, index: int) -> str:
    proofs = document.get("proof")
    return f"{base}/proof/{index}" if isinstance(proofs, list) else f"{base}/proof"


def issuer_proofs(
    credential: ForeignCredential, now: int, limits: CanonLimits = DEFAULT_LIMITS
) -> Passed[tuple[str, ...]] | Failed:
    """(1) Every proof verifies (``assertionMethod``) by a method the issuer controls.

    Passes with the names of the suites that verified.
    """
    verified = verify_proofs(
        credential.document, purpose=ASSERTION_METHOD, now_ms=now, limits=limits
    )
    # Pointers are the credential's own: a presentation's combine adds its position.
    return _judge(verified, credential.document, "", credential.issuer)


def _judge(
    verified: list[ProofVerification], document: Mapping[str, Any], at: str, issuer: str
) -> Passed[tuple[str, ...]] | Failed:
    for each in verified:
        here = _proof_at(document, at, each.index)
        if not each.verified:
            return Failed(suite_reason(each.reason), f"proof {each.index}: {each.message}", here)
        if each.controller != issuer:
            return Failed(
                Reason.VERIFICATION_METHOD_NOT_ISSUER,
                f"proof {each.index} verifies, but by a verification method the issuer does not "
                "control",
                here,
            )
    names = tuple(sorted({each.cryptosuite or each.type or "proof" for each in verified}))
    return Passed(names, f"{', '.join(names)} proof by the issuer verified")


def registry_membership() -> Failed:
    """(2) for a foreign credential: its issuer is no member of the consortium registry."""
    return Failed(
        Reason.ISSUER_NOT_IN_REGISTRY,
        "the issuer is not a did:tongban: no member of the consortium registry vouches for "
        "it, so this is not a consortium certificate",
        "/issuer",
    )


def anchor_not_applicable() -> Skipped:
    """(3) for a foreign credential: nothing of it is anchored on the consortium's chain."""
    return Skipped(
        Reason.NOT_APPLICABLE, "an issuer outside the consortium anchors nothing on its chain"
    )


def disclosures_not_applicable() -> Skipped:
    """(7) for a foreign credential: Tongban's selective disclosure is not used."""
    return Skipped(Reason.NOT_APPLICABLE, "no Tongban selective disclosure to check")


# ------------------------------------------------------------------ presentations


@dataclass(frozen=True)
class MixedPresentation:
    """A presentation with a foreign credential or a holder proof that is not Tongban's."""

    document: JsonObject
    holder: str
    credentials: tuple[ParsedCredential | ForeignCredential, ...]


def _tongban_holder_proof(value: Mapping[str, Any]) -> bool:
    proof = value.get("proof")
    return (
        isinstance(proof, dict)
        and proof.get("type") == PROOF_TYPE
        and proof.get("cryptosuite") == CRYPTOSUITE
    )


def _sm2_did_key(value: object) -> bool:
    try:
        check_did_key_form(value)
    except ValueError:
        return False
    return True


def needs_mixed_path(value: object) -> bool:
    """Whether a decoded presentation is checked here rather than by ``parse``.

    It is when it carries a foreign credential, or when its holder is a ``did:key``
    of another curve that signed with another suite. Every other presentation keeps
    Tongban's own check (0) and (6), reason codes unchanged.
    """
    if not isinstance(value, dict):
        return False
    embedded = value.get("verifiableCredential")
    if isinstance(embedded, list) and any(is_foreign(c) for c in embedded):
        return True
    holder = value.get("holder")
    return (
        isinstance(holder, str)
        and holder.startswith("did:key:")
        and not _sm2_did_key(holder)
        and not _tongban_holder_proof(value)
    )


def parse_mixed_presentation(value: object) -> MixedPresentation:
    """Check (0) for a mixed presentation and each credential; raises ``CheckFailedError``."""
    try:
        model = check_presentation_model(value)
    except ModelViolation as broken:
        raise CheckFailedError(
            broken.reason,
            f"the presentation breaks the VC data model: {broken}",
            broken.pointer or None,
        ) from None
    if not isinstance(value, dict):  # check_presentation refused it already
        raise CheckFailedError(Reason.PRESENTATION_MALFORMED, "the presentation is not an object")
    if any(not isinstance(c, str) or c not in CONTEXT_FILES for c in as_list(value["@context"])):
        raise CheckFailedError(
            Reason.CONTEXT_NOT_ALLOWED,
            "the presentation's @context holds a context outside the packaged allow-list",
            "/@context",
        )
    if not isinstance(model.holder, str):
        raise CheckFailedError(
            Reason.PRESENTATION_MALFORMED, "the presentation names no holder", "/holder"
        )
    if "proof" not in value:
        raise CheckFailedError(
            Reason.PROOF_SET_INVALID, "the presentation has no proof by its holder", "/proof"
        )
    embedded = value.get("verifiableCredential")
    if not isinstance(embedded, list) or not embedded:
        raise CheckFailedError(
            Reason.PRESENTATION_MALFORMED, "verifiableCredential must be a non-empty array"
        )
    if len(embedded) > MAX_PRESENTED_CREDENTIALS:
        raise CheckFailedError(
            Reason.TOO_MANY_CREDENTIALS,
            f"a presentation carries at most {MAX_PRESENTED_CREDENTIALS} credentials",
        )
    credentials: list[ParsedCredential | ForeignCredential] = []
    for index, item in enumerate(embedded):
        where, at = f"credential {index}", f"/verifiableCredential/{index}"
        if is_foreign(item):
            credentials.append(parse_foreign(item, where, at))
        else:
            credentials.append(parse_credential(item, where, at))
    return MixedPresentation(value, model.holder, tuple(credentials))


def _domain_holds(domain: str | list[str] | None, did: str) -> bool:
    return domain == did or (isinstance(domain, list) and did in domain)


def mixed_presentation(
    parsed: MixedPresentation,
    config: VerifierConfig,
    challenges: Challenges,
    now: int,
    limits: CanonLimits = DEFAULT_LIMITS,
) -> Passed[None] | Failed:
    """(6) for a mixed presentation: the holder's proofs, domain, challenge, binding.

    Every proof must verify (``authentication``) by a method the holder controls and
    carry this verifier's DID as ``domain`` and one challenge, used up only after all
    that holds (a forged presentation cannot burn a challenge).
    """
    verified = verify_proofs(parsed.document, purpose=AUTHENTICATION, now_ms=now, limits=limits)
    challenge: set[str | None] = set()
    for each in verified:
        here = _proof_at(parsed.document, "", each.index)
        if not each.verified:
            return Failed(
                suite_reason(each.reason, holder=True),
                f"the presentation's proof {each.index}: {each.message}",
                here,
            )
        if each.controller != parsed.holder:
            return Failed(
                Reason.HOLDER_VERIFICATION_METHOD_INVALID,
                f"the presentation's proof {each.index} is not by a method the holder controls",
                here,
            )
        if not _domain_holds(each.domain, config.did):
            return Failed(Reason.DOMAIN_MISMATCH, "the presentation is for another verifier")
        challenge.add(each.challenge)
    value = challenge.pop() if len(challenge) == 1 else None
    if value is None:
        return Failed(
            Reason.CHALLENGE_UNKNOWN, "the presentation's proofs do not carry one challenge"
        )
    used = consume_challenge(challenges, value, config, now)
    if used is not None:
        return used
    return holder_binding(parsed.holder, [c.holder for c in parsed.credentials])

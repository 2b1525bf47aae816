"""The checks that need no chain: what the verifier and the citizen's wallet share.

Pure functions over a parsed credential (check (0), ``credentials.verify.parse``):

- check (1) without the registry: the issuer proof's form (``issuer_proof_form``)
  and, given the public key of its verification method, the SM2 signature
  (``issuer_signature``);
- check (3) without the chain: the anchor proof names the trusted chain, contract
  and the credential's issuer, and its audit path leads from the credential
  digest to the root it states (``anchor_path``);
- check (7): every disclosure hashes to a digest in ``_sd`` (``disclosures_listed``),
  or the failure names the disclosure and its claim;
- check (6) without the challenge store: the holder's signature (``holder_proof``).

``check_offline`` runs (0), (1), (3) and (7) in that order and returns the
lowest-numbered failure, which is the verifier's ``first_failure`` whenever the
verifier fails no check that reads the chain. Each function returns a typed
outcome with the frozen reason codes of ``credentials.reasons``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from credentials.anchor_proof import AnchorProof
from credentials.cryptosuite import (
    ASSERTION,
    AUTHENTICATION,
    CRYPTOSUITE,
    decode_proof_value,
    hash_data,
)
from credentials.did import (
    IssuerMethod,
    parse_holder_verification_method,
    parse_issuer_verification_method,
    public_key_of_did_key,
)
from credentials.disclosure import MIN_SALT_BYTES, claim_name, disclosure_digest, salt_length
from credentials.reasons import Check, Reason
from credentials.schema import validate_format
from credentials.verify.outcome import Failed, OfflineFailure, Passed
from credentials.verify.parse import (
    JsonObject,
    ParsedCredential,
    load_credential,
    members_problem,
)
from ledger.crypto.errors import CryptoError
from ledger.crypto.sm2 import Sm2PublicKey
from ledger.crypto.sm2 import verify as sm2_verify
from ledger.merkle.errors import MerkleError
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.verify import root_from_inclusion_proof

__all__ = [
    "HolderProof",
    "IssuerProofForm",
    "TrustedChain",
    "anchor_path",
    "check_offline",
    "check_proof_fields",
    "disclosures_listed",
    "holder_proof",
    "issuer_proof_form",
    "issuer_signature",
]

_ISSUER_PROOF_KEYS = frozenset(
    {"type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue"}
)
_HOLDER_PROOF_KEYS = _ISSUER_PROOF_KEYS | {"challenge", "domain"}


@dataclass(frozen=True)
class TrustedChain:
    """The chain id and CredentialAnchor address a checker trusts; ``None``: not known.

    The verifier knows both (its configuration). A wallet that knows neither takes
    the issuer DID's chain as given and does not compare the contract.
    """

    chain_id: int | None = None
    credential_anchor: str | None = None


@dataclass(frozen=True)
class IssuerProofForm:
    """An issuer proof whose form holds: its members and the verification method it names."""

    proof: JsonObject
    method: IssuerMethod


@dataclass(frozen=True)
class HolderProof:
    """A presentation proof whose holder signature verifies."""

    proof: JsonObject
    holder: str


def check_proof_fields(proof: object, keys: frozenset[str], what: str) -> JsonObject | Failed:
    """The proof's members are exactly ``keys``, all strings, and it is ``sm2-jcs-2026``."""
    if not isinstance(proof, dict):
        return Failed(Reason.PROOF_MALFORMED, f"the {what} proof is not an object")
    if set(proof) != keys:
        return Failed(
            Reason.PROOF_MALFORMED, f"the {what} proof {members_problem(proof, keys, keys)}"
        )
    if not all(isinstance(proof[k], str) for k in keys):
        return Failed(Reason.PROOF_MALFORMED, f"every member of the {what} proof is a string")
    if not validate_format("date-time", proof["created"]):
        return Failed(Reason.PROOF_MALFORMED, f"the {what} proof's created is not a UTC date-time")
    if proof["cryptosuite"] != CRYPTOSUITE:
        return Failed(Reason.CRYPTOSUITE_UNSUPPORTED, f"the {what} proof is not {CRYPTOSUITE}")
    return proof


# ------------------------------------------------------- (1) issuer proof, offline part


def issuer_proof_form(
    parsed: ParsedCredential, trusted: TrustedChain
) -> Passed[IssuerProofForm] | Failed:
    """Check (1) up to the key lookup: members, chain, purpose, the issuer's own method."""
    proof = check_proof_fields(parsed.issuer_proof, _ISSUER_PROOF_KEYS, "issuer")
    if isinstance(proof, Failed):
        return proof
    if trusted.chain_id is not None and parsed.issuer_chain != trusted.chain_id:
        return Failed(Reason.ISSUER_CHAIN_MISMATCH, "the issuer DID names another chain")
    if proof["proofPurpose"] != ASSERTION:
        return Failed(
            Reason.PROOF_PURPOSE_MISMATCH, "the issuer proof's purpose must be assertionMethod"
        )
    try:
        method = parse_issuer_verification_method(proof["verificationMethod"])
    except ValueError:
        return Failed(
            Reason.VERIFICATION_METHOD_NOT_ISSUER,
            "the verification method is not a did:tongban key",
        )
    if method.did != parsed.issuer:
        return Failed(
            Reason.VERIFICATION_METHOD_NOT_ISSUER,
            "the verification method is not controlled by the credential's issuer",
        )
    return Passed(IssuerProofForm(proof, method))


def issuer_signature(
    parsed: ParsedCredential, form: IssuerProofForm, key: Sm2PublicKey
) -> Passed[None] | Failed:
    """Check (1) after the key lookup: the SM2 signature over the secured form, by ``key``."""
    try:
        signature = decode_proof_value(form.proof["proofValue"])
    except ValueError:
        return Failed(Reason.PROOF_VALUE_MALFORMED, "the issuer proofValue is malformed")
    data = hash_data(parsed.secured, form.proof, document_hash=parsed.digest)
    try:
        sm2_verify(key, data, signature)
    except CryptoError:
        return Failed(Reason.SIGNATURE_INVALID, "the issuer's signature does not verify")
    return Passed(None, "the issuer's sm2-jcs-2026 signature verifies")


# --------------------------------------------------- (3) anchor inclusion, offline part


def anchor_path(
    digest: bytes,
    issuer_chain: int,
    issuer_id: int,
    proof: Mapping[str, Any],
    trusted: TrustedChain,
) -> Passed[AnchorProof] | Failed:
    """Check (3) up to the chain lookup: the proof's chain, contract, issuer, path and root."""
    try:
        parsed = AnchorProof.from_json(proof)
    except ValueError:
        return Failed(Reason.ANCHOR_PROOF_MALFORMED, "the anchor proof is malformed")
    chain_id = issuer_chain if trusted.chain_id is None else trusted.chain_id
    if parsed.chain_id != chain_id:
        return Failed(Reason.ANCHOR_CHAIN_MISMATCH, "the anchor proof names another chain")
    if trusted.credential_anchor is not None and parsed.contract != trusted.credential_anchor:
        return Failed(
            Reason.ANCHOR_CONTRACT_MISMATCH, "the anchor proof names another CredentialAnchor"
        )
    if parsed.issuer_id != issuer_id or issuer_chain != chain_id:
        return Failed(Reason.ANCHOR_ISSUER_MISMATCH, "the anchor proof names another issuer")
    try:
        root = root_from_inclusion_proof(
            SM3_TREE,
            parsed.leaf_index,
            parsed.tree_size,
            SM3_TREE.hash_leaf(digest),
            parsed.audit_path,
        )
    except MerkleError:
        return Failed(Reason.ANCHOR_PATH_INVALID, "the audit path has the wrong shape")
    if root != parsed.root:
        return Failed(
            Reason.ANCHOR_ROOT_MISMATCH, "the audit path does not lead to the proof's root"
        )
    return Passed(parsed, "the audit path leads to the proof's root")


# ------------------------------------------------------------------- (7) disclosures


def _disclosure(index: int, item: list[Any]) -> str:
    return f"disclosure {index} (claim {claim_name(item[1])})"


def disclosures_listed(parsed: ParsedCredential) -> Passed[None] | Failed:
    """Check (7): every disclosure has a long enough salt and hashes to a digest in ``_sd``.

    A failure names the disclosure (its position in ``disclosures``, ``at``) and
    its claim (check (0) made sure it is one of the template's), never its value.
    """
    for index, item in enumerate(parsed.disclosures):
        if salt_length(item[0]) < MIN_SALT_BYTES:
            return Failed(
                Reason.DISCLOSURE_SALT_TOO_SHORT,
                f"{_disclosure(index, item)} has a salt shorter than {MIN_SALT_BYTES * 8} bits",
                f"/disclosures/{index}",
            )
        if disclosure_digest(item) not in parsed.sd:
            return Failed(
                Reason.DISCLOSURE_NOT_IN_SD,
                f"{_disclosure(index, item)} does not hash to a digest in _sd",
                f"/disclosures/{index}",
            )
    count = len(parsed.disclosures)
    return Passed(None, f"{count} disclosure(s), each listed in _sd")


# ----------------------------------------------------- (6) holder proof, offline part


@lru_cache(maxsize=4096)
def _holder_key(did: str) -> Sm2PublicKey | None:
    try:
        return public_key_of_did_key(did)
    except ValueError:
        return None


def holder_proof(presentation: JsonObject) -> Passed[HolderProof] | Failed:
    """Check (6) up to the challenge: the holder's ``authentication`` signature verifies.

    ``presentation`` passed check (0) (``parse_presentation``).
    """
    holder = str(presentation["holder"])
    proof = check_proof_fields(presentation["proof"], _HOLDER_PROOF_KEYS, "presentation")
    if isinstance(proof, Failed):
        return proof
    if proof["proofPurpose"] != AUTHENTICATION:
        return Failed(
            Reason.HOLDER_PROOF_PURPOSE_MISMATCH,
            "the presentation proof's purpose must be authentication",
        )
    try:
        did, _ = parse_holder_verification_method(proof["verificationMethod"])
    except ValueError:
        return Failed(
            Reason.HOLDER_VERIFICATION_METHOD_INVALID,
            "the verification method is not the holder's did:key#key",
        )
    if did != holder:
        return Failed(
            Reason.HOLDER_VERIFICATION_METHOD_INVALID, "the verification method is not the holder's"
        )
    key = _holder_key(holder)
    if key is None:
        return Failed(Reason.HOLDER_INVALID, "the holder's did:key is not a valid SM2 key")
    try:
        signature = decode_proof_value(proof["proofValue"])
    except ValueError:
        return Failed(Reason.PROOF_VALUE_MALFORMED, "the presentation's proofValue is malformed")
    unsecured = {k: v for k, v in presentation.items() if k != "proof"}
    try:
        sm2_verify(key, hash_data(unsecured, proof), signature)
    except CryptoError:
        return Failed(Reason.HOLDER_SIGNATURE_INVALID, "the holder's signature does not verify")
    return Passed(HolderProof(proof, holder), "the holder's signature verifies")


# ---------------------------------------------------------------- all of them, in order


def check_offline(
    document: object,
    *,
    trusted: TrustedChain | None = None,
    issuer_key: Sm2PublicKey | None = None,
) -> Passed[ParsedCredential] | OfflineFailure:
    """Checks (0), (1), (3) and (7) of one credential, without the chain; the first failure.

    ``document`` is decoded JSON (as a wallet holds it: a ``str`` is a JSON string).
    ``trusted``: the chain and contract the caller trusts (default: none known).
    ``issuer_key``: the key of the issuer proof's verification method, as the issuer's
    DID document lists it; without it the signature is not checked. An anchor proof is
    checked when the credential carries one (a fresh credential has none yet).
    """
    trusted = TrustedChain() if trusted is None else trusted
    loaded = load_credential(document, text=False)
    if isinstance(loaded, Failed):
        return OfflineFailure(Check.PARSE, loaded)
    parsed = loaded.value
    # (1) issuer proof: its form, then the signature if the key is known.
    form = issuer_proof_form(parsed, trusted)
    if isinstance(form, Failed):
        return OfflineFailure(Check.ISSUER_PROOF, form)
    if issuer_key is not None:
        signed = issuer_signature(parsed, form.value, issuer_key)
        if isinstance(signed, Failed):
            return OfflineFailure(Check.ISSUER_PROOF, signed)
    # (2) needs the registry and the anchor block time: the verifier's.
    # (3) anchor inclusion: the path to the stated root, not that the root is anchored.
    if parsed.anchor_proof is not None:
        path = anchor_path(
            parsed.digest, parsed.issuer_chain, parsed.issuer_id, parsed.anchor_proof, trusted
        )
        if isinstance(path, Failed):
            return OfflineFailure(Check.ANCHOR, path)
    # (4) status and (5) validity period are judged at verification time, by the verifier.
    # (7) disclosures.
    listed = disclosures_listed(parsed)
    if isinstance(listed, Failed):
        return OfflineFailure(Check.DISCLOSURES, listed)
    return Passed(parsed, "the checks that need no chain hold")

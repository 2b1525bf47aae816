"""Checks (1)-(7) of one parsed credential or presentation, one function per check.

Each returns a typed outcome (``Passed``, ``Skipped`` or ``Failed``); the parts
that need no chain are ``credentials.verify.offline``'s, shared with the
citizen's wallet. Reading the chain index may raise ``StoreError``, and
consuming a challenge may too: the verifier turns either into ERROR.

Inside ``deferred_challenges()`` a challenge is not used up by check (6) but only
checked (reading), and its ``PendingUse`` kept: the caller then uses it up in the
transaction that appends the access event (``api.province.access``), one durable
write per presentation, with the same single-use rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

from credentials.reasons import Reason
from credentials.verify.chain_state import ChainState
from credentials.verify.config import VerifierConfig
from credentials.verify.offline import (
    anchor_path,
    disclosures_listed,
    holder_proof,
    issuer_proof_form,
    issuer_signature,
)
from credentials.verify.outcome import CheckUndecidedError, Failed, Passed, Skipped
from credentials.verify.parse import ParsedCredential, ParsedPresentation
from credentials.verify.result import StatusFinding
from ledger.chain.contracts.credential_anchor import DigestStatus
from ledger.chain.contracts.registry import KeyRecord
from ledger.chain.index import IndexedAnchor
from ledger.crypto.errors import CryptoError
from ledger.crypto.sm2 import Sm2PublicKey
from ledger.store.challenges import ChallengeError, Challenges, PendingUse
from ledger.store.database import Transaction

__all__ = [
    "PRESENTATION_PURPOSE",
    "DeferredChallenges",
    "anchor_inclusion",
    "consume_challenge",
    "deferred_challenges",
    "disclosures",
    "holder_binding",
    "issuer_key_validity",
    "issuer_proof",
    "presentation",
    "registry_key",
    "status",
    "status_on_chain",
    "validity_period",
    "validity_window",
]

PRESENTATION_PURPOSE = "presentation"
"""Purpose of the challenges a verifier issues for presentations."""

_CHALLENGE_REASONS = {
    "unknown": Reason.CHALLENGE_UNKNOWN,
    "already used": Reason.CHALLENGE_USED,
    "expired": Reason.CHALLENGE_EXPIRED,
}


@dataclass
class DeferredChallenges:
    """The challenge a verification found usable inside ``deferred_challenges()``, if any."""

    pending: list[PendingUse] = field(default_factory=list)

    @property
    def guard(self) -> PendingUse | None:
        """The challenge to use up with the access event (``PendingUse.use``), or None."""
        return self.pending[0] if self.pending else None

    def use(self, tx: Transaction) -> bool:
        """Use the challenge up inside ``tx`` (an audit guard); True when none is pending."""
        return self.guard is None or self.guard.use(tx)


_DEFERRED: ContextVar[DeferredChallenges | None] = ContextVar("deferred_challenges", default=None)


@contextmanager
def deferred_challenges() -> Iterator[DeferredChallenges]:
    """Within this block (this thread or task), check (6) defers using up its challenge."""
    deferred = DeferredChallenges()
    token = _DEFERRED.set(deferred)
    try:
        yield deferred
    finally:
        _DEFERRED.reset(token)


@lru_cache(maxsize=4096)
def registry_key(raw: bytes) -> Sm2PublicKey | None:
    """The SM2 key of a registry record's bytes (None: not a point; cached)."""
    try:
        return Sm2PublicKey.from_bytes(raw)
    except CryptoError:
        return None


# ----------------------------------------------------------------- (1) issuer proof


def issuer_proof(
    parsed: ParsedCredential, config: VerifierConfig, chain: ChainState
) -> Passed[KeyRecord] | Failed:
    """(1) The issuer's sm2-jcs-2026 proof, by a key of the issuer found in the registry."""
    form = issuer_proof_form(parsed, config.trusted)
    if isinstance(form, Failed):
        return form
    method = form.value.method
    record = chain.key(method.issuer_id, method.key_id)
    key = None if record is None else registry_key(record.public_key)
    if record is None or key is None:
        return Failed(
            Reason.VERIFICATION_METHOD_UNKNOWN,
            "the issuer has no such key in the registry (as of the index height)",
        )
    signed = issuer_signature(parsed, form.value, key)
    if isinstance(signed, Failed):
        return signed
    return Passed(record, signed.message)


# ------------------------------------------------- (2) issuer and key at anchor time


def issuer_key_validity(
    parsed: ParsedCredential,
    config: VerifierConfig,
    chain: ChainState,
    key: KeyRecord | None,
    anchor: IndexedAnchor | None,
) -> Passed[None] | Skipped | Failed:
    """(2) A registered issuer, whose key (from (1)) was valid at the anchor block time (3)."""
    if parsed.issuer_chain != config.chain_id:
        return Skipped(Reason.PREREQUISITE_FAILED, "the issuer DID names another chain")
    if not chain.issuer_known(parsed.issuer_id):
        return Failed(Reason.ISSUER_UNKNOWN, "the issuer is not registered")
    if key is None:
        return Skipped(Reason.PREREQUISITE_FAILED, "the signing key could not be established")
    if anchor is None:
        return Skipped(Reason.ANCHOR_TIME_UNKNOWN, "the anchor block time is unknown")
    at = anchor.block_time
    if at < key.valid_from:
        return Failed(Reason.KEY_NOT_YET_VALID_AT_ANCHOR, "the key was not yet valid at anchoring")
    if key.compromised_from is not None and at >= key.compromised_from:
        return Failed(
            Reason.KEY_COMPROMISED_AT_ANCHOR, "the key was marked compromised before anchoring"
        )
    if key.retired_at is not None and at >= key.retired_at:
        return Failed(Reason.KEY_RETIRED_AT_ANCHOR, "the key was retired before anchoring")
    return Passed(None, "registered issuer; key valid at the anchor block time")


# ------------------------------------------------------------- (3) anchor inclusion


INDEX_LAG_BLOCKS = 1000
"""How far beyond the index height an anchor proof's block may be and still be waited for.

Within it, an anchor the index has not seen is undecided (ERROR, retry); beyond it
(a lag that long is an outage the health route reports) the root is not anchored.
"""


def anchor_inclusion(
    parsed: ParsedCredential, config: VerifierConfig, chain: ChainState
) -> Passed[IndexedAnchor] | Failed:
    """(3) Merkle inclusion in a root this issuer anchored in the configured contract."""
    if parsed.anchor_proof is None:
        return Failed(Reason.ANCHOR_PROOF_MISSING, "the credential carries no anchor proof yet")
    path = anchor_path(
        parsed.digest, parsed.issuer_chain, parsed.issuer_id, parsed.anchor_proof, config.trusted
    )
    if isinstance(path, Failed):
        return path
    proof = path.value
    anchored = chain.anchor(proof.issuer_id, proof.root)
    if anchored is None and 0 < proof.block_number - chain.height <= INDEX_LAG_BLOCKS:
        # The proof names a block this verifier's index has not reached: not a
        # forgery to reject, a question to answer again once the index catches up.
        raise CheckUndecidedError(
            Reason.ANCHOR_NOT_YET_INDEXED,
            f"the anchor proof names block {proof.block_number}, beyond this verifier's "
            f"chain index (block {chain.height}); retry shortly",
        )
    if anchored is None:
        return Failed(
            Reason.ROOT_NOT_ANCHORED,
            "the issuer did not anchor this root in the configured contract "
            "(as of the index height)",
        )
    if anchored.tree_size != proof.tree_size:
        return Failed(Reason.ANCHOR_TREE_SIZE_MISMATCH, "the anchored tree size differs")
    if anchored.block_number != proof.block_number:
        return Failed(Reason.ANCHOR_BLOCK_MISMATCH, "the root was anchored in another block")
    return Passed(anchored, f"included in a root anchored in block {anchored.block_number}")


# ------------------------------------------------------------------------ (4) status


def status_on_chain(
    parsed: ParsedCredential, config: VerifierConfig, chain: ChainState
) -> Passed[StatusFinding] | Skipped:
    """(4), its read: the digest's latest status under its issuer, as of the index height."""
    if parsed.issuer_chain != config.chain_id:
        return Skipped(Reason.PREREQUISITE_FAILED, "the issuer DID names another chain")
    found = chain.digest_status(parsed.issuer_id, parsed.digest)
    return Passed(
        StatusFinding(parsed.digest.hex(), found.status, found.reason, found.block_number)
    )


def status(found: StatusFinding) -> Passed[None] | Failed:
    """(4) Neither revoked nor suspended; a failure names the reason code and the block."""
    if found.status is DigestStatus.REVOKED:
        return Failed(Reason.REVOKED, f"the issuer revoked the credential: {found.describe()}")
    if found.status is DigestStatus.SUSPENDED:
        return Failed(Reason.SUSPENDED, f"the issuer suspended the credential: {found.describe()}")
    return Passed(None, "neither revoked nor suspended")


# --------------------------------------------------------------- (5) validity period


def validity_period(parsed: ParsedCredential, now: int) -> Passed[None] | Failed:
    """(5) The validity period contains ``now`` (ms since the epoch)."""
    return validity_window(parsed.valid_from, parsed.valid_until, now)


def validity_window(
    valid_from: int | None, valid_until: int | None, now: int
) -> Passed[None] | Failed:
    """(5)'s rule for any credential: ``valid_from <= now < valid_until`` (ms; None: open)."""
    if valid_from is not None and now < valid_from:
        return Failed(Reason.NOT_YET_VALID, "the credential is not valid yet")
    if valid_until is not None and now >= valid_until:
        return Failed(Reason.EXPIRED, "the credential has expired")
    return Passed(None, "within its validity period")


# ------------------------------------------------------------------ (6) presentation


def presentation(
    parsed: ParsedPresentation, config: VerifierConfig, challenges: Challenges, now: int
) -> Passed[None] | Failed:
    """(6) Holder signature, domain, the challenge (consumed here), holder binding."""
    signed = holder_proof(parsed.document)
    if isinstance(signed, Failed):
        return signed
    proof = signed.value.proof
    if proof["domain"] != config.did:
        return Failed(Reason.DOMAIN_MISMATCH, "the presentation is for another verifier")
    # Only after the signature verifies: a forged presentation cannot burn a challenge.
    used = consume_challenge(challenges, proof["challenge"], config, now)
    if used is not None:
        return used
    return holder_binding(parsed.holder, [c.holder for c in parsed.credentials])


def consume_challenge(
    challenges: Challenges, value: str, config: VerifierConfig, now: int
) -> Failed | None:
    """(6) Use up a presentation challenge of this verifier; the failure, or None when used.

    Inside ``deferred_challenges()`` the challenge is only checked and left pending.
    """
    deferred = _DEFERRED.get()
    try:
        if deferred is None:
            challenges.consume(value, PRESENTATION_PURPOSE, now, config.did)
        else:
            if deferred.pending:
                # One guard uses one challenge: a second could not be undone alone.
                raise RuntimeError("one deferred challenge per verification")
            deferred.pending.append(challenges.check(value, PRESENTATION_PURPOSE, now, config.did))
    except ChallengeError as exc:
        return Failed(
            _CHALLENGE_REASONS.get(exc.reason, Reason.CHALLENGE_WRONG_AUDIENCE),
            f"the challenge is {exc.reason}",
        )
    return None


def holder_binding(holder: str, subjects: list[str | None]) -> Passed[None] | Failed:
    """(6) Every credential's subject is the presentation's holder."""
    for index, subject in enumerate(subjects):
        if subject != holder:
            return Failed(
                Reason.HOLDER_BINDING_MISMATCH,
                f"credential {index}'s subject is not the presentation's holder",
            )
    return Passed(None, "holder proof, binding, challenge and domain hold")


# ------------------------------------------------------------------- (7) disclosures

disclosures = disclosures_listed
"""(7) Every disclosure hashes to a digest in ``_sd`` (needs no chain: the offline check)."""

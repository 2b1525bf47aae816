"""The holder's side: derive a credential revealing chosen claims, and sign a presentation.

A derived credential is the issued one with ``disclosures`` cut down to the chosen
claims; the secured form, the issuer proof and the anchor proof are untouched, so
they still verify. Undisclosed claims leave no trace but their salted digests in
``_sd`` (which decoys pad).

A presentation (W3C VP) wraps up to 50 derived credentials and is signed by the
holder's SM2 key (``sm2-jcs-2026``, ``proofPurpose`` "authentication") over the
verifier's challenge, with the verifier's DID as ``domain``::

    {
      "@context": [v2, tongban],
      "id": "urn:uuid:<random>",
      "type": ["VerifiablePresentation"],
      "holder": "did:key:z...",
      "verifiableCredential": [<derived credential>, ...],
      "termsOfUse": {"type": "TongbanPurposeOfUse", "purpose": "<code>"},  (only if bound)
      "proof": {"type": "DataIntegrityProof", "cryptosuite": "sm2-jcs-2026", "created": ...,
                "verificationMethod": "did:key:z...#z...", "proofPurpose": "authentication",
                "challenge": "<from the verifier>", "domain": "<verifier DID>",
                "proofValue": "z..."}
    }
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from credentials.credential import CONTEXT
from credentials.cryptosuite import AUTHENTICATION, create_proof
from credentials.did import holder_did, holder_verification_method
from credentials.disclosure import select_disclosures
from credentials.errors import DisclosureError
from credentials.times import format_ms, now_ms
from credentials.verify.purpose_binding import TERMS_OF_USE, purpose_term
from ledger.crypto.signer import LocalSigner, Signer
from ledger.crypto.sm2 import Sm2PrivateKey

__all__ = ["MAX_PRESENTED_CREDENTIALS", "Holder", "derive_credential"]

MAX_PRESENTED_CREDENTIALS = 50
"""Most credentials one presentation may carry."""


def derive_credential(credential: Mapping[str, Any], claims: Iterable[str]) -> dict[str, Any]:
    """A copy of ``credential`` that discloses only ``claims`` (names of disclosable claims).

    Raises ``DisclosureError`` if a named claim has no disclosure in the credential.
    """
    chosen = select_disclosures(credential.get("disclosures", []), claims)
    derived = {k: v for k, v in credential.items() if k != "disclosures"}
    if chosen:
        derived["disclosures"] = chosen
    # Keep the issued key order (readability only: JCS ignores it).
    return {k: derived[k] for k in credential if k in derived}


class Holder:
    """A citizen's SM2 key and DID: derives credentials and signs presentations."""

    def __init__(self, private_key: Sm2PrivateKey) -> None:
        """Hold ``private_key``; the DID is ``did:key`` of its public key."""
        self.did = holder_did(private_key.public_key)
        self.verification_method = holder_verification_method(private_key.public_key)
        self.signer: Signer = LocalSigner(self.verification_method, private_key)

    @classmethod
    def generate(cls) -> Holder:
        """A holder with a fresh key."""
        return cls(Sm2PrivateKey.generate())

    def present(
        self,
        credentials: Sequence[tuple[Mapping[str, Any], Iterable[str]]],
        *,
        challenge: str,
        domain: str,
        created_ms: int | None = None,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        """A presentation of ``(credential, claims to disclose)`` pairs, signed by this holder.

        ``challenge`` and ``domain`` come from the verifier (its challenge and its DID).
        ``purpose``: bind the presentation to this purpose code (a ``termsOfUse`` entry
        the proof covers, ``credentials.verify.purpose_binding``); a verifier that
        declares another purpose refuses it. Raises ``DisclosureError`` for a malformed code.
        """
        if not 1 <= len(credentials) <= MAX_PRESENTED_CREDENTIALS:
            raise DisclosureError(
                f"a presentation carries 1 to {MAX_PRESENTED_CREDENTIALS} credentials"
            )
        presentation: dict[str, Any] = {
            "@context": list(CONTEXT),
            "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiablePresentation"],
            "holder": self.did,
            "verifiableCredential": [derive_credential(c, claims) for c, claims in credentials],
        }
        if purpose is not None:
            try:
                presentation[TERMS_OF_USE] = purpose_term(purpose)
            except ValueError as exc:
                raise DisclosureError(str(exc)) from None
        proof = create_proof(
            presentation,
            self.signer,
            verification_method=self.verification_method,
            proof_purpose=AUTHENTICATION,
            created=format_ms(now_ms() if created_ms is None else created_ms),
            challenge=challenge,
            domain=domain,
        )
        return {**presentation, "proof": proof}

"""Credentials Tongban did not issue, for tests: keys, ``did:key``s and Data Integrity proofs.

Signs the way the W3C cryptosuites say (``hashData = hash(canonical proof
configuration) || hash(canonical document)``, JCS or RDFC-1.0), so that
``credentials.suites`` has something of other implementations' shape to verify: the
vectors' own key pairs (``tests/vectors/w3c-di``) or fresh keys. Also the RDFC poison
credential (the rdf-canon suite's ``#test074c`` clique as a credential).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import base58
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credentials.contexts import CREDENTIALS_V2
from credentials.jcs import canonicalize
from credentials.suites import canonize_rdfc

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
W3C_DI = VECTORS / "w3c-di"
POISON_ENTRY = VECTORS / "rdf-canon" / "manifest-test074c.jsonld-fragment.txt"

Curve = Literal["Ed25519", "P-256", "P-384"]
_PREFIX = {"Ed25519": b"\xed\x01", "P-256": b"\x80\x24", "P-384": b"\x81\x24"}
_CURVES: dict[str, tuple[ec.EllipticCurve, hashes.HashAlgorithm, int]] = {
    "P-256": (ec.SECP256R1(), hashes.SHA256(), 32),
    "P-384": (ec.SECP384R1(), hashes.SHA384(), 48),
}


@dataclass(frozen=True)
class ForeignKey:
    """A key of another implementation's curve, with its ``did:key``."""

    curve: Curve
    private: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls, curve: Curve) -> ForeignKey:
        """A fresh key."""
        if curve == "Ed25519":
            return cls(curve, ed25519.Ed25519PrivateKey.generate())
        return cls(curve, ec.generate_private_key(_CURVES[curve][0]))

    @classmethod
    def vector(cls, curve: Literal["Ed25519", "P-256"]) -> ForeignKey:
        """The key pair the W3C vectors were signed with (its private key is published)."""
        if curve == "Ed25519":
            pair = json.loads((W3C_DI / "vc-di-eddsa" / "keyPair.json").read_text())
            raw = base58.b58decode(pair["privateKeyMultibase"][1:])[2:]
            return cls(curve, ed25519.Ed25519PrivateKey.from_private_bytes(raw))
        pair = json.loads((W3C_DI / "vc-di-ecdsa" / "p256KeyPair.json").read_text())
        raw = base58.b58decode(pair["secretKeyMultibase"][1:])[2:]
        return cls(curve, ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1()))

    @property
    def multibase(self) -> str:
        """``publicKeyMultibase``."""
        public = self.private.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        else:
            raw = public.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        return "z" + base58.b58encode(_PREFIX[self.curve] + raw).decode()

    @property
    def did(self) -> str:
        """``did:key:<mb>``."""
        return f"did:key:{self.multibase}"

    @property
    def method(self) -> str:
        """``did:key:<mb>#<mb>``, the DID's one verification method."""
        return f"{self.did}#{self.multibase}"

    def sign(self, data: bytes) -> bytes:
        """A raw signature (Ed25519, or ECDSA r || s) over ``data``."""
        if isinstance(self.private, ed25519.Ed25519PrivateKey):
            return self.private.sign(data)
        _, digest, size = _CURVES[self.curve]
        r, s = decode_dss_signature(self.private.sign(data, ec.ECDSA(digest)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")


_SUITES = {"eddsa-jcs-2022", "eddsa-rdfc-2022", "ecdsa-jcs-2019", "ecdsa-rdfc-2019"}


def _hash(key: ForeignKey) -> Callable[[bytes], bytes]:
    if key.curve == "P-384":
        return lambda data: hashlib.sha384(data).digest()
    return lambda data: hashlib.sha256(data).digest()


def sign(
    document: dict[str, Any],
    key: ForeignKey,
    cryptosuite: str,
    *,
    purpose: str = "assertionMethod",
    created: str = "2026-01-01T00:00:00Z",
    **options: Any,
) -> dict[str, Any]:
    """``document`` with one more ``DataIntegrityProof`` (``challenge``, ``domain``: options)."""
    assert cryptosuite in _SUITES
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": cryptosuite,
        "created": created,
        "verificationMethod": key.method,
        "proofPurpose": purpose,
        **options,
    }
    config = {**proof, "@context": unsecured["@context"]}
    digest = _hash(key)
    if "rdfc" in cryptosuite:
        data = digest(canonize_rdfc(config).encode()) + digest(canonize_rdfc(unsecured).encode())
    else:
        data = digest(canonicalize(config)) + digest(canonicalize(unsecured))
    proof["proofValue"] = "z" + base58.b58encode(key.sign(data)).decode()
    existing = document.get("proof")
    proofs = [] if existing is None else existing if isinstance(existing, list) else [existing]
    return {**unsecured, "proof": proof if not proofs else [*proofs, proof]}


def foreign_credential(issuer: ForeignKey, **members: Any) -> dict[str, Any]:
    """An unsigned VC 2.0 credential of ``issuer`` (its ``did:key``); members override."""
    document: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": issuer.did,
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }
    document.update(members)
    return document


def presentation(holder: ForeignKey, credentials: list[dict[str, Any]]) -> dict[str, Any]:
    """An unsigned VC 2.0 presentation by ``holder`` of ``credentials``."""
    return {
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": credentials,
    }


def vector(relative: str) -> dict[str, Any]:
    """A signed W3C vector, as published."""
    value = json.loads((W3C_DI / relative).read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


def poison_clique_size() -> int:
    """N of the rdf-canon suite's ``#test074c`` ("A N-node Clique of blank node resources")."""
    entry = POISON_ENTRY.read_text(encoding="utf-8")
    assert '"type": "rdfc:RDFC10NegativeEvalTest"' in entry
    match = re.search(r"A (\d+)-node Clique of blank node resources all inter-related", entry)
    assert match is not None
    return int(match.group(1))


def poison_credential(issuer: ForeignKey) -> dict[str, Any]:
    """A credential whose subjects are ``#test074c``'s clique, with an eddsa-rdfc-2022 proof.

    Its proof value is well formed but signs nothing: canonicalization comes first, and the
    verifier must refuse it there, within its cap.
    """
    size = poison_clique_size()
    subjects = [
        {
            "@id": f"_:n{i}",
            "http://example.com/p": [{"@id": f"_:n{j}"} for j in range(size) if j != i],
        }
        for i in range(size)
    ]
    document = foreign_credential(issuer, credentialSubject=subjects)
    document["proof"] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": issuer.method,
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + base58.b58encode(bytes(range(64))).decode(),
    }
    return document

"""Write the ``sm2-jcs-2026`` test vectors: ``docs/sm2-jcs-2026-vectors.md`` and ``.json``.

    python scripts/sm2_jcs_vectors.py           # rewrite both files, keeping the stored signatures
    python scripts/sm2_jcs_vectors.py --check   # exit 1 if either file differs from what it writes
    python scripts/sm2_jcs_vectors.py --resign  # sign afresh (SM2 nonces are random)

Everything but the signatures is a function of the fixed inputs below, computed with the
project's own code (``credentials.cryptosuite``, ``credentials.jcs``, ``ledger.crypto``). SM2
signatures are randomized, so the generator keeps the signatures already in the JSON file as
long as they verify over the current inputs, and signs only when they do not (or when asked):
the files change only when the inputs or the code that derives them change.
``tests/credentials/test_sm2_jcs_vectors.py`` recomputes every value independently and checks
that the files are exactly what :func:`render` gives for the stored signatures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credentials.cryptosuite import (
    CRYPTOSUITE,
    PROOF_TYPE,
    create_proof,
    decode_proof_value,
    encode_proof_value,
    hash_data,
    proof_configuration,
    verify_proof,
)
from credentials.did import holder_did, holder_verification_method
from credentials.jcs import canonicalize
from ledger.crypto import multikey
from ledger.crypto.errors import InvalidSignature
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey, signing_digest
from ledger.crypto.sm3 import sm3

REPO = Path(__file__).resolve().parent.parent
MARKDOWN = REPO / "docs" / "sm2-jcs-2026-vectors.md"
JSON_FILE = REPO / "docs" / "sm2-jcs-2026-vectors.json"

PRIVATE_KEY_HEX = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
"""The GB/T 32918.5-2017 Annex A private key (``tests/vectors/sm/vectors.json``, ``sm2_sign``)."""

KEY_SOURCE = (
    "GB/T 32918.5-2017 (GM/T 0003.5-2012) Annex A signature example, recommended curve "
    "sm2p256v1; the same d is the first sm2_sign entry of tests/vectors/sm/vectors.json"
)
V2 = "https://www.w3.org/ns/credentials/v2"
CREATED = "2026-05-01T00:00:00Z"
CHALLENGE = "6d1a3f0e-2b5c-4e7a-9c84-0f3b2a1d5e6c"
DOMAIN = "did:tongban:31337:2"

KEY = Sm2PrivateKey.from_bytes(bytes.fromhex(PRIVATE_KEY_HEX))
DID = holder_did(KEY.public_key)
METHOD = holder_verification_method(KEY.public_key)

CREDENTIAL: dict[str, Any] = {
    "@context": [V2],
    "id": "urn:uuid:3f8e2c1a-7b4d-4c9e-8a21-5d6f0b7e9c42",
    "type": ["VerifiableCredential"],
    "issuer": DID,
    "validFrom": CREATED,
    "credentialSubject": {"id": DID, "name": "林晓雨"},
}
"""The unsecured credential: a plain VC 2.0 credential; the subject's name is fictional."""


@dataclass(frozen=True)
class Example:
    """One worked signing: its name, the unsecured document and the proof options."""

    name: str
    title: str
    document: dict[str, Any]
    options: dict[str, Any]


def _options(purpose: str, **extra: str) -> dict[str, Any]:
    """Proof options (the proof without ``proofValue``), in ``create_proof``'s member order."""
    return {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": CREATED,
        "verificationMethod": METHOD,
        "proofPurpose": purpose,
        **extra,
    }


def _presentation(secured_credential: Mapping[str, Any]) -> dict[str, Any]:
    """The unsecured presentation carrying the secured credential."""
    return {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": DID,
        "verifiableCredential": [dict(secured_credential)],
    }


def sign(document: Mapping[str, Any], options: Mapping[str, Any]) -> bytes:
    """A fresh SM2 signature (raw ``r || s``) over ``document`` with the fixed key."""
    proof = create_proof(
        document,
        LocalSigner("vectors", KEY),
        verification_method=options["verificationMethod"],
        proof_purpose=options["proofPurpose"],
        created=options["created"],
        challenge=options.get("challenge"),
        domain=options.get("domain"),
    )
    if {k: v for k, v in proof.items() if k != "proofValue"} != dict(options):
        raise RuntimeError("create_proof wrote different proof options than the vectors")
    return decode_proof_value(proof["proofValue"])


def _signature_for(example: Example, stored: Mapping[str, bytes], *, resign: bool) -> bytes:
    """The stored signature if it verifies over ``example`` (and not ``resign``), else a new one."""
    old = stored.get(example.name)
    if old is not None and not resign:
        proof = {**example.options, "proofValue": encode_proof_value(old)}
        try:
            verify_proof(example.document, proof, KEY.public_key)
        except InvalidSignature:
            pass
        else:
            return old
    return sign(example.document, example.options)


def vectors(stored: Mapping[str, bytes], *, resign: bool = False) -> dict[str, Any]:
    """The whole vector set, as written to the JSON file.

    ``stored`` maps an example name to a signature to keep; an example whose stored signature
    is missing or no longer verifies is signed afresh (a new credential signature changes the
    presentation, so the presentation is then signed afresh too).
    """
    credential = Example("credential", "Credential", CREDENTIAL, _options("assertionMethod"))
    worked_credential = _worked(credential, _signature_for(credential, stored, resign=resign))
    presentation = Example(
        "presentation",
        "Presentation",
        _presentation(worked_credential["securedDocument"]),
        _options("authentication", challenge=CHALLENGE, domain=DOMAIN),
    )
    worked_presentation = _worked(presentation, _signature_for(presentation, stored, resign=resign))
    public = KEY.public_key
    return {
        "cryptosuite": CRYPTOSUITE,
        "generatedBy": "scripts/sm2_jcs_vectors.py",
        "keyPair": {
            "source": KEY_SOURCE,
            "privateKeyHex": PRIVATE_KEY_HEX,
            "publicKeyHex": public.compressed().hex(),
            "publicKeyUncompressedHex": public.uncompressed().hex(),
            "publicKeyMultibase": multikey.encode(public),
            "did": DID,
            "verificationMethod": METHOD,
            "userIdHex": b"1234567812345678".hex(),
            "za": public.za().hex(),
        },
        "examples": [worked_credential, worked_presentation],
    }


def _worked(example: Example, signature: bytes) -> dict[str, Any]:
    """Every intermediate value of one example, computed with the project's own functions."""
    config = proof_configuration(example.document, example.options)
    canonical_config = canonicalize(config)
    canonical_document = canonicalize(example.document)
    data = hash_data(example.document, example.options)
    proof = {**example.options, "proofValue": encode_proof_value(signature)}
    verify_proof(example.document, proof, KEY.public_key)
    return {
        "name": example.name,
        "title": example.title,
        "unsecuredDocument": example.document,
        "proofOptions": example.options,
        "proofConfiguration": config,
        "canonicalProofConfiguration": canonical_config.decode("utf-8"),
        "proofConfigHash": sm3(canonical_config).hex(),
        "canonicalDocument": canonical_document.decode("utf-8"),
        "documentHash": sm3(canonical_document).hex(),
        "hashData": data.hex(),
        "signedDigestE": signing_digest(KEY.public_key, data).hex(),
        "signatureR": signature[:32].hex(),
        "signatureS": signature[32:].hex(),
        "signatureHex": signature.hex(),
        "proofValue": proof["proofValue"],
        "securedDocument": {**example.document, "proof": proof},
    }


def _json_block(name: str, value: Any) -> str:
    """A fenced JSON block tagged for the test (``<!-- vector:name -->``)."""
    body = json.dumps(value, indent=2, ensure_ascii=False)
    return f"<!-- vector:{name} -->\n```json\n{body}\n```\n"


def _text_block(name: str, value: str) -> str:
    """A fenced text block tagged for the test."""
    return f"<!-- vector:{name} -->\n```text\n{value}\n```\n"


_INTRO = """\
# `sm2-jcs-2026` test vectors

Test vectors for Tongban's Data Integrity cryptosuite `sm2-jcs-2026`
([`cryptosuite.md`](cryptosuite.md)), in the shape of the test-vector appendices of the W3C
*Data Integrity ECDSA Cryptosuites v1.0* (`ecdsa-jcs-2019`, which this suite follows step for
step with SM3 for SHA-256 and SM2 for ECDSA) and *Data Integrity EdDSA Cryptosuites v1.0*.
A machine-readable copy with the same values is
[`sm2-jcs-2026-vectors.json`](sm2-jcs-2026-vectors.json). Both files are written by
`scripts/sm2_jcs_vectors.py` and checked by `tests/credentials/test_sm2_jcs_vectors.py`, which
recomputes every value with `rfc8785` and SM3 directly; do not edit them by hand.

All hex is lowercase. JCS is RFC 8785; "SM3" is GB/T 32905-2016; SM2 signatures are
GB/T 32918.2-2016 with the GM/T 0009-2012 default user ID `1234567812345678`.

## What an implementation must reproduce, and what it must accept

SM2 signatures are randomized (the nonce comes from a DRBG), so **the signatures below are one
valid signature each; any other implementation, and this one run again, produces a different
one**. An interoperable implementation must:

- reproduce **byte for byte**: the key encodings (compressed public key, `publicKeyMultibase`,
  `did:key`, verification method), Z_A, every proof configuration, every canonical (JCS)
  form (UTF-8, no trailing newline), `proofConfigHash`, `documentHash`, `hashData` and the
  SM2 input digest `e`;
- **accept** (verify) the signatures and the secured documents shown here, and **refuse**
  them after any change to a signature byte, the proof configuration or the document;
- produce signatures that this implementation accepts: raw `r || s` (32 + 32 bytes,
  big-endian, **not** DER), `proofValue` = `"z"` + base58btc(`r || s`).

Steps (from [`cryptosuite.md`](cryptosuite.md), after `ecdsa-jcs-2019`, VC Data Integrity
ECDSA Cryptosuites v1.0 section 3.3):

1. proof configuration = the proof options (the proof without `proofValue`) with
   `@context` set to the unsecured document's `@context`;
2. `proofConfigHash` = SM3(JCS(proof configuration));
3. `documentHash` = SM3(JCS(unsecured document));
4. `hashData` = `proofConfigHash || documentHash` (64 bytes);
5. SM2-sign the message `hashData` with the default user ID, i.e. sign
   `e` = SM3(Z_A || `hashData`); the result is `r || s`;
6. `proofValue` = `"z"` + base58btc(`r || s`); the secured document is the unsecured one
   with `proof` (a single object, without `@context`) = the proof options plus `proofValue`.
"""


def _key_section(key: Mapping[str, str]) -> str:
    """The key pair section."""
    lines = "\n".join(
        f"{name:<26}= {key[name]}"
        for name in (
            "privateKeyHex",
            "publicKeyHex",
            "publicKeyUncompressedHex",
            "publicKeyMultibase",
            "did",
            "verificationMethod",
            "userIdHex",
            "za",
        )
    )
    return (
        "## Key pair\n\n"
        f"Source: {key['source']}.\n\n"
        "The public key is the 33-byte SEC 1 compressed point;\n"
        "`publicKeyMultibase` is `z` + base58btc(`0x86 0x24` (varint of multicodec `sm2-pub`,\n"
        "0x1206) || compressed point) ([`crypto.md`](crypto.md)); the `did:key` is\n"
        "`did:key:` + `publicKeyMultibase` and its one verification method is\n"
        "`did:key:<mb>#<mb>`. `za` is Z_A = SM3(ENTL || ID || a || b || x_G || y_G || x_A || y_A)\n"
        "for the default ID. The same key signs both examples (issuer and holder).\n\n"
        + _text_block("key", lines)
    )


def _example_section(number: int, example: Mapping[str, Any]) -> str:
    """One example's section: inputs, every intermediate value, the secured document."""
    name = example["name"]
    what = "credential" if name == "credential" else "presentation"
    purpose = example["proofOptions"]["proofPurpose"]
    hashes = "\n".join(
        f"{key:<16}= {example[key]}"
        for key in (
            "proofConfigHash",
            "documentHash",
            "hashData",
            "signedDigestE",
            "signatureR",
            "signatureS",
            "signatureHex",
            "proofValue",
        )
    )
    parts = [
        f"## {number}. {example['title']} (`{purpose}`)\n",
    ]
    if name == "presentation":
        parts.append(
            "The holder presents the secured credential of the previous example to a verifier\n"
            "that issued the `challenge`; `domain` is the verifier's DID. The unsecured\n"
            "presentation is the presentation without `proof`; the embedded credential keeps\n"
            "its own proof and is hashed as part of the presentation.\n"
        )
    parts += [
        f"### {number}.1 Unsecured {what}\n",
        _json_block(f"{name}:unsecured", example["unsecuredDocument"]),
        f"### {number}.2 Proof options\n",
        _json_block(f"{name}:options", example["proofOptions"]),
        f"### {number}.3 Proof configuration\n\nThe options with the {what}'s `@context`:\n",
        _json_block(f"{name}:configuration", example["proofConfiguration"]),
        f"### {number}.4 Canonical proof configuration (JCS)\n",
        _text_block(f"{name}:canonical-configuration", example["canonicalProofConfiguration"]),
        f"### {number}.5 Canonical unsecured {what} (JCS)\n",
        _text_block(f"{name}:canonical-document", example["canonicalDocument"]),
        f"### {number}.6 Hashes, signature and proof value\n\n"
        f"`proofConfigHash` = SM3 of {number}.4; `documentHash` = SM3 of {number}.5; `hashData`\n"
        "= both, in that "
        "order; `signedDigestE` = SM3(Z_A || `hashData`), the value SM2 signs; `signatureHex`\n"
        "= `r || s` (one valid signature: yours will differ); `proofValue` its multibase.\n",
        _text_block(f"{name}:hashes", hashes),
        f"### {number}.7 Secured {what}\n",
        _json_block(f"{name}:secured", example["securedDocument"]),
    ]
    return "\n".join(parts)


def render(stored: Mapping[str, bytes], *, resign: bool = False) -> tuple[str, str]:
    """The Markdown and the JSON text for these stored signatures (see :func:`vectors`)."""
    data = vectors(stored, resign=resign)
    sections = [_INTRO, _key_section(data["keyPair"])]
    sections += [_example_section(i, e) for i, e in enumerate(data["examples"], start=1)]
    markdown = "\n".join(sections)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return markdown, text


def stored_signatures(path: Path = JSON_FILE) -> dict[str, bytes]:
    """The signatures already in the JSON file, by example name (empty if there is none)."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {e["name"]: bytes.fromhex(e["signatureHex"]) for e in data["examples"]}


def main(argv: list[str] | None = None) -> int:
    """Write or check the two files."""
    parser = argparse.ArgumentParser(description="Write the sm2-jcs-2026 test vectors.")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a diff")
    parser.add_argument("--resign", action="store_true", help="make new signatures")
    args = parser.parse_args(argv)
    markdown, text = render(stored_signatures(), resign=args.resign)
    if args.check:
        same = (
            MARKDOWN.is_file()
            and JSON_FILE.is_file()
            and MARKDOWN.read_text(encoding="utf-8") == markdown
            and JSON_FILE.read_text(encoding="utf-8") == text
        )
        print("up to date" if same else "differs: run python scripts/sm2_jcs_vectors.py")
        return 0 if same else 1
    MARKDOWN.write_text(markdown, encoding="utf-8")
    JSON_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {MARKDOWN.relative_to(REPO)} and {JSON_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

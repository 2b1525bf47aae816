"""The ``sm2-jcs-2026`` test vectors (``docs/sm2-jcs-2026-vectors.{md,json}``) recomputed.

Canonical forms and hashes are recomputed with the lower-level pieces (``rfc8785``, SM3, the
curve constants of ``tests/vectors/sm/vectors.json``, ``base58``) rather than with
``credentials.cryptosuite``, so a bug there cannot hide itself; the suite's own verifier is
then asked to accept the result. Test names follow the sections of W3C VC Data Integrity
ECDSA Cryptosuites v1.0, section 3.3 (``ecdsa-jcs-2019``), which ``sm2-jcs-2026`` follows.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import base58
import pytest
import rfc8785

from credentials.cryptosuite import verify_proof
from ledger.crypto._reference import reference_backend
from ledger.crypto.errors import InvalidSignature
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey
from ledger.crypto.sm2 import verify as sm2_verify
from ledger.crypto.sm3 import sm3

REPO = Path(__file__).resolve().parents[2]
MARKDOWN = REPO / "docs" / "sm2-jcs-2026-vectors.md"
JSON_FILE = REPO / "docs" / "sm2-jcs-2026-vectors.json"
GENERATOR = REPO / "scripts" / "sm2_jcs_vectors.py"
SM_VECTORS = REPO / "tests" / "vectors" / "sm" / "vectors.json"

VECTORS: dict[str, Any] = json.loads(JSON_FILE.read_text(encoding="utf-8"))
KEY: dict[str, str] = VECTORS["keyPair"]
EXAMPLES: dict[str, dict[str, Any]] = {e["name"]: e for e in VECTORS["examples"]}
NAMES = sorted(EXAMPLES)


def _generator() -> ModuleType:
    """``scripts/sm2_jcs_vectors.py`` loaded as a module (``scripts`` is not a package)."""
    spec = importlib.util.spec_from_file_location("sm2_jcs_vectors", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module executes.
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


def _public_key() -> Sm2PublicKey:
    return Sm2PublicKey.from_bytes(bytes.fromhex(KEY["publicKeyHex"]))


def _signature(example: dict[str, Any]) -> bytes:
    return bytes.fromhex(example["signatureHex"])


def _verifies(message: bytes, signature: bytes) -> bool:
    """Whether SM2 verification accepts (checked with both backends, which must agree)."""
    results = []
    for backend in (None, reference_backend()):
        try:
            sm2_verify(_public_key(), message, signature, backend=backend)
        except InvalidSignature:
            results.append(False)
        else:
            results.append(True)
    assert results[0] == results[1]
    return results[0]


def test_key_pair_is_the_gbt_32918_5_annex_a_key() -> None:
    """The private key is the standard's; the public key, multikey, did:key and Z_A follow."""
    sm = json.loads(SM_VECTORS.read_text(encoding="utf-8"))
    annex_a = next(v for v in sm["sm2_sign"] if v["name"].startswith("GB/T 32918.5 Annex A"))
    assert KEY["privateKeyHex"] == annex_a["d"]
    x, y = annex_a["pub_x"], annex_a["pub_y"]
    assert KEY["publicKeyUncompressedHex"] == "04" + x + y
    prefix = "02" if int(y, 16) % 2 == 0 else "03"
    assert KEY["publicKeyHex"] == prefix + x
    derived = Sm2PrivateKey.from_bytes(bytes.fromhex(KEY["privateKeyHex"])).public_key
    assert derived.compressed().hex() == KEY["publicKeyHex"]
    # Multikey: "z" + base58btc(varint(0x1206) || compressed point).
    multibase = "z" + base58.b58encode(b"\x86\x24" + bytes.fromhex(KEY["publicKeyHex"])).decode()
    assert KEY["publicKeyMultibase"] == multibase
    assert KEY["did"] == "did:key:" + multibase
    assert KEY["verificationMethod"] == f"did:key:{multibase}#{multibase}"
    # Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), GB/T 32918.2 section 5.5.
    curve = sm["curves"]["sm2p256v1"]
    user_id = bytes.fromhex(KEY["userIdHex"])
    assert user_id == b"1234567812345678"
    preimage = (len(user_id) * 8).to_bytes(2, "big") + user_id
    for value in (curve["a"], curve["b"], curve["gx"], curve["gy"], x, y):
        preimage += bytes.fromhex(value)
    assert sm3(preimage).hex() == KEY["za"] == annex_a["za"]


@pytest.mark.parametrize("name", NAMES)
def test_section_3_3_5_proof_configuration(name: str) -> None:
    """Proof configuration = the options with the document's ``@context``; its JCS form."""
    example = EXAMPLES[name]
    options = example["proofOptions"]
    assert "proofValue" not in options
    config = {**options, "@context": example["unsecuredDocument"]["@context"]}
    assert example["proofConfiguration"] == config
    canonical = rfc8785.dumps(config)
    assert canonical.decode("utf-8") == example["canonicalProofConfiguration"]
    assert options["type"] == "DataIntegrityProof"
    assert options["cryptosuite"] == "sm2-jcs-2026"
    assert options["verificationMethod"] == KEY["verificationMethod"]


@pytest.mark.parametrize("name", NAMES)
def test_section_3_3_3_transformation(name: str) -> None:
    """The canonical document is the RFC 8785 form of the unsecured document, in UTF-8."""
    example = EXAMPLES[name]
    assert "proof" not in example["unsecuredDocument"]
    canonical = rfc8785.dumps(example["unsecuredDocument"])
    assert canonical.decode("utf-8") == example["canonicalDocument"]


@pytest.mark.parametrize("name", NAMES)
def test_section_3_3_4_hashing(name: str) -> None:
    """``hashData`` = SM3(canonical config) || SM3(canonical document); ``e`` = SM3(Z_A || it)."""
    example = EXAMPLES[name]
    config_hash = sm3(example["canonicalProofConfiguration"].encode("utf-8"))
    document_hash = sm3(example["canonicalDocument"].encode("utf-8"))
    assert config_hash.hex() == example["proofConfigHash"]
    assert document_hash.hex() == example["documentHash"]
    assert example["hashData"] == (config_hash + document_hash).hex()
    e = sm3(bytes.fromhex(KEY["za"]) + config_hash + document_hash)
    assert e.hex() == example["signedDigestE"]


@pytest.mark.parametrize("name", NAMES)
def test_section_3_3_6_proof_serialization(name: str) -> None:
    """The signature is raw ``r || s``; ``proofValue`` its base58btc multibase; proof embedded."""
    example = EXAMPLES[name]
    signature = _signature(example)
    assert len(signature) == 64
    assert example["signatureHex"] == example["signatureR"] + example["signatureS"]
    assert example["proofValue"] == "z" + base58.b58encode(signature).decode("ascii")
    proof = {**example["proofOptions"], "proofValue": example["proofValue"]}
    assert example["securedDocument"] == {**example["unsecuredDocument"], "proof": proof}
    assert isinstance(example["securedDocument"]["proof"], dict)
    assert "@context" not in example["securedDocument"]["proof"]


@pytest.mark.parametrize("name", NAMES)
def test_section_3_3_2_verify_proof_accepts_the_stored_signature(name: str) -> None:
    """The signature verifies over ``hashData`` (OpenSSL and reference), and the suite agrees."""
    example = EXAMPLES[name]
    assert _verifies(bytes.fromhex(example["hashData"]), _signature(example))
    secured = example["securedDocument"]
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    verify_proof(unsecured, secured["proof"], _public_key())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("index", [0, 1, 31, 32, 47, 63])
def test_section_3_3_2_verify_proof_refuses_a_changed_signature_byte(name: str, index: int) -> None:
    """Changing any one byte of ``r || s`` makes verification fail."""
    example = EXAMPLES[name]
    signature = bytearray(_signature(example))
    signature[index] ^= 0x01
    assert not _verifies(bytes.fromhex(example["hashData"]), bytes(signature))


def _change_one_character(text: str, at: int) -> str:
    """``text`` with the character at ``at`` replaced by a different printable one."""
    replacement = "0" if text[at] != "0" else "1"
    return text[:at] + replacement + text[at + 1 :]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("part", ["canonicalProofConfiguration", "canonicalDocument"])
def test_section_3_3_2_verify_proof_refuses_one_changed_character(name: str, part: str) -> None:
    """One character changed in the canonical config or document: the signature fails."""
    example = EXAMPLES[name]
    for at in (len(example[part]) // 2, len(example[part]) - 3):
        changed = {**example, part: _change_one_character(example[part], at)}
        data = sm3(changed["canonicalProofConfiguration"].encode()) + sm3(
            changed["canonicalDocument"].encode()
        )
        assert not _verifies(data, _signature(example))


@pytest.mark.parametrize("name", NAMES)
def test_suite_refuses_a_changed_document_or_proof_option(name: str) -> None:
    """Through ``credentials.cryptosuite``: a changed member of either input fails."""
    example = EXAMPLES[name]
    secured = example["securedDocument"]
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    with pytest.raises(InvalidSignature):
        verify_proof(
            {**unsecured, "@context": [*unsecured["@context"], "x"]},
            secured["proof"],
            _public_key(),
        )
    with pytest.raises(InvalidSignature):
        verify_proof(
            unsecured, {**secured["proof"], "created": "2026-05-01T00:00:01Z"}, _public_key()
        )


def test_presentation_carries_the_secured_credential_with_challenge_and_domain() -> None:
    """The presentation example signs, for ``authentication``, the secured credential."""
    presentation = EXAMPLES["presentation"]
    credential = EXAMPLES["credential"]
    document = presentation["unsecuredDocument"]
    assert document["verifiableCredential"] == [credential["securedDocument"]]
    assert document["holder"] == KEY["did"]
    options = presentation["proofOptions"]
    assert options["proofPurpose"] == "authentication"
    assert options["challenge"]
    assert options["domain"]
    assert credential["proofOptions"]["proofPurpose"] == "assertionMethod"
    assert "challenge" not in credential["proofOptions"]


def _markdown_blocks() -> dict[str, str]:
    """The tagged fenced blocks of the Markdown (``<!-- vector:name -->``)."""
    text = MARKDOWN.read_text(encoding="utf-8")
    found = re.findall(r"<!-- vector:([a-z:-]+) -->\n```[a-z]*\n(.*?)\n```", text, re.S)
    return dict(found)


def _pairs(block: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in block.splitlines() if line.strip())
    return {k.strip(): v.strip() for k, v in pairs}


def test_markdown_and_json_agree() -> None:
    """Every value shown in the Markdown is the JSON's value."""
    blocks = _markdown_blocks()
    assert {k: v for k, v in KEY.items() if k != "source"} == _pairs(blocks["key"])
    for name, example in EXAMPLES.items():
        assert json.loads(blocks[f"{name}:unsecured"]) == example["unsecuredDocument"]
        assert json.loads(blocks[f"{name}:options"]) == example["proofOptions"]
        assert json.loads(blocks[f"{name}:configuration"]) == example["proofConfiguration"]
        assert json.loads(blocks[f"{name}:secured"]) == example["securedDocument"]
        config = blocks[f"{name}:canonical-configuration"]
        assert config == example["canonicalProofConfiguration"]
        assert blocks[f"{name}:canonical-document"] == example["canonicalDocument"]
        shown = _pairs(blocks[f"{name}:hashes"])
        assert shown == {key: example[key] for key in shown}
        assert set(shown) >= {"proofConfigHash", "documentHash", "hashData", "proofValue"}


def test_files_are_exactly_what_the_generator_writes_for_the_stored_signatures() -> None:
    """Regenerating with the stored signatures gives both files byte for byte (no drift)."""
    generator = _generator()
    stored = generator.stored_signatures(JSON_FILE)
    assert stored == {name: _signature(e) for name, e in EXAMPLES.items()}
    markdown, text = generator.render(stored)
    assert MARKDOWN.read_text(encoding="utf-8") == markdown
    assert JSON_FILE.read_text(encoding="utf-8") == text


def test_generator_signs_afresh_when_a_stored_signature_does_not_verify() -> None:
    """A stored signature that fails is replaced by a new one that verifies (SM2 is random)."""
    generator = _generator()
    stored = generator.stored_signatures(JSON_FILE)
    broken = bytes([stored["credential"][0] ^ 1]) + stored["credential"][1:]
    data = generator.vectors({**stored, "credential": broken})
    credential = next(e for e in data["examples"] if e["name"] == "credential")
    assert credential["signatureHex"] not in (broken.hex(), stored["credential"].hex())
    assert credential["hashData"] == EXAMPLES["credential"]["hashData"]
    assert _verifies(
        bytes.fromhex(credential["hashData"]), bytes.fromhex(credential["signatureHex"])
    )


def test_cryptosuite_document_links_the_vectors() -> None:
    """``docs/cryptosuite.md`` points readers at the vectors."""
    text = (REPO / "docs" / "cryptosuite.md").read_text(encoding="utf-8")
    assert "(sm2-jcs-2026-vectors.md)" in text

"""sm2-jcs-2026: the worked example of docs/cryptosuite.md recomputed, and proofs that fail."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from credentials.credential import secured_form
from credentials.cryptosuite import (
    create_proof,
    decode_proof_value,
    encode_proof_value,
    hash_data,
    proof_configuration,
    verify_proof,
)
from credentials.did import holder_did
from credentials.disclosure import disclosure_digest, reveal
from credentials.jcs import canonicalize
from credentials.schema import validate
from credentials.templates import get_template
from ledger.crypto import multikey
from ledger.crypto.errors import InvalidSignature
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey, signing_digest
from ledger.crypto.sm2 import verify as sm2_verify
from ledger.crypto.sm3 import sm3
from ledger.merkle.hasher import SM3_TREE

DOC = Path(__file__).resolve().parents[2] / "docs" / "cryptosuite.md"


def _blocks() -> dict[str, str]:
    text = DOC.read_text("utf-8")
    found = re.findall(r"<!-- worked-example:([a-z-]+) -->\n```[a-z]*\n(.*?)\n```", text, re.S)
    return dict(found)


def _values(block: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in block.splitlines() if line.strip())
    return {k.strip(): v.strip() for k, v in pairs}


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    blocks = _blocks()
    values: dict[str, str] = {}
    for name in ("keys", "disclosures", "hashes"):
        values.update(_values(blocks[name]))
    return {"blocks": blocks, "values": values, "credential": json.loads(blocks["credential"])}


def test_the_keys(example: dict[str, Any]) -> None:
    v = example["values"]
    issuer = Sm2PrivateKey.from_bytes(bytes.fromhex(v["issuerPrivateKey"]))
    assert issuer.public_key.compressed().hex() == v["issuerPublicKey"]
    assert multikey.encode(issuer.public_key) == v["issuerPublicKeyMultibase"]
    holder = Sm2PrivateKey.from_bytes(bytes.fromhex(v["holderPrivateKey"]))
    assert v["holderPrivateKey"] == sm3(b"tongban worked example holder").hex()
    assert holder.public_key.compressed().hex() == v["holderPublicKey"]
    assert holder_did(holder.public_key) == v["holderDid"]
    assert example["credential"]["credentialSubject"]["id"] == v["holderDid"]


def test_the_disclosures(example: dict[str, Any]) -> None:
    v = example["values"]
    credential = example["credential"]
    jcs_lines = example["blocks"]["disclosure-jcs"].splitlines()
    digests = []
    for disclosure, line in zip(credential["disclosures"], jcs_lines, strict=True):
        salt, pointer, _value = disclosure
        name = pointer.rsplit("/", 1)[1]
        expected_salt = base64.urlsafe_b64encode(sm3(b"salt-" + name.encode())[:16])
        assert salt == expected_salt.rstrip(b"=").decode()
        assert canonicalize(disclosure).decode() == line
        assert sm3(line.encode()).hex() == disclosure_digest(disclosure)
        assert disclosure_digest(disclosure) == v[f"disclosureDigest[{name}]"]
        digests.append(v[f"disclosureDigest[{name}]"])
    decoys = [v["decoy[0]"], v["decoy[1]"]]
    assert decoys == [sm3(b"decoy-1").hex(), sm3(b"decoy-2").hex()]
    assert credential["credentialSubject"]["_sd"] == sorted(digests + decoys)
    revealed = {
        **secured_form(credential),
        "credentialSubject": reveal(credential["credentialSubject"], credential["disclosures"]),
    }
    validate(get_template("degree-certificate").schema, revealed)


def test_the_hashes_and_the_signature(example: dict[str, Any]) -> None:
    v = example["values"]
    blocks = example["blocks"]
    credential = example["credential"]
    secured = secured_form(credential)
    proof = credential["proof"][0]
    assert canonicalize(secured).decode() == blocks["secured-jcs"]
    config = proof_configuration(secured, proof)
    assert "proofValue" not in config
    assert config["@context"] == credential["@context"]
    assert canonicalize(config).decode() == blocks["config-jcs"]
    assert sm3(blocks["secured-jcs"].encode()).hex() == v["documentHash"] == v["credentialDigest"]
    assert sm3(blocks["config-jcs"].encode()).hex() == v["proofConfigHash"]
    data = hash_data(secured, proof)
    assert data.hex() == v["hashData"] == v["proofConfigHash"] + v["documentHash"]
    public = Sm2PublicKey.from_bytes(bytes.fromhex(v["issuerPublicKey"]))
    assert public.za().hex() == v["issuerZA"]
    assert signing_digest(public, data).hex() == v["signedDigestE"]
    assert sm3(bytes.fromhex(v["issuerZA"]) + data).hex() == v["signedDigestE"]
    signature = bytes.fromhex(v["signatureR"] + v["signatureS"])
    assert encode_proof_value(signature) == v["proofValue"] == proof["proofValue"]
    assert decode_proof_value(proof["proofValue"]) == signature
    sm2_verify(public, data, signature)
    verify_proof(secured, proof, public)
    leaf = SM3_TREE.hash_leaf(bytes.fromhex(v["credentialDigest"]))
    assert (
        leaf.hex()
        == v["merkleLeafHash"]
        == sm3(b"\x00" + bytes.fromhex(v["credentialDigest"])).hex()
    )


def test_any_change_breaks_the_proof(example: dict[str, Any]) -> None:
    v = example["values"]
    public = Sm2PublicKey.from_bytes(bytes.fromhex(v["issuerPublicKey"]))
    credential = example["credential"]
    secured = secured_form(credential)
    proof = credential["proof"][0]
    for change in (
        {**proof, "created": "2026-05-01T00:00:01Z"},
        {**proof, "proofPurpose": "authentication"},
        {**proof, "verificationMethod": "did:tongban:31337:1#key-2"},
    ):
        with pytest.raises(InvalidSignature):
            verify_proof(secured, change, public)
    with pytest.raises(InvalidSignature):
        verify_proof({**secured, "validFrom": "2026-05-02T00:00:00Z"}, proof, public)
    with pytest.raises(InvalidSignature):
        verify_proof({**secured, "@context": secured["@context"][:1]}, proof, public)


def test_proof_values_are_strict() -> None:
    signature = bytes(range(64))
    assert decode_proof_value(encode_proof_value(signature)) == signature
    for bad in ("", "z", "u" + "A" * 86, encode_proof_value(signature[:63]), "z0OIl", 5):
        with pytest.raises(ValueError):
            decode_proof_value(bad)


def test_round_trip_with_challenge_and_domain() -> None:
    key = Sm2PrivateKey.generate()
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "holder": "did:key:z"}
    signer = LocalSigner("did:key:z#z", key)
    proof = create_proof(
        document,
        signer,
        verification_method="did:key:z#z",
        proof_purpose="authentication",
        created="2026-05-01T00:00:00Z",
        challenge="c1",
        domain="did:tongban:1:2",
    )
    verify_proof(document, proof, key.public_key)
    with pytest.raises(InvalidSignature):
        verify_proof(document, {**proof, "challenge": "c2"}, key.public_key)
    with pytest.raises(InvalidSignature):
        verify_proof(document, {**proof, "domain": "did:tongban:1:3"}, key.public_key)

"""The browser module (the committed bundle, run by node) against the GB/T known answers.

Vectors: tests/vectors/sm/vectors.json (tests/vectors/sm/SOURCE.md for provenance). The module
is fixed to sm2p256v1 and the default user ID, as ledger/crypto/sm2.py is, so the example curve
vector of GB/T 32918.2 Annex A (``sm2_test_fp256``, ID ALICE123@YAHOO.COM) is outside its API
and is checked on the Python side only (tests/ledger/crypto/test_sm2_vectors.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.crypto import sm2
from ledger.crypto._curve import SM2P256V1
from tests.webwallet.jsside import JsError, run_js, run_one

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "sm" / "vectors.json"


def _vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text("utf-8"))
    return data


def _recommended_sign_vector() -> dict[str, Any]:
    (vector,) = [v for v in _vectors()["sm2_sign"] if v["curve"] == "sm2p256v1"]
    assert isinstance(vector, dict)
    assert vector["id_hex"] == sm2.DEFAULT_USER_ID.hex()
    return vector


def test_sm3_gbt_32905_digests() -> None:
    cases = _vectors()["sm3"]
    assert len(cases) >= 2
    results = run_js([["sm3", case["msg_hex"]] for case in cases])
    assert results == [case["digest"] for case in cases]


def test_sm2_gbt_32918_5_annex_a_public_key_za_and_digest() -> None:
    v = _recommended_sign_vector()
    uncompressed = "04" + v["pub_x"] + v["pub_y"]
    compressed = sm2.Sm2PublicKey.from_bytes(bytes.fromhex(uncompressed)).compressed().hex()
    assert run_js(
        [
            ["publicKeyOf", v["d"], False],
            ["publicKeyOf", v["d"]],
            ["za", compressed],
            ["za", uncompressed],
            ["signingDigest", compressed, v["msg_hex"]],
        ]
    ) == [uncompressed, compressed, v["za"], v["za"], v["e"]]


def test_sm2_gbt_32918_5_annex_a_signature_with_the_fixed_k() -> None:
    v = _recommended_sign_vector()
    assert run_one("signFixed", v["d"], v["msg_hex"], v["k"]) == v["r"] + v["s"]


def test_sm2_gbt_32918_5_annex_a_signature_verifies_and_tampering_does_not() -> None:
    v = _recommended_sign_vector()
    pub = "04" + v["pub_x"] + v["pub_y"]
    signature = v["r"] + v["s"]
    flipped = bytearray(bytes.fromhex(signature))
    flipped[63] ^= 1
    other_message = bytes.fromhex(v["msg_hex"]) + b"!"
    assert run_js(
        [
            ["verify", pub, v["msg_hex"], signature],
            ["verify", pub, v["msg_hex"], flipped.hex()],
            ["verify", pub, other_message.hex(), signature],
        ]
    ) == [True, False, False]


def test_openssl_sm2_key1_verify_cases_over_a_supplied_digest() -> None:
    block = _vectors()["sm2_verify_digest"]
    key = sm2.Sm2PrivateKey.from_der(bytes.fromhex(block["pkcs8_der_hex"]))
    pub = key.public_key.compressed().hex()
    calls = []
    for case in block["cases"]:
        raw = sm2.signature_from_der(bytes.fromhex(case["sig_der"])).hex()
        calls.append(["verifyDigest", pub, case["e"], raw])
    assert run_js(calls) == [case["valid"] for case in block["cases"]]


@pytest.mark.parametrize(
    ("scalar", "why"),
    [(0, "zero"), (SM2P256V1.n - 1, "n-1: 1 + d is not invertible"), (SM2P256V1.n, "n")],
)
def test_private_keys_outside_1_to_n_minus_2_are_refused(scalar: int, why: str) -> None:
    result = run_one("publicKeyOf", scalar.to_bytes(32, "big").hex())
    assert result == JsError("RangeError: SM2 private key out of range"), why


def test_malformed_inputs_give_clear_errors_or_false() -> None:
    v = _recommended_sign_vector()
    pub = "04" + v["pub_x"] + v["pub_y"]
    off_curve = "04" + v["pub_x"] + v["pub_x"]
    signature = v["r"] + v["s"]
    n = SM2P256V1.n.to_bytes(32, "big").hex()
    assert run_js(
        [
            ["publicKeyOf", v["d"][:62]],
            ["verify", off_curve, v["msg_hex"], signature],
            ["verify", pub[:-2], v["msg_hex"], signature],
            ["verify", pub, v["msg_hex"], signature[:-2]],
            ["verify", pub, v["msg_hex"], n + v["s"]],
            ["verify", pub, v["msg_hex"], "00" * 32 + v["s"]],
            ["sm3", "abc"],
        ]
    ) == [
        JsError("RangeError: an SM2 private key is 32 bytes"),
        False,
        False,
        False,
        False,
        False,
        JsError("RangeError: hex string expected, got unpadded hex of length 3"),
    ]

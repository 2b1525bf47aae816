"""Every SM2 vector of tests/vectors/sm/vectors.json: Z_A, fixed-k signatures, verify-only cases."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.crypto import _reference, sm2
from ledger.crypto._asn1 import decode_signature
from ledger.crypto._backend import Sm2Backend
from ledger.crypto._curve import SM2_TEST_FP256, SM2P256V1, Curve
from ledger.crypto.errors import InvalidKey
from ledger.crypto.sm3 import sm3

CURVES = {"sm2p256v1": SM2P256V1, "sm2_test_fp256": SM2_TEST_FP256}


def _int(value: str) -> int:
    return int(value, 16)


def test_curve_parameters_match_vectors(sm_vectors: dict[str, Any]) -> None:
    for name, curve in CURVES.items():
        params = sm_vectors["curves"][name]
        assert (curve.p, curve.a, curve.b) == (
            _int(params["p"]),
            _int(params["a"]),
            _int(params["b"]),
        )
        assert (curve.gx, curve.gy, curve.n) == (
            _int(params["gx"]),
            _int(params["gy"]),
            _int(params["n"]),
        )
        assert curve.contains(curve.gx, curve.gy)
        assert _reference.scalar_mult(curve, curve.n, (curve.gx, curve.gy)) is None


def test_public_key_from_private(sign_vector: dict[str, Any]) -> None:
    curve = CURVES[sign_vector["curve"]]
    public = _reference.public_point(curve, _int(sign_vector["d"]))
    assert public == (_int(sign_vector["pub_x"]), _int(sign_vector["pub_y"]))


def test_za(sign_vector: dict[str, Any]) -> None:
    curve = CURVES[sign_vector["curve"]]
    public = (_int(sign_vector["pub_x"]), _int(sign_vector["pub_y"]))
    user_id = bytes.fromhex(sign_vector["id_hex"])
    assert _reference.za(curve, user_id, public).hex() == sign_vector["za"]


def test_fixed_k_signature_on_reference(sign_vector: dict[str, Any]) -> None:
    curve: Curve = CURVES[sign_vector["curve"]]
    public = (_int(sign_vector["pub_x"]), _int(sign_vector["pub_y"]))
    digest = sm3(bytes.fromhex(sign_vector["za"] + sign_vector["msg_hex"]))
    if "e" in sign_vector:
        assert digest.hex() == sign_vector["e"]
    r, s = _int(sign_vector["r"]), _int(sign_vector["s"])
    d, k = _int(sign_vector["d"]), _int(sign_vector["k"])
    assert _reference.sign_with_k(curve, d, digest, k) == (r, s)
    assert _reference.verify(curve, public, digest, r, s)
    assert not _reference.verify(curve, public, sm3(digest), r, s)
    assert not _reference.verify(curve, public, digest, r, (s + 1) % curve.n)


def test_annex_a_through_public_api(sm_vectors: dict[str, Any], backend: Sm2Backend) -> None:
    vector = sm_vectors["sm2_sign"][0]
    assert vector["curve"] == "sm2p256v1"
    assert bytes.fromhex(vector["id_hex"]) == sm2.DEFAULT_USER_ID
    key = sm2.Sm2PrivateKey.from_bytes(bytes.fromhex(vector["d"]), backend=backend)
    public = key.public_key
    assert (public.x, public.y) == (_int(vector["pub_x"]), _int(vector["pub_y"]))
    assert sm2.za(public).hex() == vector["za"]
    message = bytes.fromhex(vector["msg_hex"])
    assert sm2.signing_digest(public, message).hex() == vector["e"]
    signature = bytes.fromhex(vector["r"] + vector["s"])
    sm2.verify(public, message, signature, backend=backend)
    assert not sm2.is_valid(public, message + b"!", signature, backend=backend)
    # A fresh signature by this backend (random k) verifies under the other backends too.
    fresh = sm2.sign(key, message, backend=backend)
    assert fresh != signature
    sm2.verify(public, message, fresh, backend=_reference.reference_backend())
    sm2.verify(public, message, fresh)


def test_sm2_key1_pkcs8_round_trips(sm_vectors: dict[str, Any]) -> None:
    der = bytes.fromhex(sm_vectors["sm2_verify_digest"]["pkcs8_der_hex"])
    key = sm2.Sm2PrivateKey.from_der(der)
    assert key.to_der() == der  # byte-identical to OpenSSL's own PKCS#8


def test_verify_only_case(
    sm_vectors: dict[str, Any], verify_case: dict[str, Any], backend: Sm2Backend
) -> None:
    der = bytes.fromhex(sm_vectors["sm2_verify_digest"]["pkcs8_der_hex"])
    public = sm2.Sm2PrivateKey.from_der(der).public_key
    digest = bytes.fromhex(verify_case["e"])
    signature = sm2.signature_from_der(bytes.fromhex(verify_case["sig_der"]))
    r, s = decode_signature(bytes.fromhex(verify_case["sig_der"]))
    assert signature == r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert sm2.signature_to_der(signature).hex() == verify_case["sig_der"]
    assert backend.verify_digest(public, digest, signature) is verify_case["valid"]
    tampered = bytes([digest[0] ^ 1]) + digest[1:]
    assert backend.verify_digest(public, tampered, signature) is False


def test_reference_rejects_other_id(sm_vectors: dict[str, Any]) -> None:
    vector = sm_vectors["sm2_sign"][0]
    public = (_int(vector["pub_x"]), _int(vector["pub_y"]))
    other = _reference.za(SM2P256V1, b"ALICE123@YAHOO.COM", public)
    assert other.hex() != vector["za"]
    digest = sm3(other + bytes.fromhex(vector["msg_hex"]))
    assert not _reference.verify(SM2P256V1, public, digest, _int(vector["r"]), _int(vector["s"]))


def test_reference_sign_with_k_rejects_bad_nonces() -> None:
    curve = SM2P256V1
    digest = bytes(32)
    # r = (e + x1) mod n is 0 when e = n - x1: construct that e for k = 1 (x1 = Gx).
    bad_e = ((curve.n - curve.gx) % curve.n).to_bytes(32, "big")
    assert _reference.sign_with_k(curve, 5, bad_e, 1) is None
    assert _reference.sign_with_k(curve, 5, digest, curve.n) is None  # k*G is infinity
    with pytest.raises(InvalidKey):
        _reference.public_point(curve, curve.n - 1)

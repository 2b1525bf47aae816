"""Signer interface: domain-tagged payloads, the unsafe raw path, and a stand-in for an HSM."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto import sm2
from ledger.crypto.errors import InvalidSignature
from ledger.crypto.keystore import Keystore, ScryptParams
from ledger.crypto.signer import PAYLOAD_MAGIC, LocalSigner, SignedPayload, Signer, verify_payload
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey

KEY_ID = "did:tongban:31337:1#key-1"
RECEIPT = "tongban/audit-receipt/v1"


@pytest.fixture(scope="module")
def signer() -> LocalSigner:
    return LocalSigner(KEY_ID, sm2.generate_private_key())


def test_encoding_is_exactly_documented() -> None:
    payload = SignedPayload(domain="a/b", message=b"\x00\x01")
    assert payload.encode() == b"tongban/sm2-payload/v1\x00" + b"\x03" + b"a/b" + b"\x00\x01"
    assert PAYLOAD_MAGIC == b"tongban/sm2-payload/v1\x00"


domains = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from("a0"),
    st.text(alphabet="ab0./:_-", max_size=12),
)


@given(domains, st.binary(max_size=20), domains, st.binary(max_size=20))
@settings(max_examples=200)
def test_encoding_is_injective(d1: str, m1: bytes, d2: str, m2: bytes) -> None:
    same = (d1, m1) == (d2, m2)
    assert (SignedPayload(d1, m1).encode() == SignedPayload(d2, m2).encode()) is same


@pytest.mark.parametrize(
    "domain", ["", "Upper", "-leading", "space here", "中文", "a" * 256, "tab\t"]
)
def test_bad_domains_refused(domain: str) -> None:
    with pytest.raises(ValueError):
        SignedPayload(domain, b"m")


def test_sign_and_verify_payload(signer: LocalSigner) -> None:
    payload = SignedPayload(RECEIPT, b"event leaf hash")
    signature = signer.sign(payload)
    assert len(signature) == 64
    verify_payload(signer.public_key, payload, signature)
    verify_payload(signer.public_key.compressed(), payload, signature)
    sm2.verify(signer.public_key, payload.encode(), signature)
    with pytest.raises(InvalidSignature):
        verify_payload(
            signer.public_key, SignedPayload("tongban/checkpoint/v1", b"event leaf hash"), signature
        )
    with pytest.raises(InvalidSignature):
        verify_payload(signer.public_key, SignedPayload(RECEIPT, b"event leaf hasH"), signature)
    with pytest.raises(InvalidSignature):
        sm2.verify(signer.public_key, b"event leaf hash", signature)  # not a raw signature
    assert signer.key_id == KEY_ID
    assert KEY_ID in repr(signer)


def test_unsafe_path(signer: LocalSigner) -> None:
    message = bytes(range(64))  # e.g. proofConfigHash || documentHash
    signature = signer.unsafe_sign_message(message)
    sm2.verify(signer.public_key, message, signature)
    with pytest.raises(ValueError):
        signer.unsafe_sign_message(SignedPayload(RECEIPT, b"x").encode())
    with pytest.raises(TypeError):
        signer.sign(b"raw bytes")  # type: ignore[arg-type]


def test_from_keystore(tmp_path: Path) -> None:
    key = sm2.generate_private_key()
    store = Keystore(tmp_path)
    store.save(KEY_ID, key, "pass", kdf=ScryptParams(n=2**10))
    signer = LocalSigner.from_keystore(store, KEY_ID, "pass")
    payload = SignedPayload(RECEIPT, b"m")
    verify_payload(key.public_key, payload, signer.sign(payload))


class RecordingHsm(Signer):
    """Stand-in for a 密码机: only _sign_bytes is provided, as an HSM driver would."""

    def __init__(self, key: Sm2PrivateKey) -> None:
        self._key = key
        self.seen: list[bytes] = []

    @property
    def key_id(self) -> str:
        return "did:tongban:31337:1#hsm-1"

    @property
    def public_key(self) -> Sm2PublicKey:
        return self._key.public_key

    def _sign_bytes(self, message: bytes) -> bytes:
        self.seen.append(message)
        return sm2.sign(self._key, message)


def test_a_new_signer_needs_no_caller_changes() -> None:
    hsm = RecordingHsm(sm2.generate_private_key())
    payload = SignedPayload(RECEIPT, b"m")
    verify_payload(hsm.public_key, payload, hsm.sign(payload))
    assert hsm.seen == [payload.encode()]

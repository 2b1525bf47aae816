"""SM2 public API: keys and encodings, signing, strict rejection, backend agreement."""

from __future__ import annotations

import ctypes
import pickle
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto import sm2
from ledger.crypto._backend import Sm2Backend
from ledger.crypto._curve import SM2P256V1, _sqrt_mod
from ledger.crypto._openssl import OpenSSLBackend
from ledger.crypto._reference import insecure_reference_signing_backend, reference_backend
from ledger.crypto.errors import BackendUnavailable, CryptoError, InvalidKey, InvalidSignature
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey

N = SM2P256V1.n
P = SM2P256V1.p
G_UNCOMPRESSED = b"\x04" + SM2P256V1.gx.to_bytes(32, "big") + SM2P256V1.gy.to_bytes(32, "big")
MESSAGE = "跨省通办 electronic certificate".encode()


@pytest.fixture(scope="module")
def key() -> Sm2PrivateKey:
    return sm2.generate_private_key()


def _non_residue_x() -> int:
    x = 1
    while _sqrt_mod(SM2P256V1, (x**3 + SM2P256V1.a * x + SM2P256V1.b) % P) is not None:
        x += 1
    return x


# Keys and encodings.


def test_generated_keys_are_distinct_and_valid(key: Sm2PrivateKey) -> None:
    other = Sm2PrivateKey.generate()
    assert other.scalar != key.scalar
    assert 1 <= key.scalar <= N - 2
    assert SM2P256V1.contains(key.public_key.x, key.public_key.y)


def test_public_key_encodings_round_trip(key: Sm2PrivateKey) -> None:
    public = key.public_key
    compressed, uncompressed = public.compressed(), public.uncompressed()
    assert len(compressed) == sm2.COMPRESSED_PUBLIC_KEY_SIZE
    assert compressed[0] == 2 + (public.y & 1)
    assert len(uncompressed) == sm2.UNCOMPRESSED_PUBLIC_KEY_SIZE
    assert public.to_bytes() == compressed
    assert Sm2PublicKey.from_bytes(compressed) == public
    assert Sm2PublicKey.from_bytes(uncompressed) == public
    assert Sm2PublicKey.from_bytes(bytearray(compressed)) == public  # type: ignore[arg-type]
    assert Sm2PublicKey.from_der(public.to_der()) == public
    assert Sm2PublicKey.from_pem(public.to_pem()) == public
    assert Sm2PublicKey.from_pem(public.to_pem().encode()) == public
    assert public.to_pem().startswith("-----BEGIN PUBLIC KEY-----\n")
    assert hash(Sm2PublicKey.from_bytes(compressed)) == hash(public)
    assert compressed.hex() in repr(public)


def test_private_key_encodings_round_trip(key: Sm2PrivateKey) -> None:
    assert len(key.to_bytes()) == sm2.PRIVATE_KEY_SIZE
    for loaded in (
        Sm2PrivateKey.from_bytes(key.to_bytes()),
        Sm2PrivateKey.from_der(key.to_der()),
        Sm2PrivateKey.from_pem(key.to_pem()),
    ):
        assert loaded.scalar == key.scalar
        assert loaded.public_key == key.public_key
    assert key.to_pem().startswith("-----BEGIN PRIVATE KEY-----\n")


def test_private_key_repr_and_pickle_hide_nothing_they_should_not(key: Sm2PrivateKey) -> None:
    text = repr(key)
    assert str(key.scalar) not in text
    assert key.to_bytes().hex() not in text.lower()
    key.sign(b"warm the handle cache")
    clone = pickle.loads(pickle.dumps(key))
    assert clone.scalar == key.scalar
    assert clone.public_key == key.public_key
    assert clone._cache == {}
    public = pickle.loads(pickle.dumps(key.public_key))
    assert public == key.public_key


def test_private_keys_compare_by_identity(key: Sm2PrivateKey) -> None:
    assert Sm2PrivateKey.from_bytes(key.to_bytes()) != key
    assert key == key


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00", id="infinity"),
        pytest.param(G_UNCOMPRESSED[:33], id="x-only-with-04"),
        pytest.param(G_UNCOMPRESSED[:-1], id="64-bytes"),
        pytest.param(G_UNCOMPRESSED + b"\x00", id="66-bytes"),
        pytest.param(b"\x02" + bytes(33), id="34-bytes"),
        pytest.param(b"\x06" + G_UNCOMPRESSED[1:], id="hybrid-06"),
        pytest.param(b"\x07" + G_UNCOMPRESSED[1:], id="hybrid-07"),
        pytest.param(b"\x05" + G_UNCOMPRESSED[1:33], id="bad-prefix"),
        pytest.param(b"\x02" + P.to_bytes(32, "big"), id="x-equals-p"),
        pytest.param(b"\x03" + (2**256 - 1).to_bytes(32, "big"), id="x-max"),
        pytest.param(G_UNCOMPRESSED[:-1] + bytes([G_UNCOMPRESSED[-1] ^ 1]), id="off-curve"),
        pytest.param(b"\x04" + bytes(64), id="origin"),
        pytest.param(
            b"\x04" + SM2P256V1.gx.to_bytes(32, "big") + (SM2P256V1.gy + P).to_bytes(33, "big")[1:],
            id="y-plus-p",
        ),
        pytest.param(b"\x02" + _non_residue_x().to_bytes(32, "big"), id="no-square-root"),
    ],
)
def test_invalid_public_keys_rejected(data: bytes, key: Sm2PrivateKey) -> None:
    with pytest.raises(InvalidKey):
        Sm2PublicKey.from_bytes(data)
    signature = key.sign(MESSAGE)
    with pytest.raises(InvalidSignature):
        sm2.verify(data, MESSAGE, signature)


def test_public_key_constructor_validates() -> None:
    with pytest.raises(InvalidKey):
        Sm2PublicKey(SM2P256V1.gx, SM2P256V1.gy + 1)
    with pytest.raises(InvalidKey):
        Sm2PublicKey(SM2P256V1.gx, SM2P256V1.gy + P)
    assert Sm2PublicKey(SM2P256V1.gx, SM2P256V1.gy).uncompressed() == G_UNCOMPRESSED


@pytest.mark.parametrize(
    "scalar",
    [
        pytest.param(bytes(32), id="zero"),
        pytest.param((N - 1).to_bytes(32, "big"), id="n-1"),
        pytest.param(N.to_bytes(32, "big"), id="n"),
        pytest.param(b"\xff" * 32, id="max"),
        pytest.param(b"\x01" * 31, id="31-bytes"),
        pytest.param(b"\x01" * 33, id="33-bytes"),
    ],
)
def test_invalid_private_scalars_rejected(scalar: bytes, backend: Sm2Backend) -> None:
    with pytest.raises(InvalidKey):
        Sm2PrivateKey.from_bytes(scalar, backend=backend)


def test_largest_valid_scalar(backend: Sm2Backend) -> None:
    key = Sm2PrivateKey.from_bytes((N - 2).to_bytes(32, "big"), backend=backend)
    sm2.verify(key.public_key, MESSAGE, key.sign(MESSAGE, backend=backend))


def test_pkcs8_rejections(key: Sm2PrivateKey) -> None:
    der = key.to_der()
    other = sm2.generate_private_key()
    mismatched = der[: -len(other.public_key.uncompressed())] + other.public_key.uncompressed()
    with pytest.raises(InvalidKey):
        Sm2PrivateKey.from_der(mismatched)
    with pytest.raises(InvalidKey):
        Sm2PrivateKey.from_der(der + b"\x00")
    with pytest.raises(InvalidKey):
        Sm2PrivateKey.from_der(der[:-1])
    secp256r1 = der.replace(
        bytes.fromhex("06082a811ccf5501822d"), bytes.fromhex("06082a8648ce3d030107")
    )
    with pytest.raises(InvalidKey):
        Sm2PrivateKey.from_der(secp256r1)
    with pytest.raises(InvalidKey):
        Sm2PrivateKey.from_pem(key.public_key.to_pem())  # wrong label
    with pytest.raises(InvalidKey):
        Sm2PublicKey.from_pem(key.to_pem())
    with pytest.raises(InvalidKey):
        Sm2PublicKey.from_der(key.to_der())
    with pytest.raises(InvalidKey):
        Sm2PublicKey.from_pem("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n")


def test_pkcs8_without_public_key_and_with_parameters(key: Sm2PrivateKey) -> None:
    from ledger.crypto import _asn1

    minimal = _asn1.encode_pkcs8(key.to_bytes(), None)
    assert Sm2PrivateKey.from_der(minimal).public_key == key.public_key
    inner = (
        _asn1.encode_integer(1)
        + _asn1.encode_tlv(0x04, key.to_bytes())
        + _asn1.encode_tlv(0xA0, _asn1.OID_SM2P256V1)
    )
    algorithm = _asn1.encode_tlv(0x30, _asn1.OID_EC_PUBLIC_KEY + _asn1.OID_SM2P256V1)
    body = (
        _asn1.encode_integer(0) + algorithm + _asn1.encode_tlv(0x04, _asn1.encode_tlv(0x30, inner))
    )
    assert Sm2PrivateKey.from_der(_asn1.encode_tlv(0x30, body)).public_key == key.public_key


# Signatures.


def test_sign_and_verify(key: Sm2PrivateKey, backend: Sm2Backend) -> None:
    signature = sm2.sign(key, MESSAGE, backend=backend)
    assert len(signature) == sm2.SIGNATURE_SIZE
    assert sm2.sign(key, MESSAGE, backend=backend) != signature  # fresh nonce each time
    sm2.verify(key.public_key, MESSAGE, signature, backend=backend)
    key.public_key.verify(MESSAGE, signature, backend=backend)
    assert key.public_key.is_valid(MESSAGE, signature, backend=backend)
    assert sm2.is_valid(key.public_key.compressed(), MESSAGE, signature, backend=backend)
    assert sm2.is_valid(key.public_key.uncompressed(), MESSAGE, bytearray(signature))  # type: ignore[arg-type]
    assert not key.public_key.is_valid(MESSAGE[:-1], signature, backend=backend)


def test_default_backend_is_openssl() -> None:
    backend = sm2.default_backend()
    assert backend.name == "openssl"
    assert isinstance(backend, OpenSSLBackend)
    assert backend.version.startswith("OpenSSL 3")
    assert sm2.default_backend() is backend


def test_reference_backend_does_not_sign_by_default(key: Sm2PrivateKey) -> None:
    verifier = reference_backend()
    assert verifier is sm2.reference_backend()
    assert not verifier.can_sign
    with pytest.raises(CryptoError, match="never signs in production"):
        sm2.sign(key, MESSAGE, backend=verifier)
    with pytest.raises(CryptoError):
        Sm2PrivateKey.generate(backend=verifier)
    assert sm2.is_valid(key.public_key, MESSAGE, key.sign(MESSAGE), backend=verifier)


def _bad_signatures(signature: bytes) -> dict[str, bytes]:
    r, s = signature[:32], signature[32:]
    zero, n, top = bytes(32), N.to_bytes(32, "big"), b"\xff" * 32
    return {
        "r-zero": zero + s,
        "s-zero": r + zero,
        "both-zero": zero + zero,
        "r-equals-n": n + s,
        "s-equals-n": r + n,
        "r-max": top + s,
        "s-max": r + top,
        "s-is-n-minus-r": r + (N - int.from_bytes(r, "big")).to_bytes(32, "big"),
        "flipped-bit": signature[:40] + bytes([signature[40] ^ 0x10]) + signature[41:],
        "swapped": s + r,
        "63-bytes": signature[:-1],
        "65-bytes": signature + b"\x00",
        "empty": b"",
        "der-instead-of-raw": sm2.signature_to_der(signature),
    }


@pytest.mark.parametrize("case", sorted(_bad_signatures(bytes(range(1, 65)))))
def test_bad_signatures_rejected(key: Sm2PrivateKey, backend: Sm2Backend, case: str) -> None:
    signature = key.sign(MESSAGE)
    bad = _bad_signatures(signature)[case]
    with pytest.raises(InvalidSignature):
        sm2.verify(key.public_key, MESSAGE, bad, backend=backend)
    assert not sm2.is_valid(key.public_key, MESSAGE, bad, backend=backend)
    # The backend itself also refuses, even without the API's range and length checks.
    digest = sm2.signing_digest(key.public_key, MESSAGE)
    assert backend.verify_digest(key.public_key, digest, bad) is False


def test_other_failures_raise_invalid_signature(key: Sm2PrivateKey, backend: Sm2Backend) -> None:
    signature = key.sign(MESSAGE)
    other = sm2.generate_private_key()
    with pytest.raises(InvalidSignature):
        sm2.verify(other.public_key, MESSAGE, signature, backend=backend)
    with pytest.raises(InvalidSignature):
        sm2.verify(key.public_key, MESSAGE + b"\x00", signature, backend=backend)
    with pytest.raises(InvalidSignature):
        sm2.verify(key.public_key, MESSAGE, "not bytes", backend=backend)  # type: ignore[arg-type]
    with pytest.raises(InvalidSignature):
        sm2.verify(key.public_key, b"", signature, backend=backend)


def test_signature_der_codec(key: Sm2PrivateKey) -> None:
    signature = key.sign(MESSAGE)
    der = sm2.signature_to_der(signature)
    assert der[0] == 0x30
    assert sm2.signature_from_der(der) == signature
    small = (1).to_bytes(32, "big") + (N - 1).to_bytes(32, "big")
    assert sm2.signature_to_der(small).hex().startswith("3026020101022100")
    assert sm2.signature_from_der(sm2.signature_to_der(small)) == small


@pytest.mark.parametrize(
    "der_hex",
    [
        pytest.param("", id="empty"),
        pytest.param("3006020101020101" + "00", id="trailing-byte"),
        pytest.param("300702020001020101", id="non-minimal-integer"),
        pytest.param("3006020181020101", id="negative-integer"),
        pytest.param("3006020100020101", id="r-zero"),
        pytest.param("30810602010102010101", id="non-minimal-length"),
        pytest.param("3003020101", id="one-integer"),
        pytest.param("310602010102010101"[:-2], id="set-not-sequence"),
        pytest.param("3080020101020101" + "0000", id="indefinite-length"),
        pytest.param("3006020101040101", id="octet-string"),
        pytest.param("30250221" + "00" + "ff" * 32 + "020101", id="r-too-large"),
    ],
)
def test_strict_der_signature_rejections(der_hex: str) -> None:
    with pytest.raises(InvalidSignature):
        sm2.signature_from_der(bytes.fromhex(der_hex))


def test_signature_to_der_rejects_bad_raw() -> None:
    with pytest.raises(InvalidSignature):
        sm2.signature_to_der(bytes(63))
    with pytest.raises(InvalidSignature):
        sm2.signature_to_der(bytes(64))


# Backends agree.


@given(
    scalar=st.integers(min_value=1, max_value=N - 2),
    message=st.binary(max_size=200),
)
@settings(max_examples=50, deadline=None)
def test_backends_agree_on_random_keys_and_messages(scalar: int, message: bytes) -> None:
    openssl = sm2.default_backend()
    reference = insecure_reference_signing_backend()
    key = Sm2PrivateKey.from_bytes(scalar.to_bytes(32, "big"), backend=openssl)
    twin = Sm2PrivateKey.from_bytes(scalar.to_bytes(32, "big"), backend=reference)
    assert key.public_key == twin.public_key
    for signer in (openssl, reference):
        signature = sm2.sign(key, message, backend=signer)
        for verifier in (openssl, reference):
            sm2.verify(key.public_key, message, signature, backend=verifier)
            assert not sm2.is_valid(key.public_key, message + b"x", signature, backend=verifier)


@given(signature=st.binary(min_size=64, max_size=64), message=st.binary(max_size=32))
@settings(max_examples=50, deadline=None)
def test_backends_agree_on_random_signatures(signature: bytes, message: bytes) -> None:
    public = Sm2PublicKey(SM2P256V1.gx, SM2P256V1.gy)
    digest = sm2.signing_digest(public, message)
    assert sm2.default_backend().verify_digest(public, digest, signature) is (
        reference_backend().verify_digest(public, digest, signature)
    )


# The OpenSSL backend.


def test_openssl_handle_is_cached_per_key(key: Sm2PrivateKey) -> None:
    backend = sm2.default_backend()
    key.sign(MESSAGE)
    handle = key._cache[backend]
    key.sign(MESSAGE)
    assert key._cache[backend] is handle
    key.public_key.verify(MESSAGE, key.sign(MESSAGE))
    assert backend in key.public_key._cache


def test_openssl_error_queue_is_left_clean(key: Sm2PrivateKey) -> None:
    backend = sm2.default_backend()
    assert isinstance(backend, OpenSSLBackend)
    library = ctypes.CDLL(backend._lib.path)
    library.ERR_peek_error.restype = ctypes.c_ulong
    signature = key.sign(MESSAGE)
    assert not key.public_key.is_valid(b"tampered", signature)
    assert library.ERR_peek_error() == 0


def test_openssl_derives_the_same_public_key_as_reference(key: Sm2PrivateKey) -> None:
    reference = insecure_reference_signing_backend()
    assert sm2.default_backend().derive_public(key.scalar) == reference.derive_public(key.scalar)
    with pytest.raises(InvalidKey):
        sm2.default_backend().derive_public(N - 1)


def test_threads_share_keys_safely(key: Sm2PrivateKey) -> None:
    failures: list[CryptoError] = []

    def work(worker: int) -> None:
        try:
            for i in range(40):
                message = f"{worker}:{i}".encode()
                key.public_key.verify(message, key.sign(message))
        except CryptoError as exc:  # collected and checked in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_missing_library_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BackendUnavailable, match="libcrypto not found"):
        OpenSSLBackend("/nonexistent/libcrypto.so.3")
    monkeypatch.setenv("TONGBAN_LIBCRYPTO", "/nonexistent/libcrypto.so.3")
    with pytest.raises(BackendUnavailable, match="TONGBAN_LIBCRYPTO"):
        OpenSSLBackend()


def test_library_without_openssl_symbols_is_a_clear_error() -> None:
    with pytest.raises(BackendUnavailable, match=r"OpenSSL 3\.0 or later is required"):
        OpenSSLBackend("libc.so.6")

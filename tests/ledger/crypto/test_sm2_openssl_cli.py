"""Interoperability with the ``openssl`` command line: signatures and keys, both directions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ledger.crypto import sm2
from ledger.crypto._backend import Sm2Backend
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey

DISTID = "distid:1234567812345678"

MESSAGES = {
    "empty": b"",
    "ascii": b"The quick brown fox jumps over the lazy dog",
    "1KiB": bytes((i * 7 + 3) % 256 for i in range(1024)),
    "utf8-chinese": "跨省通办：浙江省颁发的学位证书，在四川省核验。".encode(),  # noqa: RUF001
}


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(args), capture_output=True, check=False)


def _openssl_verify(openssl: str, public_pem: Path, message: Path, signature: Path) -> bool:
    result = _run(
        openssl, "pkeyutl", "-verify", "-rawin", "-digest", "sm3",
        "-pubin", "-inkey", str(public_pem),
        "-in", str(message), "-sigfile", str(signature), "-pkeyopt", DISTID,
    )  # fmt: skip
    return result.returncode == 0 and b"Signature Verified Successfully" in result.stdout


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_our_signatures_verify_in_openssl(openssl_cli: str, tmp_path: Path, name: str) -> None:
    key = sm2.generate_private_key()
    message = MESSAGES[name]
    (tmp_path / "pub.pem").write_text(key.public_key.to_pem())
    (tmp_path / "msg.bin").write_bytes(message)
    (tmp_path / "sig.der").write_bytes(sm2.signature_to_der(key.sign(message)))
    assert _openssl_verify(
        openssl_cli, tmp_path / "pub.pem", tmp_path / "msg.bin", tmp_path / "sig.der"
    )
    # And OpenSSL does say no when it should: same signature, one byte more of message.
    (tmp_path / "msg.bin").write_bytes(message + b"!")
    assert not _openssl_verify(
        openssl_cli, tmp_path / "pub.pem", tmp_path / "msg.bin", tmp_path / "sig.der"
    )


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_openssl_signatures_verify_here(
    openssl_cli: str, tmp_path: Path, name: str, backend: Sm2Backend
) -> None:
    message = MESSAGES[name]
    key_pem, pub_pem = tmp_path / "key.pem", tmp_path / "pub.pem"
    (tmp_path / "msg.bin").write_bytes(message)
    assert _run(openssl_cli, "genpkey", "-algorithm", "SM2", "-out", str(key_pem)).returncode == 0
    assert (
        _run(openssl_cli, "pkey", "-in", str(key_pem), "-pubout", "-out", str(pub_pem)).returncode
        == 0
    )
    signed = _run(
        openssl_cli, "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", str(key_pem),
        "-in", str(tmp_path / "msg.bin"), "-out", str(tmp_path / "sig.der"), "-pkeyopt", DISTID,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    public = Sm2PublicKey.from_pem(pub_pem.read_text())
    signature = sm2.signature_from_der((tmp_path / "sig.der").read_bytes())
    sm2.verify(public, message, signature, backend=backend)
    assert not sm2.is_valid(public, message + b"!", signature, backend=backend)


def test_our_keys_load_in_openssl(openssl_cli: str, tmp_path: Path) -> None:
    key = sm2.generate_private_key()
    (tmp_path / "key.pem").write_text(key.to_pem())
    (tmp_path / "key.der").write_bytes(key.to_der())
    (tmp_path / "pub.der").write_bytes(key.public_key.to_der())
    text = _run(openssl_cli, "pkey", "-in", str(tmp_path / "key.pem"), "-noout", "-text")
    assert text.returncode == 0, text.stderr
    assert b"ASN1 OID: SM2" in text.stdout
    pub = _run(openssl_cli, "pkey", "-in", str(tmp_path / "key.pem"), "-pubout")
    assert pub.stdout.decode() == key.public_key.to_pem()
    from_der = _run(
        openssl_cli, "pkey", "-inform", "DER", "-in", str(tmp_path / "key.der"), "-pubout"
    )
    assert from_der.stdout.decode() == key.public_key.to_pem()
    pub_der = _run(
        openssl_cli, "pkey", "-pubin", "-inform", "DER", "-in", str(tmp_path / "pub.der"), "-pubout"
    )
    assert pub_der.stdout.decode() == key.public_key.to_pem()
    # The exported key signs in OpenSSL, and the signature verifies here.
    message = MESSAGES["utf8-chinese"]
    (tmp_path / "msg.bin").write_bytes(message)
    signed = _run(
        openssl_cli, "pkeyutl", "-sign", "-rawin", "-digest", "sm3",
        "-inkey", str(tmp_path / "key.pem"), "-in", str(tmp_path / "msg.bin"),
        "-out", str(tmp_path / "sig.der"), "-pkeyopt", DISTID,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    key.public_key.verify(message, sm2.signature_from_der((tmp_path / "sig.der").read_bytes()))


def test_openssl_keys_load_here(openssl_cli: str, tmp_path: Path) -> None:
    key_pem = tmp_path / "key.pem"
    assert _run(openssl_cli, "genpkey", "-algorithm", "SM2", "-out", str(key_pem)).returncode == 0
    key = Sm2PrivateKey.from_pem(key_pem.read_text())
    pkcs8 = _run(openssl_cli, "pkcs8", "-topk8", "-nocrypt", "-in", str(key_pem), "-outform", "DER")
    assert key.to_der() == pkcs8.stdout  # byte-identical PKCS#8
    assert key.to_pem() == key_pem.read_text()
    pub_der = _run(openssl_cli, "pkey", "-in", str(key_pem), "-pubout", "-outform", "DER")
    assert Sm2PublicKey.from_der(pub_der.stdout) == key.public_key
    assert key.public_key.to_der() == pub_der.stdout
    # OpenSSL prints the scalar; it must be ours.
    text = _run(openssl_cli, "pkey", "-in", str(key_pem), "-noout", "-text").stdout.decode()
    priv_hex = "".join(text.split("priv:")[1].split("pub:")[0].split()).replace(":", "")
    assert int(priv_hex, 16) == key.scalar

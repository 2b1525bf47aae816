"""The browser module and ledger/crypto (OpenSSL backend) agree both ways.

Python signs and the bundle (under node) verifies; the bundle generates keys and signs and
Python verifies; both derive the same public keys and SM3 digests. Keys and messages are fresh
random values on each run (lengths 0 to 300 bytes, including block boundaries).
"""

from __future__ import annotations

import secrets

from ledger.crypto import sm2
from ledger.crypto.sm3 import sm3
from tests.webwallet.jsside import run_js

ROUNDS = 60
LENGTHS = [0, 1, 55, 56, 63, 64, 65, 119, 120, 300]


def _messages() -> list[bytes]:
    return [secrets.token_bytes(LENGTHS[i % len(LENGTHS)]) for i in range(ROUNDS)]


def test_sm3_matches_python_on_random_messages() -> None:
    messages = [secrets.token_bytes(n) for n in range(0, 300, 7)] + _messages()
    assert run_js([["sm3", m.hex()] for m in messages]) == [sm3(m).hex() for m in messages]


def test_python_signatures_verify_in_the_browser_module() -> None:
    keys = [sm2.generate_private_key() for _ in range(ROUNDS)]
    messages = _messages()
    signatures = [key.sign(m) for key, m in zip(keys, messages, strict=True)]
    calls = []
    for key, message, signature in zip(keys, messages, signatures, strict=True):
        calls.append(["verify", key.public_key.compressed().hex(), message.hex(), signature.hex()])
        calls.append(
            ["verify", key.public_key.uncompressed().hex(), message.hex(), signature.hex()]
        )
        # The same signature under another message and under another key must fail.
        calls.append(
            ["verify", key.public_key.compressed().hex(), (message + b"x").hex(), signature.hex()]
        )
    other = sm2.generate_private_key().public_key.compressed().hex()
    calls.append(["verify", other, messages[0].hex(), signatures[0].hex()])
    assert run_js(calls) == [True, True, False] * ROUNDS + [False]


def test_browser_module_signatures_verify_in_python() -> None:
    messages = _messages()
    results = run_js([["keySign", m.hex()] for m in messages])
    assert len({private for private, _, _ in results}) == ROUNDS, "every key is fresh"
    for message, (private_hex, public_hex, signature_hex) in zip(messages, results, strict=True):
        private = sm2.Sm2PrivateKey.from_bytes(bytes.fromhex(private_hex))
        assert private.public_key.compressed().hex() == public_hex
        signature = bytes.fromhex(signature_hex)
        assert len(signature) == sm2.SIGNATURE_SIZE
        sm2.verify(bytes.fromhex(public_hex), message, signature)
        assert not sm2.is_valid(bytes.fromhex(public_hex), message + b"x", signature)


def test_signing_twice_gives_different_signatures_that_both_verify() -> None:
    key = sm2.generate_private_key()
    message = b"same message"
    first, second = run_js([["sign", key.to_bytes().hex(), message.hex()]] * 2)
    assert first != second, "k comes from the CSPRNG, not from the message"
    for signature in (first, second):
        key.public_key.verify(message, bytes.fromhex(signature))


def test_public_keys_of_python_keys_match() -> None:
    keys = [sm2.generate_private_key() for _ in range(ROUNDS)]
    calls: list[list[object]] = [["publicKeyOf", k.to_bytes().hex()] for k in keys]
    calls += [["publicKeyOf", k.to_bytes().hex(), False] for k in keys]
    expected = [k.public_key.compressed().hex() for k in keys]
    expected += [k.public_key.uncompressed().hex() for k in keys]
    assert run_js(calls) == expected


def test_za_matches_python() -> None:
    keys = [sm2.generate_private_key().public_key for _ in range(10)]
    assert run_js([["za", k.compressed().hex()] for k in keys]) == [sm2.za(k).hex() for k in keys]

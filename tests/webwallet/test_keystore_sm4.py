"""The browser's SM4 (GB/T 32907-2016) and SM4-GCM against the standards and ledger/crypto/sm4.py.

The block cipher must give the standard's example (Annex A: one block, and the block encrypted
1,000,000 times); SM4-GCM the RFC 8998 Appendix A.1 vector; and on random inputs a blob sealed
in JS opens in Python (OpenSSL through ``cryptography``) and the other way round, while any
flipped bit or other associated data is refused on the JS side.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ledger.crypto import sm4
from ledger.crypto.sm3 import hmac_sm3
from tests.webwallet.jsside import JsError
from tests.webwallet.walletside import run_wallet, wallet_one

# GB/T 32907-2016 Annex A (also GM/T 0002-2012): key = plaintext.
GBT_KEY = "0123456789abcdeffedcba9876543210"
GBT_CIPHERTEXT = "681edf34d206965e86b3e94f536e4246"
GBT_MILLION = "595298c7c6fd271f0402f804c33d3f66"

# RFC 8998 Appendix A.1 (SM4-GCM), as tests/ledger/crypto/test_sm4.py.
RFC8998 = {
    "key": GBT_KEY,
    "nonce": "00001234567800000000abcd",
    "aad": "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    "plaintext": "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
    "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa",
    "ciphertext": "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
    "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d",
    "tag": "83de3541e4c2b58177e065a9bf7b62ec",
}


def test_sm4_block_gives_the_gbt_32907_annex_a_examples() -> None:
    assert wallet_one("sm4Block", GBT_KEY, GBT_KEY) == GBT_CIPHERTEXT
    assert wallet_one("sm4Iterate", GBT_KEY, GBT_KEY, 1_000_000) == GBT_MILLION


def test_sm4_block_agrees_with_openssl_on_random_keys_and_blocks() -> None:
    cases = [(secrets.token_bytes(16), secrets.token_bytes(16)) for _ in range(64)]
    results = run_wallet([["sm4Block", k.hex(), b.hex()] for k, b in cases])
    for (key, block), result in zip(cases, results, strict=True):
        encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
        assert result == (encryptor.update(block) + encryptor.finalize()).hex()


def test_sm4_gcm_gives_the_rfc_8998_vector() -> None:
    v = RFC8998
    sealed = wallet_one("sm4SealWithNonce", v["key"], v["nonce"], v["plaintext"], v["aad"])
    assert sealed == v["nonce"] + v["ciphertext"] + v["tag"]
    assert wallet_one("sm4Open", v["key"], sealed, v["aad"]) == v["plaintext"]
    refused = wallet_one("sm4Open", v["key"], sealed, v["aad"][:-2])
    assert refused == JsError("DecryptionFailed: SM4-GCM authentication failed")


def test_sm4_gcm_blobs_open_across_js_and_python_for_every_length() -> None:
    cases = [
        (sm4.generate_key(), secrets.token_bytes(length), secrets.token_bytes(length % 37))
        for length in (0, 1, 15, 16, 17, 31, 32, 33, 48, 100, 1000)
    ]
    python_sealed = [sm4.seal(k, p, a) for k, p, a in cases]
    calls: list[list[object]] = [["sm4Seal", k.hex(), p.hex(), a.hex()] for k, p, a in cases]
    calls += [
        ["sm4Open", k.hex(), blob.hex(), a.hex()]
        for (k, _, a), blob in zip(cases, python_sealed, strict=True)
    ]
    results = run_wallet(calls)
    js_sealed, js_opened = results[: len(cases)], results[len(cases) :]
    for (key, plaintext, aad), blob, opened in zip(cases, js_sealed, js_opened, strict=True):
        assert len(bytes.fromhex(blob)) == len(plaintext) + sm4.OVERHEAD
        assert sm4.open(key, bytes.fromhex(blob), aad) == plaintext
        assert opened == plaintext.hex()


def test_sm4_gcm_in_js_refuses_every_flipped_byte_and_other_associated_data() -> None:
    key = sm4.generate_key()
    blob = sm4.seal(key, b"wrapped holder key", b"header")
    calls: list[list[object]] = []
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01 if index % 2 else 0x80
        calls.append(["sm4Open", key.hex(), bytes(tampered).hex(), b"header".hex()])
    calls.append(["sm4Open", key.hex(), blob.hex(), b"headex".hex()])
    calls.append(["sm4Open", key.hex(), blob[: sm4.OVERHEAD - 1].hex(), b"header".hex()])
    results = run_wallet(calls)
    assert all(isinstance(r, JsError) and r.message.startswith("DecryptionFailed") for r in results)


def test_sm4_gcm_nonces_are_fresh() -> None:
    key = sm4.generate_key().hex()
    results = run_wallet([["sm4Seal", key, "00", ""] for _ in range(40)])
    assert len({r[: 2 * sm4.NONCE_SIZE] for r in results}) == 40


def test_hmac_sm3_matches_ledger_crypto() -> None:
    cases = [
        (secrets.token_bytes(n), secrets.token_bytes(m))
        for n, m in ((32, 25), (64, 0), (65, 100), (1, 64))
    ]
    results = run_wallet([["hmacSm3", k.hex(), m.hex()] for k, m in cases])
    assert results == [hmac_sm3(k, m).hex() for k, m in cases]

"""Key files and wallets cross between the browser wallet (wallet.js) and the CLI wallet.

A key Python wraps (``ledger.crypto.keystore``) unwraps in JS and one JS wraps unwraps in
Python, at the CLI wallet's production scrypt parameters and at cheap test ones; a wallet
directory JS exports opens with ``Wallet.open`` (the real CLI wallet code), credentials and
all, and one the CLI wallet made imports in JS. A wrong passphrase, an edited header or a
swapped public key is refused on both sides with one message.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from api.client.errors import WalletError
from api.client.vault import KEY_ID
from api.client.wallet import Wallet
from ledger.crypto.errors import KeystoreError
from ledger.crypto.keystore import DEFAULT_SCRYPT, Keystore, ScryptParams, decrypt_key, encrypt_key
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.crypto.sm3 import sm3_hex
from tests.webwallet.jsside import JsError
from tests.webwallet.walletside import run_wallet, wallet_one

FAST = ScryptParams(n=2**10)
CHEAP = {"n": FAST.n, "r": FAST.r, "p": FAST.p}
PASSPHRASE = "通办 wallet passphrase"
UNLOCK_FAILED = "KeystoreError: cannot unlock the key: wrong passphrase or damaged keystore file"
ENTRY = {"credential": {"type": ["VerifiableCredential"], "name": "张三"}, "receivedAt": "x"}


def _write(directory: Path, files: dict[str, str]) -> None:
    for relative, encoded in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(encoded))


def _read(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): base64.b64encode(p.read_bytes()).decode("ascii")
        for p in directory.rglob("*")
        if p.is_file()
    }


def test_a_python_wrapped_key_unwraps_in_js_at_production_and_test_parameters() -> None:
    key = Sm2PrivateKey.generate()
    production = encrypt_key(key, KEY_ID, PASSPHRASE).decode("ascii")
    cheap = encrypt_key(key, "did:tongban:1:330000#key-1", PASSPHRASE, kdf=FAST).decode("ascii")
    results = run_wallet([["unwrapKey", production, PASSPHRASE], ["unwrapKey", cheap, PASSPHRASE]])
    assert results[0] == {"keyId": KEY_ID, "privateKey": key.to_bytes().hex()}
    assert results[1] == {"keyId": "did:tongban:1:330000#key-1", "privateKey": key.to_bytes().hex()}


def test_a_js_wrapped_key_unwraps_in_python_in_the_cli_format() -> None:
    key = Sm2PrivateKey.generate()
    production, cheap = run_wallet(
        [
            ["wrapKey", key.to_bytes().hex(), PASSPHRASE, {}],
            ["wrapKey", key.to_bytes().hex(), PASSPHRASE, {"params": CHEAP}],
        ]
    )
    for text, params in ((production, DEFAULT_SCRYPT), (cheap, FAST)):
        entry = decrypt_key(text.encode("ascii"), PASSPHRASE)
        assert entry.key_id == KEY_ID
        assert entry.private_key.to_bytes() == key.to_bytes()
        document = json.loads(text)
        assert document["kdf"] | {"salt": ""} == {
            "n": params.n,
            "r": params.r,
            "p": params.p,
            "name": "scrypt",
            "salt": "",
        }
        # Byte for byte the layout keystore.py writes: sorted keys, ", " and ": ", one line.
        assert text == json.dumps(document, sort_keys=True, ensure_ascii=True) + "\n"
    assert json.loads(production)["kdf"]["salt"] != json.loads(cheap)["kdf"]["salt"]


def test_a_wrong_passphrase_is_refused_on_both_sides() -> None:
    key = Sm2PrivateKey.generate()
    python_file = encrypt_key(key, KEY_ID, PASSPHRASE, kdf=FAST).decode("ascii")
    js_file, js_wrong, js_empty = run_wallet(
        [
            ["wrapKey", key.to_bytes().hex(), PASSPHRASE, {"params": CHEAP}],
            ["unwrapKey", python_file, PASSPHRASE + "!"],
            ["unwrapKey", python_file, ""],
        ]
    )
    assert js_wrong == JsError(UNLOCK_FAILED)
    assert js_empty == JsError("RangeError: the passphrase must not be empty")
    with pytest.raises(KeystoreError):
        decrypt_key(js_file.encode("ascii"), PASSPHRASE + "!")


def test_the_passphrase_is_nfc_normalised_in_js_as_in_python() -> None:
    key = Sm2PrivateKey.generate()
    composed = "caf\u00e9 密码"
    python_file = encrypt_key(key, KEY_ID, composed, kdf=FAST).decode("ascii")
    decomposed = "cafe\u0301 密码"
    result, nul = run_wallet(
        [["unwrapKey", python_file, decomposed], ["wrapKey", key.to_bytes().hex(), "a\u0000b", {}]]
    )
    assert result["privateKey"] == key.to_bytes().hex()
    assert nul == JsError("RangeError: the passphrase must not contain NUL characters")


def _edited(text: str, change: Any) -> str:
    document = json.loads(text)
    change(document)
    return json.dumps(document, sort_keys=True) + "\n"


def test_an_edited_header_or_swapped_public_key_does_not_unlock_in_js() -> None:
    key = Sm2PrivateKey.generate()
    text = encrypt_key(key, KEY_ID, PASSPHRASE, kdf=FAST).decode("ascii")
    other = Sm2PrivateKey.generate().public_key.compressed().hex()
    edits = [
        lambda d: d.update(key_id="holder2"),
        lambda d: d.update(public_key=other),
        lambda d: d["kdf"].update(n=2**11),
        lambda d: d["kdf"].update(salt="00" * 16),
        lambda d: d["cipher"].update(nonce="00" * 12),
        lambda d: d["cipher"].update(ciphertext=d["cipher"]["ciphertext"].upper()),
        lambda d: d.update(version=2),
        lambda d: d.update(extra=1),
        lambda d: d["kdf"].update(n=2**21),
    ]
    results = run_wallet([["unwrapKey", _edited(text, e), PASSPHRASE] for e in edits])
    assert results == [JsError(UNLOCK_FAILED)] * len(edits)
    for edit in edits[:5]:
        with pytest.raises(KeystoreError):
            decrypt_key(_edited(text, edit).encode("ascii"), PASSPHRASE)


def test_a_wallet_made_and_exported_in_js_opens_with_the_cli_wallet(tmp_path: Path) -> None:
    digest = secrets.token_hex(32)
    made = wallet_one("newWallet", PASSPHRASE, CHEAP, [[digest, ENTRY]])
    _write(tmp_path, made["files"])
    assert sorted(made["files"]) == [
        f"credentials/{digest}.sealed",
        f"keys/{sm3_hex(KEY_ID.encode())}.json",
        "wallet.json",
    ]
    wallet = Wallet.open(tmp_path, PASSPHRASE)
    assert wallet.did == made["did"]
    assert (
        Keystore(tmp_path / "keys").load(KEY_ID, PASSPHRASE).to_bytes().hex() == made["privateKey"]
    )
    stored = wallet.get(digest)
    assert stored.credential == ENTRY["credential"]
    assert stored.received_at == "x"
    with pytest.raises(WalletError, match="wrong passphrase"):
        Wallet.open(tmp_path, "another passphrase")


def test_a_cli_wallet_imports_in_js_with_its_sealed_credentials(tmp_path: Path) -> None:
    wallet = Wallet.create(tmp_path, PASSPHRASE, kdf=FAST)
    digest = secrets.token_hex(32)
    body = json.dumps(ENTRY, ensure_ascii=False, separators=(",", ":")).encode()
    (tmp_path / "credentials" / f"{digest}.sealed").write_bytes(wallet.keys.seal(digest, body))
    files = _read(tmp_path)
    moved = dict(files)
    moved[f"credentials/{'0' * 64}.sealed"] = moved.pop(f"credentials/{digest}.sealed")
    imported, wrong, renamed = run_wallet(
        [
            ["importWallet", files, PASSPHRASE],
            ["importWallet", files, "not it"],
            ["importWallet", moved, PASSPHRASE],
        ]
    )
    assert imported["did"] == wallet.did
    assert imported["credentials"] == [{"digest": digest, "entry": ENTRY}]
    key = Keystore(tmp_path / "keys").load(KEY_ID, PASSPHRASE)
    assert imported["privateKey"] == key.to_bytes().hex()
    assert wrong == JsError(UNLOCK_FAILED)
    assert renamed == JsError(f"RangeError: damaged wallet entry {'0' * 64}.sealed")


def test_a_wallet_json_naming_another_holder_is_refused_in_js(tmp_path: Path) -> None:
    Wallet.create(tmp_path, PASSPHRASE, kdf=FAST)
    other = json.dumps({"format": "tongban-wallet/v1", "holder": "did:key:zOther"}) + "\n"
    (tmp_path / "wallet.json").write_text(other)
    refused = wallet_one("importWallet", _read(tmp_path), PASSPHRASE)
    assert refused == JsError(
        "RangeError: damaged wallet: wallet.json names another holder than its key"
    )


def test_the_storage_key_is_the_cli_wallets() -> None:
    from ledger.crypto.sm3 import hmac_sm3

    key = Sm2PrivateKey.generate()
    expected = hmac_sm3(key.to_bytes(), b"tongban-wallet/v1/storage")[:16].hex()
    assert wallet_one("storageKey", key.to_bytes().hex()) == expected


def test_a_key_id_beyond_ascii_is_escaped_as_python_escapes_it() -> None:
    key = Sm2PrivateKey.generate()
    key_id = '证照 \U0001f600 \u007f\t"\\ key'
    js_file = wallet_one(
        "wrapKey", key.to_bytes().hex(), PASSPHRASE, {"keyId": key_id, "params": CHEAP}
    )
    entry = decrypt_key(js_file.encode("ascii"), PASSPHRASE)
    assert entry.key_id == key_id
    assert js_file == json.dumps(json.loads(js_file), sort_keys=True, ensure_ascii=True) + "\n"
    python_file = encrypt_key(key, key_id, PASSPHRASE, kdf=FAST).decode("ascii")
    assert wallet_one("unwrapKey", python_file, PASSPHRASE)["keyId"] == key_id

"""Signed consortium directories for the tests: two provinces, known keys, a fixed clock."""

from __future__ import annotations

from typing import Any

from api.province.directory import DIRECTORY_TYPE, sign_directory
from ledger.audit.events import parse_time
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey

CHAIN_ID = 1337
NOW_MS = parse_time("2026-12-07T12:00:00.000Z")
ZJ_KEY = Sm2PrivateKey.from_bytes((11).to_bytes(32, "big"))
GD_KEY = Sm2PrivateKey.from_bytes((12).to_bytes(32, "big"))
OUTSIDER_KEY = Sm2PrivateKey.from_bytes((13).to_bytes(32, "big"))


def unsigned(**changes: Any) -> dict[str, Any]:
    """A directory of Zhejiang (1) and Guangdong (2), valid through December 2026."""
    document: dict[str, Any] = {
        "type": DIRECTORY_TYPE,
        "chainId": CHAIN_ID,
        "version": 3,
        "issuedAt": "2026-12-01T00:00:00.000Z",
        "validFrom": "2026-12-01T00:00:00.000Z",
        "validUntil": "2027-01-01T00:00:00.000Z",
        "threshold": 2,
        "provinces": [
            {
                "issuerId": 1,
                "divisionCode": "330000",
                "name": "浙江省",
                "apiBaseUrl": "https://zj.tongban.example",
                "walletOrigin": "https://wallet.zj.tongban.example",
            },
            {
                "issuerId": 2,
                "divisionCode": "440000",
                "name": "广东省",
                "apiBaseUrl": "https://gd.tongban.example/api",
                "walletOrigin": None,
            },
        ],
    }
    document.update(changes)
    return document


def signer(issuer_id: int, key: Sm2PrivateKey, key_id: str = "key-1") -> LocalSigner:
    """Issuer ``issuer_id``'s signer under ``did:tongban:<chain>:<issuer>#<key_id>``."""
    return LocalSigner(f"did:tongban:{CHAIN_ID}:{issuer_id}#{key_id}", key)


def signed(**changes: Any) -> dict[str, Any]:
    """The directory signed by both provinces."""
    document = sign_directory(unsigned(**changes), 1, signer(1, ZJ_KEY))
    return sign_directory(document, 2, signer(2, GD_KEY))


REGISTERED = {
    f"did:tongban:{CHAIN_ID}:1#key-1": ZJ_KEY.public_key,
    f"did:tongban:{CHAIN_ID}:2#key-1": GD_KEY.public_key,
}


def registered(issuer_id: int, key_id: str, at_ms: int) -> Sm2PublicKey | None:
    """The keys the registry would hold (the KeyLookup of the tests)."""
    return REGISTERED.get(key_id)


def pinned_hex() -> dict[str, str]:
    """The same keys as a wallet pins them (issuer id -> compressed hex)."""
    return {"1": ZJ_KEY.public_key.compressed().hex(), "2": GD_KEY.public_key.compressed().hex()}

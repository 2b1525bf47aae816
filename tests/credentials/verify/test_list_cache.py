"""The per-process cache of verified status lists (``status_list_check.ListCache``, #14).

A list that verified once is reused while its bytes and the registry key record its
proof was checked with are unchanged; a compromised or replaced key misses the cache.
A hit gives exactly what section 3.2 (``list_status``) gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, cast

import pytest

import credentials.status_list as status_list
from credentials import cryptosuite
from credentials.did import issuer_did
from credentials.status_list import bitstring, list_status, sign_list_credential
from credentials.status_list import unsigned_list_credential as unsigned_list
from credentials.verify import status_list_check
from credentials.verify.chain_state import ChainState
from credentials.verify.status_list_check import (
    ListCache,
    Retrieved,
    check_entries,
    entry_status,
    prefetch,
    tongban_list_verifier,
    verify_list,
)
from ledger.chain.contracts.registry import KeyRecord
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.helpers.credentials import ZJ_KEY

CHAIN = 31337
ISSUER = 7
DID = issuer_did(CHAIN, ISSUER)
URL = "https://zj.example.gov.cn/status-lists/1/revocation"


@dataclass
class _Keys:
    record: KeyRecord | None

    def key(self, issuer_id: int, key_id: str) -> KeyRecord | None:
        return self.record if (issuer_id, key_id) == (ISSUER, "key-1") else None


def _record(key: Sm2PrivateKey = ZJ_KEY) -> KeyRecord:
    return KeyRecord(ISSUER, "key-1", key.public_key.to_bytes(), 0, None, None)


def _list(set_at: list[int], key: Sm2PrivateKey = ZJ_KEY) -> bytes:
    unsigned = unsigned_list(
        list_url=URL,
        issuer_did=DID,
        purpose="revocation",
        bits=bitstring(set_at),
        valid_from="2026-01-01T00:00:00Z",
        block_number=3,
    )
    signed = sign_list_credential(
        unsigned, LocalSigner(f"{DID}#key-1", key), created="2026-01-01T00:00:00Z"
    )
    return json.dumps(signed).encode()


def _entry(index: int, purpose: str = "revocation", url: str = URL) -> dict[str, Any]:
    return {
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


@pytest.fixture
def proofs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A fresh process cache, and a count of the SM2 proof checks lists get."""
    monkeypatch.setattr(status_list_check, "LIST_CACHE", ListCache())
    calls: list[int] = []
    real = cryptosuite.verify_proof

    def counted(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        real(*args, **kwargs)

    monkeypatch.setattr("credentials.status_list.verify_proof", counted)
    return calls


def _check(data: bytes, keys: _Keys, index: int) -> tuple[str, str]:
    retrieved = prefetch([URL], lambda url: data)
    verify = tongban_list_verifier(DID, CHAIN, cast(ChainState, keys))
    document = {"credentialStatus": [_entry(index)]}
    (finding,) = check_entries(document, 0, retrieved, verify)
    return finding.status.value, finding.reason_code


def test_a_list_is_verified_once_for_many_verifications(proofs: list[int]) -> None:
    data, keys = _list([5]), _Keys(_record())
    assert _check(data, keys, 5) == ("INVALID", "revoked")
    for index in range(4):
        assert _check(data, keys, index) == ("VALID", "ok")
    assert len(proofs) == 1


def test_new_bytes_are_verified_again(proofs: list[int]) -> None:
    keys = _Keys(_record())
    assert _check(_list([]), keys, 5) == ("VALID", "ok")
    assert _check(_list([5]), keys, 5) == ("INVALID", "revoked")
    assert len(proofs) == 2


def test_a_key_marked_compromised_later_is_not_trusted_from_the_cache(proofs: list[int]) -> None:
    data, keys = _list([]), _Keys(_record())
    assert _check(data, keys, 1) == ("VALID", "ok")
    keys.record = replace(_record(), compromised_from=100)
    assert _check(data, keys, 1) == ("INVALID", "status_verification_error")
    keys.record = None
    assert _check(data, keys, 1) == ("INVALID", "status_verification_error")


def test_another_key_under_the_same_id_checks_the_proof_again(proofs: list[int]) -> None:
    data, keys = _list([]), _Keys(_record())
    assert _check(data, keys, 1) == ("VALID", "ok")
    keys.record = _record(Sm2PrivateKey.generate())
    assert _check(data, keys, 1) == ("INVALID", "status_verification_error")
    assert len(proofs) == 2


def test_a_broken_list_is_verified_once_per_check_and_never_kept(proofs: list[int]) -> None:
    data, keys = _list([], key=Sm2PrivateKey.generate()), _Keys(_record())
    assert _check(data, keys, 1) == ("INVALID", "status_verification_error")
    assert _check(data, keys, 1) == ("INVALID", "status_verification_error")
    assert len(proofs) == 2


def test_entries_get_what_list_status_gives(proofs: list[int]) -> None:
    document = json.loads(_list([0, 9, 131_071]))
    verify = tongban_list_verifier(DID, CHAIN, cast(ChainState, _Keys(_record())))
    verified = verify_list(document, verify)
    assert verified is not None
    entries = [
        _entry(0),
        _entry(1),
        _entry(131_071),
        _entry(131_072),
        _entry(10**40),
        _entry(9, purpose="suspension"),
        _entry(9, url=URL + "x"),
    ]
    for entry in entries:
        fields = status_list.entry_fields(entry)
        assert not isinstance(fields, status_list.ListStatus)
        assert entry_status(fields, verified) == list_status(entry, document, verify_proof=verify)


def test_the_cache_is_bounded_in_entries_and_age() -> None:
    now = [0.0]
    cache = ListCache(entries=2, seconds=10.0, clock=lambda: now[0])
    for name in (b"a", b"b", b"c"):
        cache.parsed.put(name, {})
    assert [cache.parsed.get(n) for n in (b"a", b"b", b"c")] == [None, {}, {}]
    now[0] = 10.0
    assert cache.parsed.get(b"c") is None
    off = ListCache(entries=0)
    off.parsed.put(b"a", {})
    assert off.parsed.get(b"a") is None


def test_malformed_and_refused_lists_are_not_cached(proofs: list[int]) -> None:
    assert prefetch([URL], lambda url: b"[1]") == {URL: Retrieved(None, malformed=True)}
    assert prefetch([URL], None)[URL].digest is None

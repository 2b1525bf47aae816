"""Issuer and holder identifiers, and DID documents built from the chain."""

from __future__ import annotations

import pytest

from credentials.did import (
    check_did_key_form,
    did_key_document,
    holder_did,
    holder_verification_method,
    issuer_did,
    issuer_verification_method,
    parse_holder_verification_method,
    parse_issuer_did,
    parse_issuer_verification_method,
    public_key_of_did_key,
    resolve_issuer,
)
from ledger.chain.index import ChainIndex
from ledger.crypto import multikey
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.contracts import ZJ, World


def test_issuer_dids() -> None:
    assert issuer_did(31337, 1) == "did:tongban:31337:1"
    assert parse_issuer_did("did:tongban:31337:4294967295") == (31337, 2**32 - 1)
    for bad in (
        "did:tongban:31337:4294967296",
        "did:tongban:031337:1",
        "did:tongban:31337:01",
        "did:tongban:0:1",
        "did:tongban:31337",
        "did:web:31337:1",
        " did:tongban:1:1",
        7,
    ):
        with pytest.raises(ValueError):
            parse_issuer_did(bad)
    method = parse_issuer_verification_method(issuer_verification_method(5, 2, "key-1.a_B"))
    assert (method.did, method.chain_id, method.issuer_id, method.key_id) == (
        "did:tongban:5:2",
        5,
        2,
        "key-1.a_B",
    )
    for bad in (
        "did:tongban:5:2",
        "did:tongban:5:2#",
        "did:tongban:5:2#" + "k" * 33,
        "did:tongban:5:2#a b",
    ):
        with pytest.raises(ValueError):
            parse_issuer_verification_method(bad)


def test_holder_dids_are_self_certifying() -> None:
    key = Sm2PrivateKey.generate().public_key
    did = holder_did(key)
    assert did == "did:key:" + multikey.encode(key)
    assert public_key_of_did_key(did) == key
    check_did_key_form(did)
    method = holder_verification_method(key)
    assert parse_holder_verification_method(method) == (did, key)
    other = holder_did(Sm2PrivateKey.generate().public_key)
    with pytest.raises(ValueError):
        parse_holder_verification_method(did + "#" + other.removeprefix("did:key:"))
    with pytest.raises(ValueError):
        public_key_of_did_key("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")  # Ed25519
    document = did_key_document(did)
    assert document["authentication"] == [method]
    assert document["verificationMethod"][0]["publicKeyMultibase"] == multikey.encode(key)


def test_issuer_documents_come_from_the_chain(db: SqliteDatabase, world: World) -> None:
    key2 = Sm2PrivateKey.generate().public_key
    world.registry.add_key(world.zj_admin, ZJ, "key-2", key2.compressed())
    world.registry.mark_key_compromised(world.zj_admin, ZJ, "key-2", world.now() + 10)
    world.registry.retire_key(world.zj_admin, ZJ, "key-1")
    a = world.addresses
    index = ChainIndex(
        db, world.client.chain_id, a.registry, a.credential_anchor, client=world.client
    )
    index.sync()
    did = issuer_did(world.client.chain_id, ZJ)
    with index.view() as view:
        from_index = resolve_issuer(view, did)
    from_registry = resolve_issuer(world.registry, did)
    assert from_index == from_registry
    methods = {m["id"].split("#")[1]: m for m in from_index["verificationMethod"]}
    assert set(methods) == {"key-1", "key-2"}
    assert "expires" in methods["key-1"]
    assert "revoked" in methods["key-2"]
    assert methods["key-2"]["publicKeyMultibase"] == multikey.encode(key2)
    assert from_index["assertionMethod"] == [f"{did}#key-1", f"{did}#key-2"]

"""IssuerRegistry: each issuer's admin manages its own writers and SM2 keys."""

from __future__ import annotations

import os

import pytest

from ledger.chain.contracts.calls import transact_named
from ledger.chain.contracts.errors import (
    IssuerRegistryCompromiseNotEarlierError,
    IssuerRegistryIndexOutOfRangeError,
    IssuerRegistryInvalidAccountError,
    IssuerRegistryInvalidKeyIdError,
    IssuerRegistryInvalidPublicKeyError,
    IssuerRegistryIssuerNotActiveError,
    IssuerRegistryKeyAlreadyRetiredError,
    IssuerRegistryKeyBackdatedError,
    IssuerRegistryKeyExistsError,
    IssuerRegistryNotIssuerAdminError,
    IssuerRegistryNotWriterError,
    IssuerRegistryUnknownKeyError,
    IssuerRegistryWriterTakenError,
)
from ledger.chain.contracts.registry import decode_key_id, encode_key_id
from tests.helpers.contracts import GD, SM2_G, ZJ, World, random_point, rejects

SM2_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF


# --------------------------------------------------------------------- writers


def test_admin_adds_and_retires_writers(world: World) -> None:
    registry = world.registry
    account = world.new_sender().address
    added = registry.add_writer(world.zj_admin, ZJ, account)
    assert added.event("WriterAdded").args == {"issuerId": ZJ, "account": account, "index": 1}
    assert registry.writer_status(ZJ, account) == (True, True)
    assert registry.writer_issuer(account) == ZJ
    retired = registry.retire_writer(world.zj_admin, ZJ, account)
    assert retired.event("WriterRetired").args == {"issuerId": ZJ, "account": account, "index": 1}
    assert registry.writer_status(ZJ, account) == (False, True)
    assert registry.writer_issuer(account) == 0
    history = registry.writers(ZJ)
    assert [w.account for w in history] == [world.zj_writer.address, account]
    assert history[0].current
    assert not history[1].current
    assert history[1].retired_at is not None
    assert history[1].retired_at >= history[1].added_at
    # Re-appointing adds a new history entry; the old one stays.
    registry.add_writer(world.zj_admin, ZJ, account)
    assert registry.writer_count(ZJ) == 3
    assert registry.writer_at(ZJ, 1).retired_at is not None


def test_only_the_issuers_own_admin_manages_writers(world: World) -> None:
    registry = world.registry
    account = world.new_sender().address
    for stranger in (world.gd_admin, world.zj_writer, world.outsider, world.governors[0]):
        with pytest.raises(IssuerRegistryNotIssuerAdminError) as caught:
            registry.add_writer(stranger, ZJ, account)
        error = caught.value
        assert error.fields == {"issuerId": ZJ, "account": stranger.address}
        with pytest.raises(IssuerRegistryNotIssuerAdminError):
            registry.retire_writer(stranger, ZJ, world.zj_writer.address)
    # Guangdong's admin cannot retire Zhejiang's writer through its own id either.
    rejects(
        IssuerRegistryNotWriterError,
        lambda: registry.retire_writer(world.gd_admin, GD, world.zj_writer.address),
    )
    assert registry.writer_status(ZJ, world.zj_writer.address) == (True, True)
    # Unknown issuers have no admin.
    rejects(
        IssuerRegistryNotIssuerAdminError, lambda: registry.add_writer(world.zj_admin, 99, account)
    )


def test_writer_rules(world: World) -> None:
    registry = world.registry
    error = rejects(
        IssuerRegistryWriterTakenError,
        lambda: registry.add_writer(world.gd_admin, GD, world.zj_writer.address),
    )
    assert error.fields == {"account": world.zj_writer.address, "issuerId": ZJ}
    rejects(
        IssuerRegistryWriterTakenError,
        lambda: registry.add_writer(world.zj_admin, ZJ, world.zj_writer.address),
    )
    rejects(
        IssuerRegistryInvalidAccountError,
        lambda: registry.add_writer(world.zj_admin, ZJ, "0x" + "00" * 20),
    )
    rejects(
        IssuerRegistryNotWriterError,
        lambda: registry.retire_writer(world.zj_admin, ZJ, world.outsider.address),
    )


def test_suspension_stops_new_writers_and_keys_but_not_retirement(world: World) -> None:
    registry = world.registry
    world.pass_proposal(lambda g: registry.propose_suspend_issuer(g, ZJ))
    account = world.new_sender().address
    rejects(
        IssuerRegistryIssuerNotActiveError, lambda: registry.add_writer(world.zj_admin, ZJ, account)
    )
    rejects(
        IssuerRegistryIssuerNotActiveError,
        lambda: registry.add_key(world.zj_admin, ZJ, "key-2", random_point()),
    )
    assert registry.writer_status(ZJ, world.zj_writer.address) == (True, False)
    # Withdrawing trust stays possible while suspended.
    registry.mark_key_compromised(world.zj_admin, ZJ, "key-1", world.now())
    registry.retire_key(world.zj_admin, ZJ, "key-1")
    registry.retire_writer(world.zj_admin, ZJ, world.zj_writer.address)
    assert registry.writer_status(ZJ, world.zj_writer.address) == (False, False)


def test_replaced_admin_loses_control(world: World) -> None:
    registry = world.registry
    new_admin = world.new_sender()
    world.pass_proposal(lambda g: registry.propose_replace_admin(g, ZJ, new_admin.address))
    account = world.new_sender().address
    rejects(
        IssuerRegistryNotIssuerAdminError, lambda: registry.add_writer(world.zj_admin, ZJ, account)
    )
    registry.add_writer(new_admin, ZJ, account)
    assert registry.writer_issuer(account) == ZJ


# ------------------------------------------------------------------------ keys


def test_add_key_records_history_and_emits(world: World) -> None:
    registry = world.registry
    valid_from = world.now() + 1000
    point = random_point()
    outcome = registry.add_key(world.zj_admin, ZJ, "key-2", point, valid_from)
    args = outcome.event("KeyAdded").args
    assert args["issuerId"] == ZJ
    assert args["keyId"] == encode_key_id("key-2")
    assert args["publicKey"] == point
    assert args["validFrom"] == valid_from
    assert [k.key_id for k in registry.keys(ZJ)] == ["key-1", "key-2"]
    record = registry.key(ZJ, "key-2")
    assert (record.public_key, record.valid_from, record.retired_at, record.compromised_from) == (
        point,
        valid_from,
        None,
        None,
    )
    assert registry.key(ZJ, "key-1").public_key == SM2_G
    assert not registry.is_key_valid_at(ZJ, "key-2", valid_from - 1)
    assert registry.is_key_valid_at(ZJ, "key-2", valid_from)
    assert registry.is_key_valid_at(ZJ, "key-2", valid_from + 10**9)


def test_key_valid_from_defaults_to_block_time(world: World) -> None:
    outcome = world.registry.add_key(world.zj_admin, ZJ, "key-2", random_point())
    block_time = int(world.client.get_block(outcome.block_number)["timestamp"], 16)
    assert outcome.event("KeyAdded").args["validFrom"] == block_time
    assert world.registry.key(ZJ, "key-2").valid_from == block_time


def test_a_key_cannot_be_backdated(world: World) -> None:
    now = world.now()
    error = rejects(
        IssuerRegistryKeyBackdatedError,
        lambda: world.registry.add_key(world.zj_admin, ZJ, "key-2", random_point(), now - 1),
    )
    assert error.fields["validFrom"] == now - 1
    assert error.fields["now"] >= now
    assert world.registry.key_count(ZJ) == 1


def test_only_the_issuers_own_admin_manages_keys(world: World) -> None:
    registry = world.registry
    for stranger in (world.gd_admin, world.zj_writer, world.outsider, world.governors[0]):
        with pytest.raises(IssuerRegistryNotIssuerAdminError):
            registry.add_key(stranger, ZJ, "key-x", random_point())
        with pytest.raises(IssuerRegistryNotIssuerAdminError):
            registry.retire_key(stranger, ZJ, "key-1")
        with pytest.raises(IssuerRegistryNotIssuerAdminError):
            registry.mark_key_compromised(stranger, ZJ, "key-1", 1)
    assert registry.key(ZJ, "key-1").retired_at is None
    assert registry.key(ZJ, "key-1").compromised_from is None


@pytest.mark.parametrize(
    "public_key",
    [
        b"",
        bytes(33),
        b"\x04" + os.urandom(32),
        b"\x02" + os.urandom(31),
        b"\x02" + os.urandom(33),
        b"\x04" + os.urandom(64),
        b"\x03" + SM2_P.to_bytes(32, "big"),
        b"\x02" + (2**256 - 1).to_bytes(32, "big"),
    ],
    # Named by shape, not by the random bytes: parallel workers must collect the same ids.
    ids=["empty", "zeros", "04-short", "02-short", "02-long", "04-uncompressed", "x-is-p", "x-max"],
)
def test_public_key_format_is_checked(world: World, public_key: bytes) -> None:
    rejects(
        IssuerRegistryInvalidPublicKeyError,
        lambda: world.registry.add_key(world.zj_admin, ZJ, "key-2", public_key),
    )


def test_key_id_rules(world: World) -> None:
    registry = world.registry
    rejects(
        IssuerRegistryKeyExistsError,
        lambda: registry.add_key(world.zj_admin, ZJ, "key-1", random_point()),
    )
    # The same id under another issuer is a different key.
    registry.add_key(world.gd_admin, GD, "key-2", random_point())
    rejects(
        IssuerRegistryInvalidKeyIdError,
        lambda: transact_named(
            registry.contract, world.zj_admin, "addKey", ZJ, bytes(32), random_point(), 0
        ),
    )
    rejects(IssuerRegistryUnknownKeyError, lambda: registry.key(ZJ, "nope"))
    rejects(IssuerRegistryUnknownKeyError, lambda: registry.retire_key(world.zj_admin, ZJ, "nope"))
    assert not registry.is_key_valid_at(ZJ, "nope", world.now())
    for bad in ("", "x" * 33, "ключ", "a b"):
        with pytest.raises(ValueError, match="key id"):
            encode_key_id(bad)
    assert decode_key_id(encode_key_id("k.1_A-z")) == "k.1_A-z"


def test_retire_key(world: World) -> None:
    registry = world.registry
    valid_from = registry.key(ZJ, "key-1").valid_from
    world.advance(100)
    outcome = registry.retire_key(world.zj_admin, ZJ, "key-1")
    retired_at = outcome.event("KeyRetired").args["retiredAt"]
    assert retired_at == int(world.client.get_block(outcome.block_number)["timestamp"], 16)
    assert registry.key(ZJ, "key-1").retired_at == retired_at
    assert registry.is_key_valid_at(ZJ, "key-1", valid_from)
    assert registry.is_key_valid_at(ZJ, "key-1", retired_at - 1)
    assert not registry.is_key_valid_at(ZJ, "key-1", retired_at)
    rejects(
        IssuerRegistryKeyAlreadyRetiredError,
        lambda: registry.retire_key(world.zj_admin, ZJ, "key-1"),
    )


def test_compromised_key_is_invalid_from_its_compromise_time(world: World) -> None:
    registry = world.registry
    valid_from = registry.key(ZJ, "key-1").valid_from
    world.advance(1000)
    compromised_from = valid_from + 500  # in the past: the point of the feature
    outcome = registry.mark_key_compromised(world.zj_admin, ZJ, "key-1", compromised_from)
    assert outcome.event("KeyCompromised").args == {
        "issuerId": ZJ,
        "keyId": encode_key_id("key-1"),
        "compromisedFrom": compromised_from,
    }
    assert registry.is_key_valid_at(ZJ, "key-1", valid_from)
    assert registry.is_key_valid_at(ZJ, "key-1", compromised_from - 1)
    assert not registry.is_key_valid_at(ZJ, "key-1", compromised_from)
    assert not registry.is_key_valid_at(ZJ, "key-1", world.now())
    assert registry.key(ZJ, "key-1").compromised_from == compromised_from
    # It may move earlier, never later.
    error = rejects(
        IssuerRegistryCompromiseNotEarlierError,
        lambda: registry.mark_key_compromised(world.zj_admin, ZJ, "key-1", compromised_from),
    )
    assert error.fields["current"] == compromised_from
    rejects(
        IssuerRegistryCompromiseNotEarlierError,
        lambda: registry.mark_key_compromised(world.zj_admin, ZJ, "key-1", compromised_from + 1),
    )
    registry.mark_key_compromised(world.zj_admin, ZJ, "key-1", compromised_from - 100)
    assert not registry.is_key_valid_at(ZJ, "key-1", compromised_from - 100)
    assert registry.is_key_valid_at(ZJ, "key-1", compromised_from - 101)


def test_compromise_from_the_future(world: World) -> None:
    registry = world.registry
    later = world.now() + 10_000
    registry.mark_key_compromised(world.zj_admin, ZJ, "key-1", later)
    assert registry.is_key_valid_at(ZJ, "key-1", world.now())
    assert not registry.is_key_valid_at(ZJ, "key-1", later)


def test_key_history_matches_the_local_rule(world: World) -> None:
    registry = world.registry
    now = world.now()
    registry.add_key(world.zj_admin, ZJ, "key-2", random_point(), now + 50)
    registry.add_key(world.zj_admin, ZJ, "key-3", random_point(), now + 100)
    world.advance(200)
    registry.retire_key(world.zj_admin, ZJ, "key-2")
    registry.mark_key_compromised(world.zj_admin, ZJ, "key-3", now + 150)
    for record in registry.keys(ZJ):
        for t in (now - 10, now + 49, now + 50, now + 100, now + 149, now + 150, now + 10**6):
            assert registry.is_key_valid_at(ZJ, record.key_id, t) == record.is_valid_at(t)


def test_suspension_does_not_change_key_validity(world: World) -> None:
    registry = world.registry
    now = world.now()
    world.pass_proposal(lambda g: registry.propose_suspend_issuer(g, ZJ))
    assert registry.is_key_valid_at(ZJ, "key-1", now)


def test_history_index_out_of_range(world: World) -> None:
    error = rejects(IssuerRegistryIndexOutOfRangeError, lambda: world.registry.writer_at(ZJ, 1))
    assert error.fields == {"issuerId": ZJ, "index": 1, "count": 1}
    rejects(IssuerRegistryIndexOutOfRangeError, lambda: world.registry.key_id_at(ZJ, 1))
    rejects(IssuerRegistryIndexOutOfRangeError, lambda: world.registry.key_id_at(99, 0))

"""The signing key ring follows the chain: rotation, retirement and compromise, without restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.province.issuer_admin import IssuerAdmin
from api.province.keyring import NoSigningKeyError, SigningKeyRing, chain_clock
from api.province.keys import load_or_create_keys
from ledger.chain.contracts.registry import IssuerRegistry
from tests.helpers.admin_province import admin_province, drive
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import FAST, PASSPHRASE, ServedProvince


def _admin(province: ServedProvince) -> IssuerAdmin:
    parts = province.parts
    return IssuerAdmin(
        parts.db,
        IssuerRegistry(parts.client, parts.plan.addresses.registry),
        parts.index,
        parts.keys,
        parts.keyring,
        parts.issuer,
        operator_account=province.context.operator_account,
    )


def _other_process_ring(province: ServedProvince) -> SigningKeyRing:
    """The key ring another worker process would have, opened before the rotation."""
    parts = province.parts
    keys, created = load_or_create_keys(parts.settings.keys_dir, "key-1", PASSPHRASE, kdf=FAST)
    assert not created
    return SigningKeyRing(
        keys, parts.index, ZJ, province.did, clock=chain_clock(parts.client), ttl=0.0
    )


def test_a_rotated_key_signs_once_its_registration_is_final(world: World, tmp_path: Path) -> None:
    with admin_province(world, tmp_path) as province:
        ring = province.parts.keyring
        other = _other_process_ring(province)
        assert ring.active_key_id(fresh=True) == "key-1"

        operation = _admin(province).rotate_key()
        assert province.parts.keys.has_signing_key("key-2")
        # In the keystore, not yet on chain: key-1 keeps signing everywhere.
        assert ring.active_key_id(fresh=True) == "key-1"
        assert other.active_key_id() == "key-1"

        drive(province)
        assert ring.active_key_id(fresh=True) == "key-2"
        assert other.active_key_id() == "key-2"  # another process, never restarted
        assert ring.credential_signer().key_id == f"{province.did}#key-2"
        ring.refresh()
        assert province.parts.audit_log.signer.key_id == "key-2"
        assert operation > 0


def test_retiring_the_active_key_falls_back_to_the_newest_valid_one(
    world: World, tmp_path: Path
) -> None:
    with admin_province(world, tmp_path) as province:
        admin, ring = _admin(province), province.parts.keyring
        admin.rotate_key("key-2")
        drive(province)
        assert ring.active_key_id(fresh=True) == "key-2"

        admin.retire_key("key-2")
        drive(province)
        assert ring.active_key_id(fresh=True) == "key-1"
        ring.refresh()
        assert province.parts.audit_log.signer.key_id == "key-1"

        admin.retire_key("key-1")
        drive(province)
        assert ring.active_key_id(fresh=True) is None
        with pytest.raises(NoSigningKeyError):
            ring.credential_signer()
        # Receipts keep a signer (the newest held key), issuing refuses.
        assert ring.log_key_id() == "key-2"


def test_a_compromised_active_key_stops_signing_when_its_time_comes(
    world: World, tmp_path: Path
) -> None:
    with admin_province(world, tmp_path) as province:
        admin, ring = _admin(province), province.parts.keyring
        admin.rotate_key("key-2")
        drive(province)
        assert ring.active_key_id(fresh=True) == "key-2"

        # Compromised from a time still ahead: it signs until the chain gets there.
        admin.mark_compromised("key-2", world.now() + 600)
        drive(province)
        assert ring.active_key_id(fresh=True) == "key-2"
        world.advance(601)
        assert ring.active_key_id(fresh=True) == "key-1"

        admin.mark_compromised("key-1", world.now())
        drive(province)
        assert ring.active_key_id(fresh=True) is None
        with pytest.raises(NoSigningKeyError):
            ring.credential_signer()

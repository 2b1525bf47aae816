"""The bindings' plumbing: named errors cover every ABI error; deployment helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.calls import named_revert, raising_named_reverts
from ledger.chain.contracts.consortium import (
    CONSORTIUM_CONTRACTS,
    bind_consortium,
    consortium_addresses,
    deploy_consortium,
    ensure_consortium,
)
from ledger.chain.contracts.deployment import DeployedContract, load_deployment, save_deployment
from ledger.chain.contracts.errors import (
    REVERT_ERRORS,
    ConsortiumRevertError,
    CredentialAnchorDuplicateRootError,
    CredentialAnchorError,
    IssuerRegistryError,
    IssuerRegistryNotGovernorError,
)
from ledger.chain.contracts.registry import KeyRecord
from ledger.chain.errors import ChainConfigError, ChainError, ContractRevertError
from tests.helpers.contracts import ZJ, World


@pytest.mark.parametrize(
    "artifact",
    [*CONSORTIUM_CONTRACTS, "IIssuerRegistry", "ICredentialAnchor", "IAuditAnchor"],
)
def test_every_custom_error_has_a_named_exception(artifact: str) -> None:
    names = {e["name"] for e in load_artifact(artifact).abi if e["type"] == "error"}
    missing = names - set(REVERT_ERRORS)
    assert not missing
    for name in names:
        cls = REVERT_ERRORS[name]
        assert cls.__name__ == f"{name}Error"
        assert issubclass(cls, ConsortiumRevertError)
        assert issubclass(cls, ContractRevertError)
        assert issubclass(cls, ChainError)
        assert cls.__doc__


def test_named_revert_keeps_the_fields() -> None:
    plain = ContractRevertError("CredentialAnchorDuplicateRoot", (1, b"\x01" * 32, 9), b"\xaa")
    named = named_revert(plain)
    assert isinstance(named, CredentialAnchorDuplicateRootError)
    assert isinstance(named, CredentialAnchorError)
    assert (named.error_name, named.error_args, named.data) == (
        plain.error_name,
        plain.error_args,
        plain.data,
    )
    assert named.fields == {"issuerId": 1, "root": b"\x01" * 32, "anchoredAtBlock": 9}
    assert str(named) == str(plain)
    unknown = ContractRevertError("SomethingElse", ())
    assert named_revert(unknown) is unknown
    assert named_revert(named) is named


def test_raising_named_reverts_passes_other_errors_through() -> None:
    with pytest.raises(IssuerRegistryNotGovernorError), raising_named_reverts():
        raise ContractRevertError("IssuerRegistryNotGovernor", ("0x" + "11" * 20,))
    with pytest.raises(ContractRevertError) as caught, raising_named_reverts():
        raise ContractRevertError("Panic", (0x11,))
    assert type(caught.value) is ContractRevertError
    with pytest.raises(ValueError, match="other"), raising_named_reverts():
        raise ValueError("other")


def test_registry_errors_share_a_base(world: World) -> None:
    with pytest.raises(IssuerRegistryError):
        world.registry.propose_suspend_issuer(world.outsider, ZJ)


def test_key_record_local_rule() -> None:
    key = KeyRecord(1, "k", b"\x02" + bytes(32), 100, 200, 150)
    assert [key.is_valid_at(t) for t in (99, 100, 149, 150, 199, 200)] == [
        False,
        True,
        True,
        False,
        False,
        False,
    ]
    never_compromised = KeyRecord(1, "k", b"\x02" + bytes(32), 100, None, None)
    assert never_compromised.is_valid_at(10**12)
    compromised_at_zero = KeyRecord(1, "k", b"\x02" + bytes(32), 0, None, 0)
    assert not compromised_at_zero.is_valid_at(0)


def test_deploy_and_bind_consortium(world: World) -> None:
    governors = [g.address for g in world.governors]
    addresses = deploy_consortium(world.deployer, governors, 3)
    consortium = bind_consortium(world.client, addresses)
    assert consortium.addresses == addresses
    assert consortium.registry.threshold() == 3
    assert sorted(consortium.registry.governors()) == sorted(governors)
    assert consortium.credential_anchor.registry_address() == addresses.registry
    assert consortium.audit_anchor.registry_address() == addresses.registry
    assert set(addresses.by_name()) == set(CONSORTIUM_CONTRACTS)


def test_deploy_consortium_checks_its_arguments(world: World) -> None:
    g = [s.address for s in world.governors]
    for governors, threshold in (([], 1), (g, 0), (g, 4), ([g[0], g[0]], 1)):
        with pytest.raises(ChainConfigError):
            deploy_consortium(world.deployer, governors, threshold)


def test_ensure_consortium_reuses_the_record(world: World, tmp_path: Path) -> None:
    record = tmp_path / "deployment.json"
    governors = [g.address for g in world.governors]
    first = ensure_consortium(world.deployer, governors, 2, record)
    saved = load_deployment(record)
    assert saved is not None
    assert consortium_addresses(saved) == consortium_addresses(first)
    again = ensure_consortium(world.deployer, governors, 2, record)
    assert consortium_addresses(again) == consortium_addresses(first)
    # A record whose contracts vanished (another chain state) is replaced as a whole.
    saved.contracts["IssuerRegistry"] = DeployedContract(
        address=world.outsider.address, block_number=1, tx_hash="0x00"
    )
    save_deployment(saved, record)
    replaced = ensure_consortium(world.deployer, governors, 2, record)
    fresh = consortium_addresses(replaced)
    assert fresh.registry != world.outsider.address
    assert bind_consortium(world.client, fresh).credential_anchor.registry_address() == (
        fresh.registry
    )

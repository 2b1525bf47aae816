"""``tongban governance``: propose, approve and read proposals, signing with a governor keystore.

Unlike the ``/governance`` routes (which act for the governor account a
service holds, through its outbox), these commands sign and send directly
with the keystore given by ``--keystore`` (or ``TONGBAN_GOVERNOR_KEYSTORE``),
unlocked with ``TONGBAN_GOVERNOR_KEY_PASSPHRASE``: a second governor
approves from a terminal. The chain is ``--chain URL`` or the running
service's node of the data directory; the registry is ``--registry`` (or
``TONGBAN_REGISTRY``) or the data directory's deployment record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.common import (
    ChainIdOption,
    ChainOption,
    ConfigOption,
    DataDirOption,
    JsonOption,
    connect_reader,
    load_cli_settings,
    out,
    print_json_line,
    print_text,
)
from api.province.audited import AdminNotFoundError, AdminRefusedError
from api.province.governance import (
    ProposalView,
    describe_proposal,
    list_proposals,
    load_governor_account,
    proposal_expiry,
    proposal_json,
)
from api.runtime.settings import DEMO_EVM_PASSPHRASE, Settings, SettingsError
from ledger.chain.contracts.deployment import load_deployment
from ledger.chain.contracts.registry import (
    GovernanceAction,
    IssuerRegistry,
    ProposalOutcome,
    encode_admit_issuer,
    encode_issuer_id,
    encode_replace_admin,
)
from ledger.chain.node.accounts import keystore_address
from ledger.chain.node.client import checksum
from ledger.chain.node.transactions import NonceManager

governance_app = typer.Typer(
    help="Consortium governance (M of N): propose, approve, show, list.", no_args_is_help=True
)


class ProposalAction(StrEnum):
    """The actions ``tongban governance propose`` makes."""

    ADMIT_ISSUER = "admit-issuer"
    SUSPEND_ISSUER = "suspend-issuer"
    REINSTATE_ISSUER = "reinstate-issuer"
    REPLACE_ADMIN = "replace-admin"


KeystoreOption = Annotated[
    Path | None,
    typer.Option(
        "--keystore",
        help="The governor's EVM keystore (TONGBAN_GOVERNOR_KEYSTORE); its passphrase comes "
        "from TONGBAN_GOVERNOR_KEY_PASSPHRASE.",
    ),
]
RegistryOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        help="IssuerRegistry address (default: TONGBAN_REGISTRY or the deployment record).",
    ),
]
GovernorOption = Annotated[
    str | None,
    typer.Option("--governor", help="Show whether this account approved (default: --keystore's)."),
]


_SettingsOptions = tuple[Path | None, Path | None, str | None, int | None]
"""``--config``, ``--data-dir``, ``--chain``, ``--chain-id`` as given."""


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except (AdminNotFoundError, AdminRefusedError) as exc:
        raise SettingsError(str(exc)) from None


def _registry(settings: Settings, address: str | None) -> IssuerRegistry:
    client = connect_reader(settings)
    chosen = address or settings.registry
    if chosen is None:
        deployment = load_deployment(settings.data_dir / "deployment.json")
        if deployment is None or deployment.chain_id != client.chain_id:
            raise SettingsError(
                "no deployment record for this chain in the data directory; pass --registry"
            )
        chosen = deployment.address("IssuerRegistry")
    try:
        checked = checksum(chosen)
    except ValueError:
        raise SettingsError("--registry is not an EVM address") from None
    if not client.code(checked):
        raise SettingsError(f"no contract at the registry address on chain {client.chain_id}")
    return IssuerRegistry(client, checked)


def _signing(
    keystore: Path | None,
    registry_address: str | None,
    settings_options: _SettingsOptions,
) -> tuple[IssuerRegistry, NonceManager]:
    """The registry and the governor who signs: ``propose`` and ``approve``."""
    settings = load_cli_settings(*settings_options)
    registry = _registry(settings, registry_address)
    return registry, _sender(settings, keystore, registry)


def _reading(
    governor: str | None,
    keystore: Path | None,
    registry_address: str | None,
    settings_options: _SettingsOptions,
) -> tuple[IssuerRegistry, str | None]:
    """The registry and the governor asked about: ``show`` and ``list``."""
    settings = load_cli_settings(*settings_options)
    registry = _registry(settings, registry_address)
    return registry, _governor(settings, keystore, governor)


def _sender(settings: Settings, keystore: Path | None, registry: IssuerRegistry) -> NonceManager:
    path = keystore or settings.governor_keystore
    if path is None:
        raise SettingsError(
            "give the governor keystore with --keystore (or TONGBAN_GOVERNOR_KEYSTORE)"
        )
    passphrase = settings.governor_key_passphrase.get_secret_value()
    if passphrase == DEMO_EVM_PASSPHRASE and not registry.client.is_dev_node():
        raise SettingsError(
            "TONGBAN_GOVERNOR_KEY_PASSPHRASE is the published demo value; it is refused on a "
            "chain other than a local development node"
        )
    return NonceManager(registry.client, load_governor_account(path, passphrase))


def _governor(settings: Settings, keystore: Path | None, governor: str | None) -> str | None:
    if governor is not None:
        try:
            return str(checksum(governor))
        except ValueError:
            raise SettingsError("--governor is not an EVM address") from None
    path = keystore or settings.governor_keystore
    # Reading whom to ask about needs no secret: the keystore names its address.
    return None if path is None else keystore_address(path)


def _when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _print_view(view: ProposalView) -> None:
    proposal = view.proposal
    params = ", ".join(f"{k} {v}" for k, v in view.params.items())
    mine = ""
    if view.approved_by_governor is not None:
        mine = ", approved by you" if view.approved_by_governor else ", not approved by you"
    print_text(
        f"proposal {proposal.proposal_id}  {view.action_name}  {view.state.value}  "
        f"{proposal.approvals}/{view.threshold} approvals{mine}"
    )
    # Parameters (an issuer's name) are printed as they are, never as rich markup.
    print_text(
        f"  {params}\n  proposed by {proposal.proposer} at {_when(proposal.created_at)}, "
        f"expires {_when(proposal.expires_at)}"
    )


def _outcome_json(outcome: ProposalOutcome, view: ProposalView) -> dict[str, Any]:
    return {
        "proposalId": outcome.proposal_id,
        "executed": outcome.executed,
        "txHash": outcome.tx.tx_hash,
        "blockNumber": outcome.tx.block_number,
        "proposal": proposal_json(view),
    }


def _report(outcome: ProposalOutcome, view: ProposalView, verb: str, as_json: bool) -> None:
    if as_json:
        print_json_line(_outcome_json(outcome, view))
        return
    result = "executed" if outcome.executed else "recorded"
    print_text(
        f"{verb} proposal {outcome.proposal_id}: {result} (tx {outcome.tx.tx_hash}, "
        f"block {outcome.tx.block_number})"
    )
    _print_view(view)


def _params(
    action: ProposalAction,
    issuer_id: int,
    division_code: int | None,
    name: str | None,
    admin: str | None,
    new_admin: str | None,
) -> tuple[GovernanceAction, bytes]:
    given = {"--division-code": division_code, "--name": name, "--admin": admin}
    wanted: set[str] = set()
    if action is ProposalAction.ADMIT_ISSUER:
        wanted = {"--division-code", "--name", "--admin"}
    elif action is ProposalAction.REPLACE_ADMIN:
        wanted = {"--new-admin"}
    given["--new-admin"] = new_admin
    for option, value in given.items():
        if option in wanted and value is None:
            raise SettingsError(f"{action.value} needs {option}")
        if option not in wanted and value is not None:
            raise SettingsError(f"{option} does not go with {action.value}")
    try:
        if action is ProposalAction.ADMIT_ISSUER:
            code = int(division_code or 0)
            return GovernanceAction.ADMIT_ISSUER, encode_admit_issuer(
                issuer_id, code, str(name), str(admin)
            )
        if action is ProposalAction.REPLACE_ADMIN:
            return GovernanceAction.REPLACE_ISSUER_ADMIN, encode_replace_admin(
                issuer_id, str(new_admin)
            )
    except ValueError:
        raise SettingsError("--admin and --new-admin must be EVM addresses") from None
    if action is ProposalAction.SUSPEND_ISSUER:
        return GovernanceAction.SUSPEND_ISSUER, encode_issuer_id(issuer_id)
    return GovernanceAction.REINSTATE_ISSUER, encode_issuer_id(issuer_id)


@governance_app.command("propose")
def governance_propose(
    action: Annotated[ProposalAction, typer.Argument(help="What the proposal does.")],
    issuer_id: Annotated[int, typer.Option("--issuer-id", min=1, max=2**32 - 1)],
    division_code: Annotated[
        int | None,
        typer.Option("--division-code", min=100000, max=999999, help="admit-issuer: GB/T 2260."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="admit-issuer: display name.")] = None,
    admin: Annotated[str | None, typer.Option(help="admit-issuer: the admin account.")] = None,
    new_admin: Annotated[
        str | None, typer.Option("--new-admin", help="replace-admin: the new admin.")
    ] = None,
    expires_in: Annotated[
        int | None,
        typer.Option("--expires-in", help="Seconds until it expires (default 7 days, max 30)."),
    ] = None,
    keystore: KeystoreOption = None,
    registry_address: RegistryOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose an action; your proposal counts as your approval (M = 1 executes it at once)."""
    governance_action, params = _params(action, issuer_id, division_code, name, admin, new_admin)
    registry, sender = _signing(keystore, registry_address, (config, data_dir, chain, chain_id))
    with _refusals():
        expires_at = proposal_expiry(registry, expires_in)
    outcome = registry.propose(sender, governance_action, params, expires_at=expires_at)
    view = describe_proposal(registry, outcome.proposal_id, sender.address)
    _report(outcome, view, "proposed", as_json)


@governance_app.command("approve")
def governance_approve(
    proposal_id: Annotated[int, typer.Argument(help="The proposal to approve.", min=1)],
    keystore: KeystoreOption = None,
    registry_address: RegistryOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a proposal; the approval that reaches the threshold executes it."""
    registry, sender = _signing(keystore, registry_address, (config, data_dir, chain, chain_id))
    with _refusals():
        describe_proposal(registry, proposal_id)
    outcome = registry.approve(sender, proposal_id)
    view = describe_proposal(registry, proposal_id, sender.address)
    _report(outcome, view, "approved", as_json)


@governance_app.command("show")
def governance_show(
    proposal_id: Annotated[int, typer.Argument(help="The proposal.", min=1)],
    governor: GovernorOption = None,
    keystore: KeystoreOption = None,
    registry_address: RegistryOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one proposal: action, parameters, approvals, state."""
    options = (config, data_dir, chain, chain_id)
    registry, asked = _reading(governor, keystore, registry_address, options)
    with _refusals():
        view = describe_proposal(registry, proposal_id, asked)
    if as_json:
        print_json_line(proposal_json(view))
    else:
        _print_view(view)


@governance_app.command("list")
def governance_list(
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first.")] = 20,
    governor: GovernorOption = None,
    keystore: KeystoreOption = None,
    registry_address: RegistryOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the newest proposals, the governors and the threshold."""
    options = (config, data_dir, chain, chain_id)
    registry, asked = _reading(governor, keystore, registry_address, options)
    views = list_proposals(registry, limit, asked)
    governors = registry.governors()
    threshold = registry.threshold()
    if as_json:
        print_json_line(
            {
                "governors": governors,
                "threshold": threshold,
                "proposals": [proposal_json(v) for v in views],
            }
        )
        return
    print_text(f"{threshold} of {len(governors)} governors: {', '.join(governors)}")
    if not views:
        out.print("no proposals yet")
    for view in views:
        _print_view(view)

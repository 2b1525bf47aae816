"""``tongban chain status`` and ``tongban chain deploy``: the chain head and the contracts.

``--json`` prints the API's camelCase names: ``rpcUrl``, ``chainId``,
``blockNumber``, ``contracts.{name}.{address, blockNumber}`` and, for
``status``, ``clientVersion`` and ``contracts.{name}.hasCode``; ``deploy`` (and
``tongban serve``) add ``chain``, ``nodePid``, ``operatorAccount`` and ``dataDir``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
)

if TYPE_CHECKING:
    from api.runtime.chain_start import StartedChain

__all__ = ["chain_app", "describe_chain", "print_description"]

chain_app = typer.Typer(help="Inspect the chain and the deployed contracts.", no_args_is_help=True)


def describe_chain(runtime: StartedChain) -> dict[str, Any]:
    """The chain a started service or deployment uses, as camelCase JSON."""
    client = runtime.chain.client
    return {
        "chain": runtime.settings.chain,
        "rpcUrl": client.url,
        "chainId": client.chain_id,
        "blockNumber": client.block_number(),
        "nodePid": runtime.chain.node.pid if runtime.chain.node is not None else None,
        "operatorAccount": runtime.account.address,
        "dataDir": str(runtime.settings.data_dir.resolve()),
        "contracts": {
            name: {"address": c.address, "blockNumber": c.block_number}
            for name, c in runtime.deployment.contracts.items()
        },
    }


def print_description(description: dict[str, Any], as_json: bool) -> None:
    """``describe_chain``'s answer as one JSON line or as text."""
    if as_json:
        print_json_line(description)
        return
    out.print(f"[bold]chain[/]      {description['chain']} at {description['rpcUrl']}")
    out.print(f"chain id   {description['chainId']}, block {description['blockNumber']}")
    out.print(f"operator   {description['operatorAccount']}")
    out.print(f"data dir   {description['dataDir']}")
    out.print("[bold]contracts[/]")
    for name, contract in description["contracts"].items():
        out.print(f"  {name:<20} {contract['address']}  (block {contract['blockNumber']})")


@chain_app.command("status")
def chain_status(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the chain head and the recorded contracts (needs a running service for local chains)."""
    from ledger.chain.contracts.deployment import load_deployment

    settings = load_cli_settings(config, data_dir, chain, chain_id)
    client = connect_reader(settings)
    deployment = load_deployment(settings.data_dir / "deployment.json")
    contracts = {}
    if deployment is not None and deployment.chain_id == client.chain_id:
        contracts = {
            name: {
                "address": c.address,
                "blockNumber": c.block_number,
                "hasCode": bool(client.code(c.address)),
            }
            for name, c in deployment.contracts.items()
        }
    status = {
        "rpcUrl": client.url,
        "chainId": client.chain_id,
        "blockNumber": client.block_number(),
        "clientVersion": client.rpc("web3_clientVersion"),
        "contracts": contracts,
    }
    if as_json:
        print_json_line(status)
        return
    out.print(f"{status['clientVersion']} at {client.url}")
    out.print(f"chain id {client.chain_id}, block {status['blockNumber']}")
    for name, contract in contracts.items():
        mark = "ok" if contract["hasCode"] else "[red]no code[/]"
        out.print(f"  {name:<20} {contract['address']}  {mark}")


@chain_app.command("deploy")
def chain_deploy(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deploy the contracts that are missing on the configured chain, record them, and exit."""
    from api.runtime.chain_start import start_chain

    settings = load_cli_settings(config, data_dir, chain, chain_id)
    runtime = start_chain(settings, province_keys=False)
    try:
        print_description(describe_chain(runtime), as_json)
    finally:
        runtime.close()

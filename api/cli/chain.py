"""``tongban chain status``, ``deploy`` and ``genesis``: the chain head, the contracts, a genesis.

``--json`` prints the API's camelCase names: ``rpcUrl``, ``chainId``,
``blockNumber``, ``contracts.{name}.{address, blockNumber}`` and, for
``status``, ``clientVersion`` and ``contracts.{name}.hasCode``; ``deploy`` (and
``tongban serve``) add ``chain``, ``nodePid``, ``operatorAccount`` and ``dataDir``.
``genesis`` (no chain needed) prints ``chainId``, ``validators``, ``extraData``,
``out`` and, without ``--out``, the ``genesis`` document itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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


def _allocations(entries: list[str]) -> dict[str, int]:
    from ledger.chain.genesis import GenesisError

    alloc: dict[str, int] = {}
    for entry in entries:
        address, sep, wei = entry.partition("=")
        if not sep or not wei.isdigit():
            raise GenesisError("--alloc takes ADDRESS=WEI (WEI a whole number)")
        alloc[address] = int(wei)
    return alloc


@chain_app.command("genesis")
def chain_genesis(
    validators: Annotated[
        list[str],
        typer.Option(
            "--validator",
            help="A validator's address (repeat for each; EIP-55 checksum or lowercase).",
            show_default=False,
        ),
    ],
    chain_id: Annotated[int, typer.Option("--chain-id", help="The network's chain id.")],
    block_period: Annotated[
        int,
        typer.Option("--block-period", help="Seconds between blocks (QBFT blockperiodseconds)."),
    ] = 2,
    request_timeout: Annotated[
        int, typer.Option("--request-timeout", help="QBFT round timeout in seconds.")
    ] = 10,
    gas_limit: Annotated[int, typer.Option("--gas-limit", help="Block gas limit.")] = 30_000_000,
    alloc: Annotated[
        list[str] | None,
        typer.Option(
            "--alloc",
            help="ADDRESS=WEI: an initial balance (repeatable; none on a free-gas network).",
            show_default=False,
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the genesis here (default: print it)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a Hyperledger Besu QBFT genesis naming the validators (no chain needed)."""
    import json

    from ledger.chain.genesis import (
        GenesisError,
        QbftParameters,
        decode_qbft_extra_data,
        qbft_genesis,
    )

    genesis = qbft_genesis(
        QbftParameters(
            chain_id=chain_id,
            validators=tuple(validators),
            block_period=block_period,
            request_timeout=request_timeout,
            gas_limit=gas_limit,
            alloc=_allocations(alloc or []),
        )
    )
    text = json.dumps(genesis, indent=2) + "\n"
    if out_file is not None:
        try:
            out_file.write_text(text, "utf-8")
        except OSError as exc:
            raise GenesisError(f"cannot write {out_file}: {exc.strerror}") from None
    ordered = decode_qbft_extra_data(bytes.fromhex(genesis["extraData"][2:])).validators
    if as_json:
        summary: dict[str, Any] = {
            "chainId": chain_id,
            "validators": list(ordered),
            "extraData": genesis["extraData"],
            "out": str(out_file) if out_file is not None else None,
        }
        if out_file is None:
            summary["genesis"] = genesis
        print_json_line(summary)
        return
    if out_file is None:
        sys.stdout.write(text)
        return
    out.print(f"[bold]genesis[/]    {out_file}", highlight=False)
    out.print(f"chain id   {chain_id}, QBFT, block period {block_period} s", highlight=False)
    for address in ordered:
        out.print(f"validator  {address}", highlight=False)

"""The ``tongban`` command line (typer + rich).

Every known failure ends in one line on stderr (``error: ...`` naming the
setting or the fix) and exit status 2; nothing prints a stack trace.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

import click
import typer
from rich.text import Text

from api.cli.audit import audit_app
from api.cli.clients import clients_app
from api.cli.common import (
    KNOWN_ERRORS,
    ChainIdOption,
    ChainOption,
    ConfigOption,
    DataDirOption,
    JsonOption,
    connect_reader,
    err,
    load_cli_settings,
    out,
    print_json_line,
)
from api.cli.credentials import issue_command, revoke_command, verify_command
from api.cli.governance import governance_app
from api.cli.keys import keys_app
from api.cli.templates import templates_command
from api.cli.usage import USAGE_EXIT_STATUS, usage_line
from api.cli.wallet import wallet_app
from api.runtime.chain_start import StartedChain, start_chain
from api.runtime.preflight import preflight
from api.runtime.supervisor import Supervisor, run_service
from ledger.chain.contracts.deployment import load_deployment

app = typer.Typer(
    name="tongban",
    help="Tongban (通办): credential and audit ledger for cross-province e-government.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
chain_app = typer.Typer(help="Inspect the chain and the deployed contracts.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.add_typer(audit_app, name="audit")
app.add_typer(clients_app, name="clients")
app.add_typer(wallet_app, name="wallet")
app.add_typer(governance_app, name="governance")
app.add_typer(keys_app, name="keys")
app.command("issue")(issue_command)
app.command("verify")(verify_command)
app.command("revoke")(revoke_command)
app.command("templates")(templates_command)


def _describe(runtime: StartedChain) -> dict[str, Any]:
    client = runtime.chain.client
    return {
        "chain": runtime.settings.chain,
        "rpc_url": client.url,
        "chain_id": client.chain_id,
        "block_number": client.block_number(),
        "node_pid": runtime.chain.node.pid if runtime.chain.node is not None else None,
        "operator_account": runtime.account.address,
        "data_dir": str(runtime.settings.data_dir.resolve()),
        "contracts": {
            name: {"address": c.address, "block_number": c.block_number}
            for name, c in runtime.deployment.contracts.items()
        },
    }


def _print_description(description: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json_line(description)
        return
    out.print(f"[bold]chain[/]      {description['chain']} at {description['rpc_url']}")
    out.print(f"chain id   {description['chain_id']}, block {description['block_number']}")
    out.print(f"operator   {description['operator_account']}")
    out.print(f"data dir   {description['data_dir']}")
    out.print("[bold]contracts[/]")
    for name, contract in description["contracts"].items():
        out.print(f"  {name:<20} {contract['address']}  (block {contract['block_number']})")


@app.command()
def serve(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the province service: start or reach the chain, deploy the contracts, wait.

    Stops cleanly on Ctrl-C or SIGTERM, stopping the embedded chain node with it.
    """
    settings = load_cli_settings(config, data_dir, chain, chain_id)
    preflight(settings)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def ready(service: Supervisor) -> None:
        description = service.describe(_describe(service.runtime))
        if as_json:
            print_json_line(description.to_json())
        else:
            _print_description(description.runtime, as_json=False)
            out.print(f"[bold]issuer[/]     {description.issuer_id} ({description.issuer_did})")
            out.print(f"[bold]api[/]        {description.url}  ({description.workers} workers)")
            for code, path in description.demo_tokens.items():
                out.print(f"[bold]demo[/]       API tokens of {code} in {path}")
            if description.demo_second_province:
                out.print(
                    f"[bold]demo[/]       second province: {description.demo_second_province}",
                    soft_wrap=True,
                )
            out.print("[green]ready[/] (Ctrl-C to stop)")
        sys.stdout.flush()

    try:
        run_service(settings, ready, stop)
    finally:
        if not as_json:
            out.print("stopped")


@chain_app.command("status")
def chain_status(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the chain head and the recorded contracts (needs a running service for local chains)."""
    settings = load_cli_settings(config, data_dir, chain, chain_id)
    client = connect_reader(settings)
    deployment = load_deployment(settings.data_dir / "deployment.json")
    contracts = {}
    if deployment is not None and deployment.chain_id == client.chain_id:
        contracts = {
            name: {
                "address": c.address,
                "block_number": c.block_number,
                "has_code": bool(client.code(c.address)),
            }
            for name, c in deployment.contracts.items()
        }
    status = {
        "rpc_url": client.url,
        "chain_id": client.chain_id,
        "block_number": client.block_number(),
        "client_version": client.rpc("web3_clientVersion"),
        "contracts": contracts,
    }
    if as_json:
        print_json_line(status)
        return
    out.print(f"{status['client_version']} at {client.url}")
    out.print(f"chain id {client.chain_id}, block {status['block_number']}")
    for name, contract in contracts.items():
        mark = "ok" if contract["has_code"] else "[red]no code[/]"
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
    settings = load_cli_settings(config, data_dir, chain, chain_id)
    runtime = start_chain(settings, province_keys=False)
    try:
        _print_description(_describe(runtime), as_json)
    finally:
        runtime.close()


def main() -> None:
    """Entry point of the ``tongban`` console script."""
    try:
        status = app(standalone_mode=False)
    except KNOWN_ERRORS as exc:
        err.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        sys.exit(2)
    except (click.exceptions.Abort, typer.Abort):
        sys.exit(130)
    except (click.ClickException, typer.TyperException) as exc:
        line = usage_line(exc, sys.argv[1:])
        err.print(Text.assemble(("error: ", "bold red"), line), soft_wrap=True)
        sys.exit(USAGE_EXIT_STATUS)
    # Without standalone mode, click returns the status of typer.Exit instead of exiting.
    sys.exit(status if isinstance(status, int) else 0)

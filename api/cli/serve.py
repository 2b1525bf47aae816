"""``tongban serve``: run the province service until Ctrl-C or SIGTERM.

``--json`` prints one line once the service is ready, in camelCase: the
chain's description (``api.cli.chain.describe_chain``) plus ``apiUrl``,
``issuerId``, ``issuerDid``, ``workers``, ``demoTokens`` (division code to the
tokens file), ``demoSecondProvince`` and ``walletUrl`` (the wallet's page, or null).
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli.chain import describe_chain, print_description
from api.cli.common import (
    ChainIdOption,
    ChainOption,
    ConfigOption,
    DataDirOption,
    JsonOption,
    load_cli_settings,
    out,
    print_json_line,
)

if TYPE_CHECKING:
    from api.runtime.supervisor import Supervisor

__all__ = ["serve_command"]

ROLES = ("all", "api", "writer")
RoleOption = Annotated[
    str | None,
    typer.Option(
        "--role",
        help="all (default: writer and API on this host), api (HTTP only) or writer "
        "(the writer only; several may run, one holds the lease). TONGBAN_ROLE.",
        show_default=False,
    ),
]


def serve_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
    role: RoleOption = None,
) -> None:
    """Run the province service: start or reach the chain, deploy the contracts, wait.

    Stops cleanly on Ctrl-C or SIGTERM, stopping the embedded chain node with it.
    SIGHUP loads the TLS certificate (TONGBAN_TLS_CERT) again. ``--role api``
    serves the HTTP API only and ``--role writer`` runs the writer only, both
    on a province already provisioned (docs/operations.md, "Several hosts").
    """
    from api.runtime.preflight import check_http_port, preflight
    from api.runtime.supervisor import run_service

    settings = load_cli_settings(config, data_dir, chain, chain_id)
    if role is not None:
        if role not in ROLES:
            from api.runtime.settings import SettingsError

            raise SettingsError(f"--role must be one of {', '.join(ROLES)}")
        settings = settings.model_copy(update={"role": role})
    if settings.role == "all":
        preflight(settings)
    elif settings.role == "api":
        # Split roles share the data directory (and its store): no lock to check.
        check_http_port(settings)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    reload = threading.Event()

    def request_reload(signum: int, frame: FrameType | None) -> None:
        reload.set()

    # SIGHUP: load the TLS certificate again (docs/tls.md); never the default, which ends us.
    signal.signal(signal.SIGHUP, request_reload)

    def ready(service: Supervisor) -> None:
        if service.runtime is None:
            raise RuntimeError("role 'all' always starts its chain runtime")
        description = service.describe(describe_chain(service.runtime))
        if as_json:
            print_json_line(description.to_json())
        else:
            print_description(description.runtime, as_json=False)
            out.print(f"[bold]issuer[/]     {description.issuer_id} ({description.issuer_did})")
            out.print(f"[bold]api[/]        {description.url}  ({description.workers} workers)")
            if description.wallet_url is not None:
                out.print(f"[bold]wallet[/]     {description.wallet_url}")
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
        if settings.role == "api":
            from api.runtime.roles import run_api_host

            run_api_host(settings, lambda service: _api_ready(service, as_json), stop, reload)
        elif settings.role == "writer":
            from api.runtime.roles import run_writer_host

            run_writer_host(settings, lambda found: _writer_ready(found, as_json), stop)
        else:
            run_service(settings, ready, stop, reload)
    finally:
        if not as_json:
            out.print("stopped")


def _api_ready(service: Supervisor, as_json: bool) -> None:
    from api.runtime.roles import api_host_description

    description = api_host_description(service)
    if as_json:
        print_json_line(description)
    else:
        out.print(
            f"[bold]api host[/]   {description['apiUrl']}  ({description['workers']} workers)"
        )
        out.print(
            f"[bold]chain[/]      {description['rpcUrl']} (chain id {description['chainId']})"
        )
        out.print("[green]ready[/] (Ctrl-C to stop)")
    sys.stdout.flush()


def _writer_ready(description: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json_line(description)
    else:
        out.print(f"[bold]writer[/]     {description['holder']}")
        out.print(
            f"[bold]lease[/]      {description['writerLeaseSeconds']:g} s; "
            "waiting for it or holding it"
        )
        out.print("[green]ready[/] (Ctrl-C to stop)")
    sys.stdout.flush()

"""``tongban serve``: run the province service until Ctrl-C or SIGTERM.

``--json`` prints one line once the service is ready, in camelCase: the
chain's description (``api.cli.chain.describe_chain``) plus ``apiUrl``,
``issuerId``, ``issuerDid``, ``workers``, ``demoTokens`` (division code to the
tokens file) and ``demoSecondProvince``.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

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


def serve_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the province service: start or reach the chain, deploy the contracts, wait.

    Stops cleanly on Ctrl-C or SIGTERM, stopping the embedded chain node with it.
    SIGHUP loads the TLS certificate (TONGBAN_TLS_CERT) again.
    """
    from api.runtime.preflight import preflight
    from api.runtime.supervisor import run_service

    settings = load_cli_settings(config, data_dir, chain, chain_id)
    preflight(settings)
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
        description = service.describe(describe_chain(service.runtime))
        if as_json:
            print_json_line(description.to_json())
        else:
            print_description(description.runtime, as_json=False)
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
        run_service(settings, ready, stop, reload)
    finally:
        if not as_json:
            out.print("stopped")

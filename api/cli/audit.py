"""``tongban audit``: export a province's log (auditor client), check an export on chain."""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from api.cli.common import (
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
    print_text,
)
from api.cli.options import TokenOption, UrlOption, declaration, remote
from api.runtime.settings import SettingsError
from ledger.audit.chain_view import ContractChainView
from ledger.audit.export import verify_export
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.contracts.deployment import load_deployment
from ledger.chain.contracts.registry import IssuerRegistry

audit_app = typer.Typer(
    help="Export audit logs and check them against the chain.", no_args_is_help=True
)

AddressOption = Annotated[
    str | None, typer.Option(help="Contract address (default: deployment record).")
]


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}: {task.completed} lines"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@audit_app.command("export")
def audit_export(
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the export (JSON Lines, mode 0600).")
    ],
    purpose: Annotated[str, typer.Option(help="The purpose code (X-Purpose).")] = "audit.review",
    legal_basis: Annotated[
        str, typer.Option(help="The legal basis code (X-Legal-Basis).")
    ] = "prc.pipl.art54",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Download a province's whole audit log (auditor client) for `tongban audit verify`.

    The export is streamed to a temporary file next to --out and renamed once
    complete, so a cut-off download never looks like an export. The download is
    itself an access event (audit.read) in the province's log.
    """
    api = remote(url, token, what="the province's API")
    directory = out_file.parent if str(out_file.parent) else Path()
    lines = size = 0
    fd, temporary = tempfile.mkstemp(prefix=".export-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle, _progress() as progress:
            task = progress.add_task("exporting", total=None)
            for line in api.stream_lines(
                "/audit/export", headers=declaration(purpose, legal_basis)
            ):
                handle.write(line)
                lines += 1
                size += len(line)
                progress.update(task, completed=lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, out_file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if as_json:
        print_json_line({"file": str(out_file), "lines": lines, "bytes": size})
    else:
        print_text(f"exported {lines} lines ({size} bytes) to {out_file}")


@audit_app.command("verify")
def audit_verify(
    export: Annotated[
        Path, typer.Argument(help="A log export (JSON Lines) from `tongban audit export`.")
    ],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    audit_anchor: AddressOption = None,
    registry: AddressOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check every event of an export against its receipts and every checkpoint on chain.

    Exit status 0 when everything checks out, 1 when something does not (the
    first finding names the first event or checkpoint that fails), 2 on error.
    """
    settings = load_cli_settings(config, data_dir, chain, chain_id)
    client = connect_reader(settings)
    deployment = load_deployment(settings.data_dir / "deployment.json")
    if audit_anchor is None or registry is None:
        if deployment is None or deployment.chain_id != client.chain_id:
            raise SettingsError(
                "no deployment record for this chain in the data directory; "
                "pass --audit-anchor and --registry"
            )
        audit_anchor = audit_anchor or deployment.address("AuditAnchor")
        registry = registry or deployment.address("IssuerRegistry")
    view = ContractChainView(AuditAnchor(client, audit_anchor), IssuerRegistry(client, registry))
    try:
        with export.open(encoding="utf-8") as lines:
            report = verify_export(lines, view)
    except FileNotFoundError:
        raise SettingsError(f"export file {export} does not exist") from None
    if as_json:
        print_json_line(
            {
                "valid": report.valid,
                "logId": report.log_id,
                "events": report.events,
                "checkpointsChecked": report.checkpoints_checked,
                "findings": [asdict(f) for f in report.findings],
            }
        )
    else:
        verdict = "[green]valid[/]" if report.valid else "[red]INVALID[/]"
        out.print(
            f"log {report.log_id}: {report.events} events, "
            f"{report.checkpoints_checked} anchored checkpoints checked: {verdict}"
        )
        for finding in report.findings:
            where = f"event {finding.index}" if finding.index is not None else "checkpoint"
            if finding.event_id:
                where += f" ({finding.event_id})"
            out.print(f"  {finding.kind}: {where}: {finding.message}", highlight=False)
    if not report.valid:
        raise typer.Exit(1)

"""``tongban audit``: export a province's log (auditor client), check an export on chain."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

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
from api.cli.options import URL_ENV, TokenOption, UrlOption, declaration, remote
from api.client.remote import RemoteApi
from api.runtime.settings import Settings, SettingsError
from ledger.audit.chain_view import ContractChainView
from ledger.audit.errors import AuditError
from ledger.audit.export import ConsistencyProver, ExportReport, Finding, verify_export
from ledger.audit.export_format import proof_nodes
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.contracts.deployment import load_deployment
from ledger.chain.contracts.registry import IssuerRegistry
from ledger.chain.node.client import ChainClient, checksum

audit_app = typer.Typer(
    help="Export audit logs and check them against the chain.", no_args_is_help=True
)

AddressOption = Annotated[
    str | None,
    typer.Option(help="Contract address (default: the configuration, else the deployment record)."),
]
AsOfOption = Annotated[
    int | None,
    typer.Option(
        "--as-of", min=0, metavar="BLOCK", help="Read the checkpoints as of this block number."
    ),
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
    as_of: AsOfOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check an export against its receipts and the checkpoints anchored on chain.

    The export is a snapshot: it is checked against every checkpoint anchored
    for at most its own size, and shown a prefix of the newest larger one by a
    consistency proof, from the export or (with --url and an auditor --token)
    from the province. Exit status 0 when nothing is wrong (even if not proven
    beyond its size), 1 when something is (the first finding names the first
    event or checkpoint that fails), 2 on error.
    """
    settings = load_cli_settings(config, data_dir, chain, chain_id)
    client = connect_reader(settings)
    view = ContractChainView(*_contracts(settings, client, audit_anchor, registry))
    prover = None
    if url or os.environ.get(URL_ENV):
        prover = _province_prover(remote(url, token, what="the province's API"))
    try:
        with export.open(encoding="utf-8") as lines:
            report = verify_export(lines, view, block=as_of, prover=prover)
    except FileNotFoundError:
        raise SettingsError(f"export file {export} does not exist") from None
    if as_json:
        print_json_line(_report_json(report))
    else:
        _print_report(report, asked_province=prover is not None)
    if not report.valid:
        raise typer.Exit(1)


def _contracts(
    settings: Settings, client: ChainClient, audit_anchor: str | None, registry: str | None
) -> tuple[AuditAnchor, IssuerRegistry]:
    """The AuditAnchor and its IssuerRegistry: options, else configuration, else deployment.

    Given only the AuditAnchor, the registry is the one that contract trusts;
    given both, they must belong together.
    """
    anchor_address = audit_anchor or settings.audit_anchor
    registry_address = registry or settings.registry
    if anchor_address is None:
        deployment = load_deployment(settings.data_dir / "deployment.json")
        if deployment is None or deployment.chain_id != client.chain_id:
            raise SettingsError(
                "no AuditAnchor address: pass --audit-anchor, set audit_anchor in the "
                "configuration, or use a data directory with this chain's deployment record"
            )
        anchor_address = deployment.address("AuditAnchor")
        registry_address = registry_address or deployment.address("IssuerRegistry")
    anchor = AuditAnchor(client, _address(client, anchor_address, "AuditAnchor"))
    trusted = anchor.registry_address()
    if registry_address is None:
        return anchor, IssuerRegistry(client, trusted)
    checked = _address(client, registry_address, "IssuerRegistry")
    if checked != trusted:
        raise SettingsError("the AuditAnchor does not trust that IssuerRegistry")
    return anchor, IssuerRegistry(client, checked)


def _address(client: ChainClient, address: str, name: str) -> str:
    try:
        checked = checksum(address)
    except ValueError:
        raise SettingsError(f"the {name} address is not an EVM address") from None
    if not client.code(checked):
        raise SettingsError(f"no contract at the {name} address on chain {client.chain_id}")
    return checked


def _province_prover(api: RemoteApi) -> ConsistencyProver:
    """Fetches consistency proofs from ``GET /audit/proofs/consistency`` (auditor role)."""

    def prove(size1: int, size2: int) -> Sequence[bytes]:
        body = api.get(f"/audit/proofs/consistency?from={size1}&to={size2}")
        if not isinstance(body, dict) or (body.get("from"), body.get("to")) != (size1, size2):
            raise AuditError("the province answered with a proof for other tree sizes")
        return proof_nodes(body.get("proof"), "the province's consistency proof")

    return prove


def _report_json(report: ExportReport) -> dict[str, Any]:
    beyond = None
    if report.beyond is not None:
        anchored = report.beyond.checkpoint
        beyond = {
            "index": anchored.index,
            "treeSize": anchored.tree_size,
            "blockNumber": anchored.block_number,
            "provenBy": report.beyond.proven_by,
        }
    return {
        "valid": report.valid,
        "proven": report.proven,
        "logId": report.log_id,
        "treeSize": report.tree_size,
        "events": report.events,
        "checkpointsChecked": report.checkpoints_checked,
        "asOfBlock": report.as_of_block,
        "beyond": beyond,
        "notProven": report.unproven_note(),
        "findings": [_finding_json(f) for f in report.findings],
    }


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "message": finding.message,
        "index": finding.index,
        "eventId": finding.event_id,
        "treeSize": finding.tree_size,
    }


def _place(finding: Finding) -> str:
    """Where a finding is, as a prefix of its message ('' when it names no place)."""
    if finding.index is not None:
        where = f"event {finding.index}"
        if finding.event_id:
            where += f" ({finding.event_id})"
        return where + ": "
    if finding.tree_size is not None:
        return f"tree size {finding.tree_size}: "
    return ""


def _print_report(report: ExportReport, *, asked_province: bool) -> None:
    if not report.valid:
        verdict = "[red]INVALID[/]"
    elif report.proven:
        verdict = "[green]valid[/]"
    else:
        verdict = f"[green]valid[/] up to size {report.tree_size}"
    as_of = "" if report.as_of_block is None else f" as of block {report.as_of_block}"
    plural = "" if report.checkpoints_checked == 1 else "s"
    out.print(
        f"log {report.log_id}: {report.events} events, {report.checkpoints_checked} "
        f"anchored checkpoint{plural} checked{as_of}: {verdict}",
        highlight=False,
        soft_wrap=True,
    )
    beyond = report.beyond
    if report.valid and beyond is not None and beyond.proven_by is not None:
        anchored = beyond.checkpoint
        print_text(
            f"  consistent with checkpoint #{anchored.index} of {anchored.tree_size} events "
            f"(block {anchored.block_number}), proof from the {beyond.proven_by}"
        )
    note = report.unproven_note() if report.valid else None
    if note is not None:
        hint = "" if asked_province else "; pass --url and an auditor's --token to fetch one"
        print_text(f"  {note}{hint}")
    for finding in report.findings:
        print_text(f"  {finding.kind}: {_place(finding)}{finding.message}")

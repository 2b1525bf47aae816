"""``tongban directory sign|verify|show``: the consortium directory, for operators.

The directory lists every province's API URL and wallet origin (docs/citizen-timeline.md).
Each province's operator signs it with the province's registered SM2 signing key (``sign``,
from the data directory's keystore, as ``tongban serve`` unlocks it); ``verify`` checks the
signatures against the keys IssuerRegistry holds on the chain; ``show`` lists the provinces.
The service serves the file named by the ``consortium_directory`` setting.
"""

from __future__ import annotations

import json
import time
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
    print_json_line,
    print_text,
)
from api.cli.options import InputFileError, read_json

__all__ = ["directory_app"]

directory_app = typer.Typer(
    help="The signed consortium directory: every province's URLs, for the citizen's wallets.",
    no_args_is_help=True,
)

FileArgument = Annotated[str, typer.Argument(help="The directory (a JSON file, or - for stdin).")]


def _refused(exc: Exception) -> InputFileError:
    return InputFileError(f"the directory is refused: {exc}")


@directory_app.command("sign")
def directory_sign(
    source: FileArgument,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write it (default: over the file).")
    ] = None,
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="Signing key id (default: signing_key_id).")
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add (or replace) this province's signature, by its registered SM2 signing key."""
    from api.province.directory import DirectoryError, sign_directory
    from ledger.crypto.errors import KeystoreError
    from ledger.crypto.keystore import Keystore
    from ledger.crypto.signer import LocalSigner

    settings = load_cli_settings(config, data_dir, None, None)
    document = read_json(source)
    fragment = key_id or settings.signing_key_id
    try:
        key = Keystore(settings.data_dir / "keys").load(
            f"signing-{fragment}", settings.key_passphrase.get_secret_value()
        )
    except KeystoreError as exc:
        raise InputFileError(f"the signing key {fragment} cannot be unlocked: {exc}") from None
    signer = LocalSigner(f"did:tongban:{settings.chain_id}:{settings.issuer_id}#{fragment}", key)
    try:
        signed = sign_directory(document, settings.issuer_id, signer)
    except DirectoryError as exc:
        raise _refused(exc) from None
    target = out or (None if source == "-" else Path(source))
    text = json.dumps(signed, ensure_ascii=False, indent=2) + "\n"
    if target is None:
        if as_json:
            print_json_line(signed)
        else:
            print_text(text.rstrip("\n"))
        return
    target.write_text(text, "utf-8")
    count = len(signed["signatures"])
    if as_json:
        print_json_line({"file": str(target), "issuerId": settings.issuer_id, "signatures": count})
        return
    print_text(f"signed as issuer {settings.issuer_id} ({count} signatures): {target}")


@directory_app.command("verify")
def directory_verify(
    source: FileArgument,
    registry: Annotated[
        str | None,
        typer.Option("--registry", help="IssuerRegistry address (default: the settings')."),
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    chain_id: ChainIdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the form, the validity window and the signatures against IssuerRegistry."""
    from api.province.directory import DirectoryError, registry_keys, verify_directory
    from api.runtime.settings import SettingsError
    from ledger.chain.contracts.registry import IssuerRegistry

    settings = load_cli_settings(config, data_dir, chain, chain_id)
    address = registry or settings.registry
    if address is None:
        raise SettingsError("name IssuerRegistry's address with --registry (or TONGBAN_REGISTRY)")
    document = read_json(source)
    client = connect_reader(settings)
    try:
        directory = verify_directory(
            document, registry_keys(IssuerRegistry(client, address)), int(time.time() * 1000)
        )
    except DirectoryError as exc:
        if as_json:
            print_json_line({"valid": False, "reason": exc.reason, "detail": exc.detail})
            raise typer.Exit(1) from None
        raise _refused(exc) from None
    signers = sorted({int(s["issuerId"]) for s in document.get("signatures", [])})
    if as_json:
        print_json_line({"valid": True, "version": directory.version, "signedBy": signers})
        return
    print_text(f"valid: version {directory.version}, signed by issuers {signers}")


@directory_app.command("show")
def directory_show(source: FileArgument, as_json: JsonOption = False) -> None:
    """List the provinces, the version and the validity window (signatures not checked)."""
    from api.province.directory import DirectoryError, parse_directory

    document = read_json(source)
    try:
        directory = parse_directory(document)
    except DirectoryError as exc:
        raise _refused(exc) from None
    rows: list[dict[str, Any]] = [
        {
            "issuerId": p.issuer_id,
            "divisionCode": p.division_code,
            "name": p.name,
            "apiBaseUrl": p.api_base_url,
            "walletOrigin": p.wallet_origin,
        }
        for p in directory.provinces
    ]
    if as_json:
        print_json_line(
            {
                "version": directory.version,
                "validFrom": document["validFrom"],
                "validUntil": document["validUntil"],
                "provinces": rows,
            }
        )
        return
    print_text(
        f"version {directory.version}, valid {document['validFrom']} to {document['validUntil']}"
    )
    for row in rows:
        cells = [row["issuerId"], row["divisionCode"], row["name"], row["apiBaseUrl"]]
        print_text("  ".join(str(cell) for cell in [*cells, row["walletOrigin"] or "-"]))

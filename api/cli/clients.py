"""``tongban clients``: API clients of this province (tokens shown once, stored as hashes)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import (
    ConfigOption,
    DataDirOption,
    JsonOption,
    load_cli_settings,
    out,
    print_json_line,
    print_text,
)
from api.province.clients import (
    ALL_AGENCIES,
    AgencyScope,
    ApiClient,
    ClientError,
    ClientRegistry,
    IssuedClient,
    Role,
)
from api.runtime.settings import Settings, SettingsError
from api.runtime.store import open_store
from ledger.audit.events import format_time

clients_app = typer.Typer(
    help="Create, list, update and revoke API clients; bind them to TLS client certificates.",
    no_args_is_help=True,
)

CertOption = Annotated[
    Path | None,
    typer.Option(
        "--cert",
        help="PEM client certificate: the client authenticates by its public key over TLS "
        "(docs/tls.md).",
        dir_okay=False,
    ),
]

AgenciesOption = Annotated[
    str | None,
    typer.Option(
        "--agencies",
        help="Comma-separated 统一社会信用代码 of the registered agencies the client may issue "
        "for ('' for none; see `tongban agencies list`).",
    ),
]


def parse_agencies(text: str) -> list[str]:
    """The codes of ``--agencies CODE,CODE`` (empty items ignored, so ``''`` is none)."""
    return [part.strip() for part in text.split(",") if part.strip()]


@contextmanager
def _registry(settings: Settings) -> Iterator[ClientRegistry]:
    """The province's registry in the store its settings name (SQLite file or PostgreSQL)."""
    db = open_store(settings)
    try:
        yield ClientRegistry(db)
    finally:
        db.close()


def _fingerprint(cert: Path | None) -> bytes | None:
    # Imported here: it loads the HTTP stack, which list and revoke never need.
    from api.runtime.tls import certificate_fingerprint

    return None if cert is None else certificate_fingerprint(cert)


def _describe(client: ApiClient) -> dict[str, object]:
    """The client as the API's ``ClientOut`` describes it (``GET /clients``)."""
    revoked_at = client.revoked_at_ms
    return {
        "clientId": client.client_id,
        "name": client.name,
        "organisation": client.organisation,
        "roles": sorted(r.value for r in client.roles),
        "createdAt": format_time(client.created_at_ms),
        "revokedAt": None if revoked_at is None else format_time(revoked_at),
        "active": client.active,
        "agencies": None if client.agencies is None else sorted(client.agencies),
    }


def _agencies_text(agencies: AgencyScope) -> str:
    if agencies is None:
        return "every agency of the province"
    return ", ".join(sorted(agencies)) or "none"


def _create(
    registry: ClientRegistry,
    name: str,
    org: str,
    roles: list[Role],
    client_id: str | None,
    fingerprint: bytes | None,
    agencies: list[str],
) -> IssuedClient:
    try:
        if fingerprint is not None and registry.find_by_certificate(fingerprint) is not None:
            raise SettingsError("that certificate key is bound to another client")
        issued = registry.create(name, org, roles, client_id=client_id, agencies=agencies)
        if fingerprint is not None:
            registry.bind_certificate(issued.client.client_id, fingerprint)
    except ClientError as exc:
        raise SettingsError(str(exc)) from None
    return issued


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="What the client is, e.g. 'Zhejiang verifier'.")],
    org: Annotated[str, typer.Option(help="Organisation code put in access events.")],
    role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
    client_id: Annotated[
        str | None, typer.Option("--id", help="Client id (default: random).")
    ] = None,
    cert: CertOption = None,
    agencies: AgenciesOption = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a client and print its token: the only time the token is shown.

    An issuer client issues only for the agencies ``--agencies`` names (none without it).
    """
    settings = load_cli_settings(config, data_dir, None, None)
    fingerprint = _fingerprint(cert)
    codes = parse_agencies(agencies or "")
    with _registry(settings) as registry:
        issued = _create(registry, name, org, role, client_id, fingerprint, codes)
    description = {**_describe(issued.client), "token": issued.token}
    if fingerprint is not None:
        description["certificateSpkiSha256"] = fingerprint.hex()
    if as_json:
        print_json_line(description)
        return
    roles = ", ".join(sorted(r.value for r in issued.client.roles))
    out.print(f"client {issued.client.client_id} ({roles})")
    out.print(f"token  {issued.token}", highlight=False)
    if Role.ISSUER in issued.client.roles:
        print_text(f"issues for {_agencies_text(issued.client.agencies)}")
    out.print("[yellow]store the token now: it is not kept and cannot be shown again[/]")


@clients_app.command("list")
def clients_list(
    config: ConfigOption = None, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """List clients (never their tokens)."""
    settings = load_cli_settings(config, data_dir, None, None)
    with _registry(settings) as registry:
        clients = registry.list()
    if as_json:
        print_json_line({"clients": [_describe(c) for c in clients]})
        return
    for client in clients:
        state = "active" if client.active else "revoked"
        line = f"{client.client_id:<28} {state:<8} {client.organisation:<10} {client.name}"
        if Role.ISSUER in client.roles:
            line += f"  issues for {_agencies_text(client.agencies)}"
        print_text(line)


@clients_app.command("update")
def clients_update(
    client_id: Annotated[str, typer.Argument(help="The client to change.")],
    agencies: AgenciesOption = None,
    all_agencies: Annotated[
        bool,
        typer.Option(
            "--all-agencies",
            help="Let the client issue for every agency of the province.",
            metavar="",
        ),
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change the agencies a client may issue for; takes effect at once in every worker."""
    if (agencies is not None) == all_agencies:
        raise SettingsError("give either --agencies CODE,CODE or --all-agencies")
    scope = ALL_AGENCIES if all_agencies else parse_agencies(agencies or "")
    settings = load_cli_settings(config, data_dir, None, None)
    try:
        with _registry(settings) as registry:
            client = registry.set_agencies(client_id, scope)
    except ClientError as exc:
        raise SettingsError(str(exc)) from None
    if as_json:
        print_json_line(_describe(client))
        return
    print_text(f"{client.client_id} issues for {_agencies_text(client.agencies)}")


@clients_app.command("revoke")
def clients_revoke(
    client_id: Annotated[str, typer.Argument(help="The client to revoke.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a client: its token stops working at once."""
    settings = load_cli_settings(config, data_dir, None, None)
    try:
        with _registry(settings) as registry:
            revoked = registry.revoke(client_id)
    except ClientError as exc:
        raise SettingsError(str(exc)) from None
    if as_json:
        print_json_line(_describe(revoked))
        return
    print_text(f"revoked {revoked.client_id}")


@clients_app.command("bind-cert")
def clients_bind_cert(
    client_id: Annotated[str, typer.Argument(help="The client to bind.")],
    cert: CertOption = None,
    unbind: Annotated[
        bool, typer.Option("--unbind", help="Remove the client's certificate binding.", metavar="")
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bind a client to a TLS client certificate's public key (SPKI SHA-256), or unbind it.

    The binding is the key, not the subject name: a renewed certificate with a
    new key needs binding again. Takes effect at once in every worker.
    """
    if (cert is not None) == unbind:
        raise SettingsError("give either --cert PATH or --unbind")
    settings = load_cli_settings(config, data_dir, None, None)
    fingerprint = _fingerprint(cert)
    try:
        with _registry(settings) as registry:
            client = registry.bind_certificate(client_id, fingerprint)
    except ClientError as exc:
        raise SettingsError(str(exc)) from None
    shown = None if fingerprint is None else fingerprint.hex()
    if as_json:
        print_json_line({**_describe(client), "certificateSpkiSha256": shown})
        return
    if shown is None:
        print_text(f"unbound {client.client_id} from its certificate")
    else:
        print_text(f"bound {client.client_id} to certificate key sha256:{shown}")

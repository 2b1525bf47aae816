"""``tongban keys``: the province's signing keys, through its running service (operator token).

Every command calls the service's ``/issuer`` routes (``--url``/``--token`` or
``TONGBAN_API_URL``/``TONGBAN_API_TOKEN``; the URL defaults to
``http://127.0.0.1:8080``), so keys are created in the service's own keystore
and registered by its own outbox. Chain changes come back as operations;
``--wait`` follows one until it is final (or failed).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli.common import JsonOption, out, print_json_line, print_text
from api.cli.options import URL_ENV, InputFileError, TokenOption, UrlOption, remote
from api.client.remote import RemoteApi

__all__ = ["DEFAULT_URL", "keys_app", "parse_time"]

DEFAULT_URL = "http://127.0.0.1:8080"
"""The service's address when neither ``--url`` nor ``TONGBAN_API_URL`` is given."""

_POLL_SECONDS = 0.5
_OPEN_STATES = ("queued", "submitted", "confirmed")

keys_app = typer.Typer(
    help="The province's signing keys: list, rotate, retire, compromise, respond.",
    no_args_is_help=True,
)

WaitOption = Annotated[
    bool,
    typer.Option("--wait", help="Follow the operation until it is final or failed.", metavar=""),
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds --wait waits at most.", min=1)
]


def _api(url: str | None, token: str | None) -> RemoteApi:
    return remote(url or os.environ.get(URL_ENV) or DEFAULT_URL, token, what="the service")


def parse_time(value: str) -> int:
    """Unix seconds from ``value``: an integer, or an ISO 8601 time with a zone (``...Z``)."""
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputFileError(
            "give the time as Unix seconds or ISO 8601, e.g. 2026-03-01T08:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise InputFileError("give the time with its zone, e.g. 2026-03-01T08:00:00Z")
    return int(moment.timestamp())


def _when(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _follow(api: RemoteApi, operation: dict[str, Any], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while operation["state"] in _OPEN_STATES:
        if time.monotonic() > deadline:
            raise InputFileError(
                f"operation {operation['operationId']} is still {operation['state']} after "
                f"{timeout:g} s; follow it with `tongban keys operation {operation['operationId']}`"
            )
        time.sleep(_POLL_SECONDS)
        operation = api.get(f"/operations/{operation['operationId']}")
    return operation


def _print_operation(operation: dict[str, Any]) -> None:
    line = f"operation {operation['operationId']} {operation['function']}: {operation['state']}"
    if operation.get("blockNumber") is not None:
        line += f" in block {operation['blockNumber']}"
    if operation.get("error"):
        line += f" ({operation['error']})"
    print_text(line)


def _finish(
    api: RemoteApi,
    operation: dict[str, Any],
    extra: dict[str, Any],
    *,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    if wait:
        operation = _follow(api, operation, timeout)
    if as_json:
        # Alone, the operation is what GET /operations/{id} answers; else it is one member.
        print_json_line({**extra, "operation": operation} if extra else operation)
    else:
        _print_operation(operation)
    if operation["state"] == "failed":
        raise typer.Exit(1)


def _operation(
    url: str | None,
    token: str | None,
    request: tuple[str, str, dict[str, Any] | None],
    extra: dict[str, Any],
    *,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Send ``request`` (method, path, body), which answers with an operation; report it."""
    api = _api(url, token)
    method, path, body = request
    operation = api.request(method, path, body).body
    _finish(api, operation, extra, wait=wait, timeout=timeout, as_json=as_json)


@keys_app.command("list")
def keys_list(
    url: UrlOption = None, token: TokenOption = None, as_json: JsonOption = False
) -> None:
    """The issuer's keys with their validity history, and which one signs now."""
    issuer = _api(url, token).get("/issuer")
    if as_json:
        print_json_line(issuer)
        return
    print_text(
        f"issuer {issuer['issuerId']} {issuer['did']} ({issuer['status']}), "
        f"active key: {issuer['activeKeyId'] or 'none'}"
    )
    table = Table("key id", "valid from", "retired", "compromised from", "held", "state")
    for key in issuer["keys"]:
        state = "active" if key["active"] else ("valid" if key["validNow"] else "not valid")
        table.add_row(
            key["keyId"],
            _when(key["validFrom"]),
            _when(key["retiredAt"]),
            _when(key["compromisedFrom"]),
            "yes" if key["held"] else "no",
            state,
        )
    out.print(table)


@keys_app.command("rotate")
def keys_rotate(
    key_id: Annotated[
        str | None, typer.Option("--key-id", help="The new key's id (default: next key-<n>).")
    ] = None,
    valid_from: Annotated[
        str | None,
        typer.Option("--valid-from", help="From when it signs (default: once registered)."),
    ] = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = 120.0,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a new signing key in the service's keystore and register it on chain."""
    api = _api(url, token)
    body: dict[str, Any] = {}
    if key_id is not None:
        body["keyId"] = key_id
    if valid_from is not None:
        body["validFrom"] = parse_time(valid_from)
    answer = api.post("/issuer/keys", body)
    if not as_json:
        print_text(f"key {answer['keyId']} created ({answer['publicKey']})")
    _finish(
        api,
        answer["operation"],
        {"keyId": answer["keyId"], "publicKey": answer["publicKey"]},
        wait=wait,
        timeout=timeout,
        as_json=as_json,
    )


@keys_app.command("retire")
def keys_retire(
    key_id: Annotated[str, typer.Argument(help="The key to retire.")],
    wait: WaitOption = False,
    timeout: TimeoutOption = 120.0,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Retire a key from the block that retires it (what it signed before stays valid)."""
    request = ("POST", f"/issuer/keys/{key_id}/retire", None)
    _operation(url, token, request, {"keyId": key_id}, wait=wait, timeout=timeout, as_json=as_json)


@keys_app.command("compromise")
def keys_compromise(
    key_id: Annotated[str, typer.Argument(help="The compromised key.")],
    compromised_from: Annotated[
        str,
        typer.Option(
            "--from", help="Earliest time it may have leaked: Unix seconds or ISO 8601 with zone."
        ),
    ],
    wait: WaitOption = False,
    timeout: TimeoutOption = 120.0,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark a key compromised: credentials anchored from that time on stop verifying."""
    since = parse_time(compromised_from)
    request = ("POST", f"/issuer/keys/{key_id}/compromise", {"compromisedFrom": since})
    extra = {"keyId": key_id, "compromisedFrom": since}
    _operation(url, token, request, extra, wait=wait, timeout=timeout, as_json=as_json)


@keys_app.command("respond")
def keys_respond(
    key_id: Annotated[str, typer.Argument(help="The compromised key.")],
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke what the compromise voids and re-issue it under the active key."""
    answer = _api(url, token).post(f"/issuer/keys/{key_id}/compromise-response")
    if as_json:
        print_json_line(answer)
        return
    print_text(
        f"{answer['affected']} credentials affected by {key_id}: {answer['revoked']} revoked, "
        f"{answer['reissued']} re-issued under {answer['newKeyId']}"
    )
    for old, new in answer["replacements"].items():
        print_text(f"  {old} -> {new}")


@keys_app.command("operation")
def keys_operation(
    operation_id: Annotated[int, typer.Argument(help="The operation id.", min=1)],
    wait: WaitOption = False,
    timeout: TimeoutOption = 120.0,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show how far an operation got (with --wait: until final or failed)."""
    request = ("GET", f"/operations/{operation_id}", None)
    _operation(url, token, request, {}, wait=wait, timeout=timeout, as_json=as_json)

"""Pieces shared by the commands that call a province's API: options, headers, JSON input.

The URL and token come from ``--url``/``--token`` or from ``TONGBAN_API_URL``/
``TONGBAN_API_TOKEN`` (a token in the environment stays out of shell history and
``ps``). JSON documents the commands send (credentials, presentations, claims) are
read strictly, as the API would read them: I-JSON only, capped in size, so a file
with a duplicate key is refused here instead of meaning something else there.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from api.client.remote import RemoteApi
from credentials.errors import InputRejectedError
from credentials.ijson import Limits, parse

__all__ = [
    "DOCUMENT_LIMITS",
    "InputFileError",
    "TokenOption",
    "UrlOption",
    "declaration",
    "read_json",
    "read_json_lines",
    "remote",
]

URL_ENV = "TONGBAN_API_URL"
TOKEN_ENV = "TONGBAN_API_TOKEN"  # noqa: S105 (the variable's name, not a token)

DOCUMENT_LIMITS = Limits(max_bytes=1024 * 1024, max_depth=32, max_array=1000)
"""What a document read from a file may be: the API's own body caps (1 MiB, depth 32)."""

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help=f"The province API, e.g. http://127.0.0.1:8080 ({URL_ENV})."),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token", help=f"The API client's bearer token ({TOKEN_ENV}).", show_default=False
    ),
]


class InputFileError(Exception):
    """A file (or stdin) the command was given cannot be read or is not the JSON it needs."""


def remote(url: str | None, token: str | None, *, what: str = "the province API") -> RemoteApi:
    """A client for ``url`` (or ``TONGBAN_API_URL``) with ``token`` (or ``TONGBAN_API_TOKEN``)."""
    url = url or os.environ.get(URL_ENV)
    token = token or os.environ.get(TOKEN_ENV)
    if not url:
        raise InputFileError(f"give the URL of {what} with --url (or {URL_ENV})")
    if not token:
        raise InputFileError(f"give an API token for {what} with --token (or {TOKEN_ENV})")
    return RemoteApi(url, token)


def declaration(purpose: str, legal_basis: str) -> dict[str, str]:
    """The ``X-Purpose``/``X-Legal-Basis`` headers of a request that touches personal data."""
    return {"X-Purpose": purpose, "X-Legal-Basis": legal_basis}


def _read_bytes(source: str, cap: int) -> bytes:
    if source == "-":
        data = sys.stdin.buffer.read(cap + 1)
    else:
        try:
            with Path(source).open("rb") as handle:
                data = handle.read(cap + 1)
        except FileNotFoundError:
            raise InputFileError(f"file {source} does not exist") from None
        except OSError as exc:
            raise InputFileError(f"cannot read {source}: {exc.strerror}") from None
    if len(data) > cap:
        raise InputFileError(f"{_name(source)} is larger than {cap} bytes")
    return data


def _name(source: str) -> str:
    return "standard input" if source == "-" else source


def read_json(source: str, *, limits: Limits = DOCUMENT_LIMITS) -> dict[str, Any]:
    """The JSON object in file ``source`` (``-``: standard input), read as strict I-JSON.

    Raises ``InputFileError`` naming the file and the rule broken, never its content.
    """
    data = _read_bytes(source, limits.max_bytes)
    try:
        document = parse(data, limits)
    except InputRejectedError as exc:
        raise InputFileError(f"{_name(source)} is not acceptable JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InputFileError(f"{_name(source)} must hold one JSON object")
    return document


def read_json_lines(
    path: Path, *, limits: Limits = DOCUMENT_LIMITS
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSON Lines file.

    Raises ``InputFileError`` naming the first bad line (never its content).
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputFileError(f"file {path} does not exist") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                document = parse(line, limits)
            except InputRejectedError as exc:
                raise InputFileError(
                    f"{path} line {number} is not acceptable JSON: {exc}"
                ) from None
            if not isinstance(document, dict):
                raise InputFileError(f"{path} line {number} must hold one JSON object")
            yield number, document

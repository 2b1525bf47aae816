"""``tongban document``: the certificate file (OFD or PDF) a credential names by SM3.

``tongban document digest FILE`` prints the ``certificateFile`` member of an issue
request (``{"digestSm3", "mediaType", "size"}``), read from the file itself.
``tongban document verify FILE CREDENTIAL`` asks a province (``POST
/documents/verify``) whether FILE is exactly the file CREDENTIAL names, with the
credential's full verification: one verdict line, the file check, and the checks
that failed. Exit status 0 when VALID, 1 when not, 2 when the input or the API
could not be used. No offline mode: whether the credential is anchored needs a
province's chain index (docs/certificate-file.md).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.certificates import read_certificate_file
from api.cli.common import JsonOption, print_json_line, print_text
from api.cli.options import (
    InputFileError,
    TokenOption,
    UrlOption,
    declaration,
    read_json,
    remote,
)
from api.client.documents import verify_document
from credentials.file_binding import FileBindingError, describe_file

__all__ = ["MediaType", "digest_command", "document_app", "verify_command"]

document_app = typer.Typer(
    help="The certificate file (OFD or PDF) a credential names by its SM3 digest.",
    no_args_is_help=True,
)

PURPOSE_HELP = "Why personal data is processed: the access event's purpose code (X-Purpose)."
LEGAL_BASIS_HELP = "The legal basis code for processing it (X-Legal-Basis)."


class MediaType(StrEnum):
    """The media types a certificate file may have."""

    OFD = "application/ofd"
    PDF = "application/pdf"


FileArgument = Annotated[
    Path, typer.Argument(help="The certificate file (OFD or PDF).", show_default=False)
]


@document_app.command("digest")
def digest_command(
    file: FileArgument,
    media_type: Annotated[
        MediaType | None,
        typer.Option(
            "--media-type",
            help="The file's media type (default: what its bytes show).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the issue request's certificateFile member for FILE (SM3, media type, size).

    The member is JSON either way (``--json`` is accepted like every command's).
    """
    data = read_certificate_file(file)
    try:
        named = describe_file(data, None if media_type is None else media_type.value)
    except FileBindingError:
        raise InputFileError(
            f"{file} is neither a PDF nor an OFD document (give --media-type to name it)"
        ) from None
    print_json_line(named.to_request_json())


def _line(answer: dict[str, Any]) -> list[str]:
    digests = ", ".join(str(d) for d in answer.get("credentialDigests", []))
    checked = answer["file"]
    lines = [
        f"{answer.get('verdict')}: credential {digests} {answer.get('credentialVerdict')}, "
        f"file {checked.get('status')}",
        f"file: {checked.get('reasonCode')}: {checked.get('message')} "
        f"(sm3 {checked.get('digestSm3')}, {checked.get('mediaType', 'neither PDF nor OFD')}, "
        f"{checked.get('size')} bytes)",
    ]
    for check in answer.get("checks", []):
        if check.get("status") not in ("VALID", "SKIPPED") or (
            check.get("status") == "SKIPPED" and check.get("reasonCode") != "not_applicable"
        ):
            lines.append(
                f"check {check.get('number')} {check.get('name')}: {check.get('status')} "
                f"{check.get('reasonCode')}: {check.get('message')}"
            )
    return lines


@document_app.command("verify")
def verify_command(
    file: FileArgument,
    credential: Annotated[
        str,
        typer.Argument(
            help="The credential naming it: a file, or - for stdin.", show_default=False
        ),
    ],
    purpose: Annotated[str, typer.Option(help=PURPOSE_HELP)] = "credential.verification",
    legal_basis: Annotated[str, typer.Option(help=LEGAL_BASIS_HELP)] = "prc.pipl.art13",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify CREDENTIAL at a province and whether FILE is exactly the file it names.

    Exit status 0 when VALID (the credential verifies and FILE is its file), 1 when
    not, 2 when the input or the API could not be used.
    """
    api = remote(url, token, what="the verifying province's API")
    data = read_certificate_file(file)
    document = read_json(credential)
    answer = verify_document(api, data, document, declaration(purpose, legal_basis))
    if as_json:
        print_json_line(answer)
    else:
        for line in _line(answer):
            print_text(line)
    if answer.get("verdict") != "VALID":
        raise typer.Exit(1)

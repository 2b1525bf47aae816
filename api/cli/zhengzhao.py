"""``tongban zhengzhao lookup``: a certificate of a province by its 证照标识.

``tongban zhengzhao lookup IDENTIFIER`` asks the issuing province (``POST
/zhengzhao/lookup``; the identifier goes in the body, never in the URL) for the
certificate's type, agency, issuer, validity, status and anchoring. With
``--presentation FILE`` (a presentation the holder signed over a challenge of that
province, domain its DID: ``tongban wallet present``) the claims the holder
disclosed are printed too, once the province verified it. Exit status 0 when the
certificate is found, 1 when the province has none this client may see (unknown
and not visible are one answer), 2 when the input or the API could not be used.
The identifier is checked here first (its check character), so a typo never
reaches the province.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli.common import JsonOption, print_json_line, print_text
from api.cli.options import InputFileError, TokenOption, UrlOption, declaration, read_json, remote
from api.client.remote import RemoteApiError
from credentials.ijson import PRESENTATION_LIMITS
from credentials.zhengzhao.errors import IdentifierError
from credentials.zhengzhao.identifier import parse_zhengzhao_id

__all__ = ["LOOKUP_PATH", "lookup_command", "zhengzhao_app"]

LOOKUP_PATH = "/zhengzhao/lookup"
"""The route."""

zhengzhao_app = typer.Typer(
    help="电子证照: look a certificate up by its 证照标识 at its issuing province.",
    no_args_is_help=True,
)

PURPOSE_HELP = "Why personal data is processed: the access event's purpose code (X-Purpose)."
LEGAL_BASIS_HELP = "The legal basis code for processing it (X-Legal-Basis)."
NOT_FOUND_EXIT = 1


def _lines(answer: dict[str, Any]) -> list[str]:
    agency = answer.get("issuingAgency") or {}
    anchoring = answer.get("anchoring") or {}
    block = anchoring.get("blockNumber")
    lines = [
        f"{answer.get('identifier')}",
        f"type: {answer.get('typeName')} ({answer.get('typeCode')})",
        f"agency: {agency.get('name')} ({agency.get('code')}), "
        f"jurisdiction {answer.get('jurisdiction')}, trust grade {answer.get('trustGrade')}",
        f"issuer: {answer.get('issuer')}",
        f"valid: {answer.get('validFrom')} to {answer.get('validUntil') or 'no end'}",
        f"status: {answer.get('status')}",
        f"anchoring: {anchoring.get('state')}" + (f" in block {block}" if block else ""),
    ]
    authorization = answer.get("authorization") or {}
    claims = answer.get("claims")
    if isinstance(claims, dict):
        lines.append("claims disclosed by the holder:")
        lines.extend(f"  {name}: {value}" for name, value in sorted(claims.items()))
    elif authorization.get("presented"):
        reason = authorization.get("reason")
        detail = authorization.get("checkReason")
        lines.append(f"no claims: {reason}" + (f" ({detail})" if detail else ""))
    return lines


@zhengzhao_app.command("lookup")
def lookup_command(
    identifier: Annotated[
        str, typer.Argument(help="The 证照标识 (check character included).", show_default=False)
    ],
    presentation: Annotated[
        str | None,
        typer.Option(
            "--presentation",
            help="The holder's signed presentation authorizing its claims: a file, or - for stdin.",
            show_default=False,
        ),
    ] = None,
    purpose: Annotated[str, typer.Option(help=PURPOSE_HELP)] = "credential.verification",
    legal_basis: Annotated[str, typer.Option(help=LEGAL_BASIS_HELP)] = "prc.pipl.art13",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Look IDENTIFIER up at its issuing province: no claims without the holder's presentation.

    Exit status 0 when found, 1 when the province has no certificate this client
    may see with it, 2 when the input or the API could not be used.
    """
    try:
        parse_zhengzhao_id(identifier)
    except IdentifierError as error:
        # The error names the field, never the value.
        raise InputFileError(f"the identifier is not a well-formed 证照标识: {error}") from None
    api = remote(url, token, what="the issuing province's API")
    body: dict[str, Any] = {"identifier": identifier}
    if presentation is not None:
        body["verifiablePresentation"] = read_json(presentation, limits=PRESENTATION_LIMITS)
    try:
        answer = api.post(LOOKUP_PATH, body, headers=declaration(purpose, legal_basis))
    except RemoteApiError as error:
        if error.status != 404:
            raise
        if as_json:
            print_json_line({"found": False, "code": error.code, "detail": error.detail})
        else:
            print_text(f"not found: {error.detail}")
        raise typer.Exit(NOT_FOUND_EXIT) from None
    if not isinstance(answer, dict):
        raise RemoteApiError(0, "bad-answer", "the API answered without a certificate")
    if as_json:
        print_json_line(answer)
        return
    for line in _lines(answer):
        print_text(line)

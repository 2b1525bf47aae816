"""``tongban templates``: the certificate catalogue, and an issue request to start from.

The same description as ``GET /templates`` (``credentials.catalogue``): the
packaged templates need no running service. Each template's national metadata
(GB/T 36903: type code and name, defining authority, trust grade, holder-ID
type, the claims always shown, disclosable and printed) comes first. ``--example NAME`` prints a
complete ``POST /credentials/issue`` body of fictitious data for template
NAME, to edit into a real request (``tongban issue --template ...`` or curl).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from api.cli.common import JsonOption, print_json_line, print_text
from api.runtime.settings import SettingsError
from credentials.catalogue import describe, describe_all, example_request
from credentials.templates import TEMPLATES

__all__ = ["templates_command"]


def _rule(claim: dict[str, Any]) -> str:
    if "enum" in claim:
        return " | ".join(str(v) for v in claim["enum"])
    if "format" in claim:
        return str(claim["format"])
    if "pattern" in claim:
        return f"pattern {claim['pattern']}"
    return str(claim["type"])


def _national_lines(national: dict[str, Any]) -> list[str]:
    holder = national.get("holderIdType")
    holder_text = "-" if holder is None else f"{holder['code']} {holder['name']}"
    held_in = national.get("holderIdClaim", "not carried")
    return [
        f"  证照类型 {national['typeCode']}  {national['typeName']}"
        f"  (defined by {national['definingAuthority']})",
        f"  信任等级 {national['trustGrade']}"
        + (f"  note: {national['usageNote']}" if "usageNote" in national else ""),
        f"  持证主体代码类型 {holder_text}  (claim: {held_in})",
        f"  always shown: {', '.join(national['alwaysShown']) or '-'}",
        f"  disclosable:  {', '.join(national['disclosable']) or '-'}",
        f"  printed:      {', '.join(national['printed']) or '-'}",
    ]


def templates_command(
    example: Annotated[
        str | None,
        typer.Option(
            "--example", help="Print an example issue request for this template.", metavar="NAME"
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the certificate templates with their claims (or print an example request)."""
    if example is not None:
        template = TEMPLATES.get(example)
        if template is None:
            raise SettingsError(
                f"no such template; known templates: {', '.join(sorted(TEMPLATES))}"
            )
        if as_json:
            print_json_line(example_request(template))
        else:
            print_text(json.dumps(example_request(template), ensure_ascii=False, indent=2))
        return
    if as_json:
        for entry in describe_all():
            print_json_line(entry)
        return
    for name in sorted(TEMPLATES):
        entry = describe(TEMPLATES[name])
        print_text(f"{name}  {entry['title']}  ({entry['type'][1]})")
        for line in _national_lines(entry["national"]) if "national" in entry else ():
            print_text(line)
        for claim in entry["claims"]:
            flags = ("required" if claim["required"] else "optional") + (
                ", disclosable" if claim["disclosable"] else ", always shown"
            )
            print_text(f"  {claim['name']:<26} {_rule(claim):<40} {flags}")

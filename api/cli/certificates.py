"""The 电子证照 parts of ``tongban issue`` and ``tongban verify``.

``tongban issue --agency USCC`` names the issuing agency (颁发机构) of the
certificate, checked here for its GB 32100 check character before anything is
sent; ``--certificate-file FILE`` names the certificate file (OFD or PDF) by the
same ``certificateFile`` member ``tongban document digest`` prints
(``credentials.file_binding.describe_file``). ``tongban verify`` prints, for each
verified credential that carries the ``zhengzhao`` member, its 证照标识, agency and
信任等级 (``certificate_lines``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from api.cli.options import InputFileError
from credentials.file_binding import MAX_FILE_BYTES, FileBindingError, describe_file
from credentials.zhengzhao.check_characters import validate_uscc
from credentials.zhengzhao.errors import IdentifierError

__all__ = ["agency_code", "certificate_file_member", "certificate_lines", "read_certificate_file"]


def agency_code(value: str) -> str:
    """``value`` if it is a well-formed 统一社会信用代码, else a usage error naming the option."""
    try:
        return validate_uscc(value, field="--agency")
    except IdentifierError as exc:
        # The message names the rule and the position, never the value.
        raise click.UsageError(f"--agency is not a 统一社会信用代码: {exc}") from None


def read_certificate_file(path: Path) -> bytes:
    """The bytes of the certificate file at ``path``; ``InputFileError`` if unusable.

    Missing, a directory, unreadable, empty or over ``MAX_FILE_BYTES``: each its own
    one-line error naming the path, never the content.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputFileError(f"file {path} does not exist") from None
    except IsADirectoryError:
        raise InputFileError(f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputFileError(
            f"{path} is larger than a certificate file may be ({MAX_FILE_BYTES} bytes)"
        )
    if not data:
        raise InputFileError(f"{path} is empty")
    return data


def certificate_file_member(path: Path, media_type: str | None = None) -> dict[str, Any]:
    """The issue request's ``certificateFile`` member of the file at ``path``.

    ``media_type`` defaults to what the bytes show; a file that is neither PDF nor
    OFD, empty, unreadable or over the cap is an ``InputFileError``.
    """
    data = read_certificate_file(path)
    try:
        return describe_file(data, media_type).to_request_json()
    except FileBindingError:
        raise InputFileError(
            f"{path} is neither a PDF nor an OFD document "
            "(give --certificate-media-type to name it)"
        ) from None


def _text(value: object) -> str:
    return value if isinstance(value, str) else "?"


def certificate_lines(result: Mapping[str, Any]) -> list[str]:
    """One line per certificate the verifier reported: 证照标识, agency, 信任等级.

    Read from the answer's ``zhengzhao`` list (nothing personal is in it); a
    presentation's entries name the credential's position. An answer without the
    list gives no line.
    """
    entries = result.get("zhengzhao")
    if not isinstance(entries, list):
        return []
    several = len(result.get("credentialDigests") or []) > 1
    lines: list[str] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        agency = entry.get("issuingAgency")
        agency = agency if isinstance(agency, Mapping) else {}
        where = f"credential {entry.get('credential')}: " if several else ""
        line = (
            f"  {where}证照标识 {_text(entry.get('identifier'))} ({_text(entry.get('typeName'))}), "
            f"颁发机构 {_text(agency.get('name'))} ({_text(agency.get('code'))}), "
            f"信任等级 {_text(entry.get('trustGrade'))}"
        )
        note = entry.get("usageNote")
        lines.append(line + (f": {note}" if isinstance(note, str) else ""))
    return lines

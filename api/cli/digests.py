"""Credential digests named on the command line: whole, or by a unique prefix.

``tongban revoke`` names credentials the way ``tongban wallet present`` does:
by the digest's 64 lowercase hex characters, or by its first 8 or more when
they name one credential. A province has no route that finds credentials by
a digest prefix, so a prefix is resolved against what the issuing system
itself kept of what it issued, given with ``--issued``: a directory written by
``tongban issue --out DIR`` (``DIR/<digest>.json``) or a file of ``tongban
issue --json`` lines (each with its ``digest``). A whole digest is sent as it
is: whether it is this issuer's is the province's to say.

An error names a digest by its place among those given, never by what was
typed: a mistyped value may be personal data (an ID number is hex digits).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import click

from api.cli.options import InputFileError, read_json_lines

__all__ = ["DIGEST", "MIN_PREFIX", "digest_arguments", "issued_digests", "resolve_digests"]

MIN_PREFIX = 8
"""The fewest hex characters of a digest prefix (as ``tongban wallet present`` takes)."""

DIGEST = re.compile(r"[0-9a-f]{64}", re.ASCII)
"""A whole credential digest: SM3, 64 lowercase hex characters."""

_REFERENCE = re.compile(rf"[0-9a-f]{{{MIN_PREFIX},64}}", re.ASCII)


def digest_arguments(arguments: Sequence[str]) -> list[str]:
    """The digests or prefixes given, ``-`` read from standard input (one a line), checked.

    Raises ``click.BadParameter`` (a usage error) for one that is not 8 to 64
    lowercase hex characters, or when none is given.
    """
    references: list[str] = []
    for argument in arguments:
        if argument == "-":
            references.extend(line.strip() for line in sys.stdin if line.strip())
        else:
            references.append(argument)
    for reference in references:
        if not _REFERENCE.fullmatch(reference):
            raise click.BadParameter(
                f"a digest is 64 lowercase hex characters, or its first {MIN_PREFIX} or more",
                param_hint="DIGEST",
            )
    if not references:
        raise click.BadParameter("give at least one digest", param_hint="DIGEST")
    return references


def _from_directory(directory: Path) -> set[str]:
    return {path.stem for path in directory.glob("*.json") if DIGEST.fullmatch(path.stem)}


def _from_file(path: Path) -> set[str]:
    found: set[str] = set()
    for number, document in read_json_lines(path):
        digest = document.get("digest")
        if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
            raise InputFileError(
                f"{path} line {number} has no digest: --issued takes `tongban issue --json` "
                "output or a `tongban issue --out` directory"
            )
        found.add(digest)
    return found


def issued_digests(sources: Iterable[Path]) -> set[str]:
    """Every digest recorded in ``sources``: ``issue --out`` directories, ``issue --json`` files."""
    found: set[str] = set()
    for source in sources:
        found |= _from_directory(source) if source.is_dir() else _from_file(source)
    return found


def _which(position: int, total: int) -> str:
    return "the digest" if total == 1 else f"digest {position} of {total}"


def resolve_digests(references: Sequence[str], issued: set[str] | None) -> list[str]:
    """Whole digests for ``references``, each prefix resolved in ``issued``; duplicates once.

    ``issued`` is None when no ``--issued`` was given: only whole digests can be
    used then. Raises ``InputFileError`` for a prefix that names no credential
    there, or more than one (saying how many, not which).
    """
    digests: list[str] = []
    total = len(references)
    for position, reference in enumerate(references, start=1):
        if DIGEST.fullmatch(reference):
            digests.append(reference)
            continue
        which = _which(position, total)
        if issued is None:
            raise InputFileError(
                f"{which} is a prefix: give the whole digest, or --issued with what "
                "`tongban issue` wrote (its --out directory or its --json output) to find it in"
            )
        matches = [digest for digest in issued if digest.startswith(reference)]
        if not matches:
            raise InputFileError(
                f"{which} matches no credential in --issued ({len(issued)} recorded there)"
            )
        if len(matches) > 1:
            raise InputFileError(
                f"{which} matches {len(matches)} credentials in --issued: give more of it"
            )
        digests.append(matches[0])
    return list(dict.fromkeys(digests))

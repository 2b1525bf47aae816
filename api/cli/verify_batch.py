"""``tongban verify --batch FILE``: many credentials verified at a province, 1,000 a request.

FILE holds JSON Lines (one credential per line) or one JSON array of credentials.
Every credential is read and checked as I-JSON before any is sent; they go to ``POST
/credentials/verify/batch`` in requests of up to 1,000 credentials and under the API's
4 MiB batch body cap. Progress goes to standard error, one line per request; one
result line per credential goes to standard output, in file order, named by its line
(JSON Lines) or its position (an array, from 0), with text or ``--json``.

A credential the province calls not a credential at all is answered by its problem,
with the API's JSON pointer rebased on the file (``line 4 /@context/0``). Nothing of a
credential's content is printed in text mode, only verdicts, digests and reason codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from api.cli.common import err, print_json_line, print_text
from api.cli.options import InputFileError, read_json_lines
from api.client.remote import RemoteApi, RemoteApiError
from credentials.errors import InputRejectedError
from credentials.ijson import Limits, parse

__all__ = ["BATCH_BODY_BYTES", "BATCH_LIMIT", "Entry", "read_entries", "requests", "verify_file"]

BATCH_LIMIT = 1000
"""Most credentials the API takes in one batch request."""

BATCH_BODY_BYTES = 4 * 1024 * 1024 - 64 * 1024
"""A request's body stays this far under the API's 4 MiB batch cap (room for the wrapper)."""

_ARRAY_LIMITS = Limits(max_bytes=512 * 1024 * 1024, max_depth=33, max_array=10_000_000)
_ITEM_POINTER = re.compile(r"/verifiableCredentials/(\d+)(.*)", re.ASCII)
_ENDPOINT = "/credentials/verify/batch"
_REQUEST_SECONDS = 300.0

Entry = tuple[str, int, dict[str, Any]]
"""A credential of the file: how it is named (``line``/``item``), its number, the credential."""


def _is_array(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            start = handle.read(4096).lstrip()
    except FileNotFoundError:
        raise InputFileError(f"file {path} does not exist") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror}") from None
    return start.startswith(b"[")


def read_entries(path: Path) -> list[Entry]:
    """Every credential of ``path`` (JSON Lines, or a JSON array), checked before any is sent."""
    if not _is_array(path):
        return [("line", number, document) for number, document in read_json_lines(path)]
    try:
        document = parse(path.read_bytes(), _ARRAY_LIMITS)
    except InputRejectedError as exc:
        raise InputFileError(f"{path} is not acceptable JSON: {exc}") from None
    entries: list[Entry] = []
    for index, item in enumerate(document):
        if not isinstance(item, dict):
            raise InputFileError(f"{path} item {index} must be a JSON object (a credential)")
        entries.append(("item", index, item))
    return entries


def requests(entries: Sequence[Entry], budget: int = BATCH_BODY_BYTES) -> Iterator[list[Entry]]:
    """``entries`` in file order, at most ``BATCH_LIMIT`` and ``budget`` bytes a request."""
    chunk: list[Entry] = []
    size = 0
    for entry in entries:
        length = len(json.dumps(entry[2], ensure_ascii=False).encode("utf-8")) + 1
        if length > budget:
            raise InputFileError(f"{entry[0]} {entry[1]} is larger than a batch request may be")
        if chunk and (len(chunk) == BATCH_LIMIT or size + length > budget):
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += length
    if chunk:
        yield chunk


def _rebased(field: str, chunk: Sequence[Entry]) -> str:
    """An API pointer ``/verifiableCredentials/<i>/...`` as the file's ``line 4 /...``."""
    match = _ITEM_POINTER.fullmatch(field)
    if match is None or int(match.group(1)) >= len(chunk):
        return field
    kind, number, _ = chunk[int(match.group(1))]
    return f"{kind} {number} {match.group(2) or '/'}"


def _text(label: str, item: dict[str, Any], chunk: Sequence[Entry]) -> str:
    problem = item.get("problem")
    if isinstance(problem, dict):
        errors = problem.get("errors") or []
        where = "; ".join(
            f"{_rebased(str(e.get('field')), chunk)}: {e.get('rule')}" for e in errors
        )
        detail = where or str(problem.get("detail"))
        return f"{label}: not verified ({problem.get('code')}): {detail}"
    digests = ", ".join(str(d) for d in item.get("credentialDigests", []))
    line = f"{label}: {item.get('verdict')} credential {digests}".rstrip()
    reasons = [str(p.get("reasonCode")) for p in item.get("problemDetails") or []]
    if not reasons and item.get("verified") is not True:
        reasons = [
            str(c.get("reasonCode")) for c in item.get("checks", []) if c.get("status") != "VALID"
        ]
    return f"{line}: {', '.join(reasons)}" if reasons else line


def _refusal(exc: RemoteApiError, chunk: Sequence[Entry], answered: int) -> RemoteApiError:
    first, last = chunk[0], chunk[-1]
    detail = (
        f"{exc.detail} (the request of {first[0]}s {first[1]}-{last[1]}; "
        f"{answered} credentials answered before it)"
    )
    errors = tuple((_rebased(field, chunk), rule) for field, rule in exc.errors)
    return RemoteApiError(exc.status, exc.code, detail, errors)


def verify_file(api: RemoteApi, path: Path, headers: dict[str, str], *, as_json: bool) -> bool:
    """Verify every credential of ``path``, printing one line each; True when all verified."""
    entries = read_entries(path)
    if not entries:
        raise InputFileError(f"{path} holds no credentials")
    # A thousand verifications take seconds, more on a busy province.
    api.timeout = max(api.timeout, _REQUEST_SECONDS)
    answered = 0
    verified = 0
    for chunk in requests(entries):
        body = {"verifiableCredentials": [credential for _, _, credential in chunk]}
        try:
            answer = api.post(_ENDPOINT, body, headers=headers)
        except RemoteApiError as exc:
            raise _refusal(exc, chunk, answered) from None
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(chunk):
            raise RemoteApiError(0, "bad-answer", "the API answered with another number of results")
        for (kind, number, _), item in zip(chunk, results, strict=True):
            if as_json:
                print_json_line({kind: number, "result": item})
            else:
                print_text(_text(f"{kind} {number}", item, chunk))
            verified += item.get("verified") is True
        answered += len(chunk)
        print_text(
            f"verified {answered} of {len(entries)} credentials ({verified} verified so far)",
            console=err,
        )
    return verified == len(entries)

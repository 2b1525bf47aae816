"""``tongban issue``, ``tongban verify``, ``tongban revoke``: issuing and verifying systems.

Each talks to a province's API (``--url``/``--token`` or ``TONGBAN_API_URL``/
``TONGBAN_API_TOKEN``) as one API client: an issuer client for ``issue`` and
``revoke``, a verifier client for ``verify``. Issuing and verifying touch personal
data, so they send ``X-Purpose`` and ``X-Legal-Basis`` (``--purpose``,
``--legal-basis``), which land in the province's access events.

Issuing is exactly once: every issue request carries an ``Idempotency-Key``
(random for one credential; derived from the chunk's lines and their content for
``--batch``), and a request that got no answer (unreachable API, 5xx, 429) is sent
again with the same key after a back-off. Running a batch file again (``--resume``)
answers the chunks already issued with their credentials and issues only the rest.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from api.cli.certificates import agency_code, certificate_file_member, certificate_lines
from api.cli.common import JsonOption, err, out, print_json_line, print_text
from api.cli.digests import DIGEST, digest_arguments, issued_digests, resolve_digests
from api.cli.document import MediaType
from api.cli.options import (
    InputFileError,
    TokenOption,
    UrlOption,
    declaration,
    read_json,
    read_json_lines,
    remote,
)
from api.client.remote import RemoteApi, RemoteApiError
from credentials.jcs import canonicalize
from ledger.crypto.sm3 import sm3_hex

__all__ = [
    "BATCH_LIMIT",
    "RETRIES",
    "ReasonCode",
    "chunk_key",
    "issue_command",
    "revoke_command",
    "send_with_retries",
    "verify_command",
]

BATCH_LIMIT = 1000
"""Most issue requests (and digests) the API takes in one request."""

RETRIES = 6
"""Default retries of an unanswered issue request: back-offs of 0.5, 1, 2, 4, 8, 8 s."""

_FIRST_BACKOFF = 0.5
_MAX_BACKOFF = 8.0
_CHUNK_KEY_DOMAIN = "tongban-issue-batch/v1"

_REQUEST_POINTER = re.compile(r"/requests/(\d+)(.*)", re.ASCII)


class ReasonCode(StrEnum):
    """Why credentials change status: ``credentials.status.StatusReason`` names, lower-case."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key_compromise"
    SUPERSEDED = "superseded"
    ISSUED_IN_ERROR = "issued_in_error"
    HOLDER_REQUEST = "holder_request"
    DATA_CHANGED = "data_changed"
    LEGAL_ORDER = "legal_order"
    UNDER_REVIEW = "under_review"
    REVIEW_CLEARED = "review_cleared"


PURPOSE_HELP = "Why personal data is processed: the access events' purpose code (X-Purpose)."
LEGAL_BASIS_HELP = "The legal basis code for processing it (X-Legal-Basis)."


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        # Only on a terminal: piped or logged output gets no redraws.
        disable=not err.is_terminal,
    )


# -- issue -------------------------------------------------------------------------------


def _write_credential(directory: Path, result: dict[str, Any]) -> Path:
    digest = str(result["digest"])
    if not DIGEST.fullmatch(digest):
        raise RemoteApiError(0, "bad-answer", "the API answered with a malformed digest")
    path = directory / f"{digest}.json"
    text = json.dumps(result["credential"], ensure_ascii=False, indent=2) + "\n"
    # The credential holds personal data: readable by its owner only.
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class _IssueOutput:
    """Where issued credentials go: files under ``--out``, or standard output."""

    def __init__(self, directory: Path | None, as_json: bool, *, quiet: bool) -> None:
        self.directory = directory
        self.as_json = as_json
        self.quiet = quiet
        self.count = 0
        if directory is not None:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def emit(self, result: dict[str, Any]) -> None:
        self.count += 1
        state = result.get("anchoring", {}).get("state", "pending")
        if self.directory is None:
            # Credentials on stdout, one JSON line each, so they pipe into `wallet receive -`.
            print_json_line(result if self.as_json else result["credential"])
            if not self.quiet and not self.as_json:
                print_text(f"issued {result['digest']} (anchoring {state})", console=err)
            return
        path = _write_credential(self.directory, result)
        if self.as_json:
            anchoring = result.get("anchoring", {"digest": result["digest"], "state": state})
            print_json_line({"digest": result["digest"], "file": str(path), "anchoring": anchoring})
        elif not self.quiet:
            print_text(f"issued {result['digest']} -> {path} (anchoring {state})")


def _single_request(
    template: str | None,
    holder: str | None,
    claims: str | None,
    valid_from: str | None,
    valid_until: str | None,
) -> dict[str, Any]:
    if template is None or holder is None or claims is None:
        raise click.UsageError("give --template, --holder and --claims, or --batch FILE.jsonl")
    body: dict[str, Any] = {"template": template, "holder": holder, "claims": read_json(claims)}
    if valid_from is not None:
        body["validFrom"] = valid_from
    if valid_until is not None:
        body["validUntil"] = valid_until
    return body


def _chunks(path: Path, size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    chunk: list[tuple[int, dict[str, Any]]] = []
    for line in read_json_lines(path):
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _batch_refusal(exc: RemoteApiError, lines: Sequence[int], issued: int) -> RemoteApiError:
    """The API's refusal of one batch, with its ``/requests/<i>`` fields as file line numbers."""

    def where(field: str) -> str:
        match = _REQUEST_POINTER.fullmatch(field)
        if match is None or int(match.group(1)) >= len(lines):
            return field
        return f"line {lines[int(match.group(1))]} {match.group(2) or '/'}"

    detail = (
        f"{exc.detail} (the batch of lines {lines[0]}-{lines[-1]}; "
        f"{issued} credentials issued before it)"
    )
    if _retryable(exc):
        detail += "; run the same command again (--resume) to continue without duplicates"
    return RemoteApiError(
        exc.status, exc.code, detail, tuple((where(f), rule) for f, rule in exc.errors)
    )


def chunk_key(chunk: Sequence[tuple[int, dict[str, Any]]]) -> str:
    """The ``Idempotency-Key`` of one chunk of a batch file: its line range and content.

    SM3 of the chunk's first and last line numbers and the canonical JSON (JCS) of its
    requests: running the same file again (same ``--batch-size``) sends the same keys,
    and a chunk whose lines changed gets a new one. Only the hash leaves the machine.
    """
    lines = [number for number, _ in chunk]
    document = [_CHUNK_KEY_DOMAIN, lines[0], lines[-1], [request for _, request in chunk]]
    return "batch-" + sm3_hex(canonicalize(document))


def _retryable(exc: RemoteApiError) -> bool:
    # Not reached (0), overloaded (429) or failed (5xx): the answer may be lost, the
    # key makes sending again safe. Any other refusal is final.
    return exc.status == 0 or exc.status == 429 or exc.status >= 500


def send_with_retries(
    send: Callable[[], Any],
    retries: int,
    *,
    sleep: Callable[[float], None] = time.sleep,
    notify: Callable[[str], None] | None = None,
) -> Any:
    """``send()``, again up to ``retries`` times after a back-off when it got no answer.

    Only for requests that carry an ``Idempotency-Key``: a lost answer is then
    replayed, never issued twice. ``notify`` hears one line per retry.
    """
    backoff = _FIRST_BACKOFF
    for attempt in range(retries + 1):
        try:
            return send()
        except RemoteApiError as exc:
            if attempt == retries or not _retryable(exc):
                raise
            if notify is not None:
                notify(f"no answer ({exc.status} {exc.code}); retrying in {backoff:g} s")
            sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)
    raise AssertionError("unreachable")  # pragma: no cover


def _notify(message: str) -> None:
    print_text(message, console=err)


def _issue_batch(
    api: RemoteApi,
    path: Path,
    size: int,
    headers: dict[str, str],
    output: _IssueOutput,
    retries: int,
) -> None:
    total = sum(1 for _ in read_json_lines(path))  # checks every line before sending any
    if total == 0:
        raise InputFileError(f"{path} holds no issue requests")
    with _progress() as progress:
        task = progress.add_task("issuing", total=total)
        for chunk in _chunks(path, size):
            body = {"requests": [request for _, request in chunk]}
            keyed = headers | {"Idempotency-Key": chunk_key(chunk)}
            try:
                answer = send_with_retries(
                    partial(api.post, "/credentials/issue/batch", body, headers=keyed),
                    retries,
                    notify=_notify,
                )
            except RemoteApiError as exc:
                raise _batch_refusal(exc, [n for n, _ in chunk], output.count) from None
            for result in answer["results"]:
                output.emit(result)
            progress.advance(task, len(chunk))


def issue_command(
    template: Annotated[
        str | None, typer.Option(help="Template, e.g. degree-certificate.", show_default=False)
    ] = None,
    holder: Annotated[
        str | None, typer.Option(help="The holder's did:key (from `tongban wallet did`).")
    ] = None,
    claims: Annotated[
        str | None,
        typer.Option(help="JSON object of the claims: a file, or - for standard input."),
    ] = None,
    valid_from: Annotated[
        str | None, typer.Option(help="YYYY-MM-DDTHH:MM:SSZ (default: now).")
    ] = None,
    valid_until: Annotated[str | None, typer.Option(help="YYYY-MM-DDTHH:MM:SSZ.")] = None,
    agency: Annotated[
        str | None,
        typer.Option(
            help="The issuing agency's 统一社会信用代码 (default: the client's only one)."
        ),
    ] = None,
    certificate_file: Annotated[
        Path | None,
        typer.Option(help="The certificate file (OFD or PDF) the credential names by SM3."),
    ] = None,
    certificate_media_type: Annotated[
        MediaType | None,
        typer.Option(help="The certificate file's media type (default: what its bytes show)."),
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option(help="JSON Lines file: one issue body per line, instead of the above."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=BATCH_LIMIT, help="Requests per batch (all or none each).")
    ] = BATCH_LIMIT,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue a --batch run that stopped: chunks already issued are answered "
            "again (same credentials), not issued twice. Running the same command again "
            "does the same.",
            metavar="",
        ),
    ] = False,
    retries: Annotated[
        int,
        typer.Option(min=0, max=100, help="Retries of a request that got no answer (0.5-8 s)."),
    ] = RETRIES,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Write each credential to DIR/<digest>.json (mode 0600)."),
    ] = None,
    purpose: Annotated[str, typer.Option(help=PURPOSE_HELP)] = "credential.issuance",
    legal_basis: Annotated[str, typer.Option(help=LEGAL_BASIS_HELP)] = "prc.pipl.art13",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue credentials (issuer client): one from --claims, or many from --batch.

    Without --out the credentials go to standard output, one JSON line each (with
    --json: the API's whole answer, digest and anchoring state included). Each
    request carries an Idempotency-Key and is retried when it gets no answer; a
    batch run that stopped continues with --resume (or by running it again).
    """
    if resume and batch is None:
        raise click.UsageError("--resume continues a --batch run: give the same --batch FILE")
    api = remote(url, token, what="the issuing province's API")
    headers = declaration(purpose, legal_basis)
    if batch is not None:
        if template or holder or claims or valid_from or valid_until or agency or certificate_file:
            raise click.UsageError(
                "--batch takes the template, holder, claims, agency and file from the file"
            )
        output = _IssueOutput(out_dir, as_json, quiet=True)
        _issue_batch(api, batch, batch_size, headers, output, retries)
        if not as_json:
            where = f" to {out_dir}" if out_dir is not None else ""
            print_text(f"issued {output.count} credentials{where}", console=err)
        return
    if certificate_media_type is not None and certificate_file is None:
        raise click.UsageError("--certificate-media-type goes with --certificate-file")
    body = _single_request(template, holder, claims, valid_from, valid_until)
    if agency is not None:
        body["agency"] = agency_code(agency)
    if certificate_file is not None:
        media = None if certificate_media_type is None else certificate_media_type.value
        body["certificateFile"] = certificate_file_member(certificate_file, media)
    # One key per run: the retries below are safe, another run is another credential.
    keyed = headers | {"Idempotency-Key": "issue-" + secrets.token_hex(16)}
    result = send_with_retries(
        partial(api.post, "/credentials/issue", body, headers=keyed), retries, notify=_notify
    )
    _IssueOutput(out_dir, as_json, quiet=False).emit(result)


# -- verify ------------------------------------------------------------------------------


def _is_presentation(document: dict[str, Any]) -> bool:
    types = document.get("type")
    names = types if isinstance(types, list) else [types]
    return "VerifiablePresentation" in names


_STATUS_STYLE = {"VALID": "green", "INVALID": "red", "ERROR": "yellow", "SKIPPED": "dim"}


def _print_result(result: dict[str, Any]) -> None:
    verdict = str(result.get("verdict"))
    style = _STATUS_STYLE.get(verdict, "bold")
    out.print(
        Text.assemble(
            (f"{result.get('kind', 'document')}: ", "bold"),
            (verdict, style),
            f" (chain index at block {result.get('indexHeight')})",
        ),
        soft_wrap=True,
    )
    for digest in result.get("credentialDigests", []):
        print_text(f"  credential {digest}")
    for line in certificate_lines(result):
        print_text(line)
    table = Table("#", "check", "status", "reason", "message")
    for check in result.get("checks", []):
        status = str(check.get("status"))
        table.add_row(
            Text(str(check.get("number"))),
            Text(str(check.get("name"))),
            Text(status, _STATUS_STYLE.get(status, "bold")),
            Text(str(check.get("reasonCode"))),
            Text(str(check.get("message"))),
        )
    out.print(table)


def verify_command(
    document: Annotated[
        str | None,
        typer.Argument(
            help="A credential or presentation: a file, or - for stdin.", show_default=False
        ),
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option(
            help="Verify every credential of FILE (JSON Lines, or a JSON array) instead, "
            "1,000 a request: one result line each.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    qr: Annotated[
        Path | None,
        typer.Option(
            "--qr",
            help="Verify the printed certificate whose QR code is in IMAGE (PNG, JPEG, "
            "or the PDF) instead.",
            metavar="IMAGE",
            show_default=False,
        ),
    ] = None,
    purpose: Annotated[str, typer.Option(help=PURPOSE_HELP)] = "credential.verification",
    legal_basis: Annotated[str, typer.Option(help=LEGAL_BASIS_HELP)] = "prc.pipl.art13",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a credential or a presentation at a province (verifier client).

    Prints the verdict and each numbered check. Exit status 0 when VALID, 1 when
    INVALID or ERROR, 2 when the document or the API could not be used. With
    ``--batch FILE``: one line per credential, exit status 0 only when every one verified.
    With ``--qr IMAGE``: the QR code of a printed certificate, scanned from the image.
    """
    if qr is not None:
        if document is not None or batch is not None:
            raise click.UsageError("give one of DOCUMENT, --batch FILE and --qr IMAGE")
        from api.cli.paper import scan_qr, scanned_request

        body = scanned_request(scan_qr(qr))
        api = remote(url, token, what="the verifying province's API")
        result = api.post("/credentials/verify", body, headers=declaration(purpose, legal_basis))
        if as_json:
            print_json_line(result)
        else:
            _print_result(result)
        if result.get("verdict") != "VALID":
            raise typer.Exit(1)
        return
    if batch is not None:
        if document is not None:
            raise click.UsageError("give DOCUMENT or --batch FILE, not both")
        from api.cli.verify_batch import verify_file

        api = remote(url, token, what="the verifying province's API")
        if not verify_file(api, batch, declaration(purpose, legal_basis), as_json=as_json):
            raise typer.Exit(1)
        return
    if document is None:
        raise click.UsageError("missing argument DOCUMENT (or give --batch FILE)")
    api = remote(url, token, what="the verifying province's API")
    parsed = read_json(document)
    if _is_presentation(parsed):
        path, body = "/presentations/verify", {"verifiablePresentation": parsed}
    else:
        path, body = "/credentials/verify", {"verifiableCredential": parsed}
    result = api.post(path, body, headers=declaration(purpose, legal_basis))
    if as_json:
        print_json_line(result)
    else:
        _print_result(result)
    if result.get("verdict") != "VALID":
        raise typer.Exit(1)


# -- revoke ------------------------------------------------------------------------------


def _wait_for(
    api: RemoteApi,
    requests: list[dict[str, Any]],
    timeout: float,
    poll: float,
    clock: Callable[[], float] = time.monotonic,
) -> list[dict[str, Any]]:
    """Poll every status request until it is final or failed; the last answers."""
    deadline = clock() + timeout
    latest = {r["requestId"]: r for r in requests}
    total = sum(int(r["count"]) for r in requests)
    with _progress() as progress:
        task = progress.add_task("waiting for the chain", total=total)
        while True:
            open_ids = [i for i, r in latest.items() if r["state"] not in ("final", "failed")]
            for request_id in open_ids:
                latest[request_id] = api.get(f"/credentials/status-requests/{request_id}")
            done = sum(
                int(r["count"]) for r in latest.values() if r["state"] in ("final", "failed")
            )
            progress.update(task, completed=done)
            if done == total:
                return list(latest.values())
            if clock() >= deadline:
                pending = ", ".join(str(i) for i, r in latest.items() if r["state"] == "pending")
                raise RemoteApiError(
                    0,
                    "timeout",
                    f"status requests {pending} are not final after {timeout:g} s; the issuer "
                    "keeps working on them (GET /credentials/status-requests/<id>)",
                )
            time.sleep(poll)


def revoke_command(
    digests: Annotated[
        list[str],
        typer.Argument(
            help="Credential digests, or their first 8+ hex characters with --issued "
            "(- reads them from stdin)."
        ),
    ],
    reason: Annotated[ReasonCode, typer.Option(help="Why (a frozen reason code).")],
    issued: Annotated[
        list[Path] | None,
        typer.Option(
            "--issued",
            metavar="DIR|FILE",
            help="Where digest prefixes are looked up: a `tongban issue --out` directory or "
            "a file of `tongban issue --json` lines. Repeat for several.",
        ),
    ] = None,
    suspend: Annotated[
        bool, typer.Option("--suspend", help="Suspend instead of revoke.", metavar="")
    ] = False,
    reinstate: Annotated[
        bool, typer.Option("--reinstate", help="Lift a suspension instead of revoke.", metavar="")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the change is final on chain.", metavar="")
    ] = False,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds --wait waits.")] = 300,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke (or suspend, or reinstate) credentials this issuer issued (issuer client).

    A DIGEST is whole, or its first 8 or more hex characters when exactly one
    credential that --issued records starts with them (the province finds no
    prefixes). The change goes on chain through the issuer's outbox; --wait
    follows it until final. Exit status 0 when requested (or final with --wait),
    1 if the chain refused it, 2 on errors.
    """
    if suspend and reinstate:
        raise click.UsageError("--suspend and --reinstate exclude each other")
    action = "suspend" if suspend else "reinstate" if reinstate else "revoke"
    references = digest_arguments(digests)
    chosen = resolve_digests(references, issued_digests(issued) if issued else None)
    api = remote(url, token, what="the issuing province's API")
    requests: list[dict[str, Any]] = []
    for start in range(0, len(chosen), BATCH_LIMIT):
        body = {
            "action": action,
            "digests": chosen[start : start + BATCH_LIMIT],
            "reason": reason.value,
        }
        answer = api.post("/credentials/status", body)
        requests.extend(answer["requests"])
    if wait:
        requests = _wait_for(api, requests, timeout, poll=0.25)
    if as_json:
        print_json_line({"action": action, "requests": requests})
    else:
        for request in requests:
            block = f" in block {request['blockNumber']}" if request.get("blockNumber") else ""
            print_text(
                f"request {request['requestId']}: {request['action']} {request['count']} "
                f"credential(s), reason {request['reason']}: {request['state']}{block}"
            )
    if any(r["state"] == "failed" for r in requests):
        raise typer.Exit(1)

"""Property-based API tests against the service's own OpenAPI document (``/openapi.json``).

The full app is served over real HTTP (``served_province``: the chain, an
issuer and a verifier; the province also acts for a governor and holds the
writer lease, so that every feature is served). Schemathesis generates
requests for every operation the document lists when the test runs,
schema-valid (positive) and schema-breaking (negative) ones, each sent with
a fresh token of a role the operation accepts (its ``x-roles``) and, where
the operation declares them, valid ``X-Purpose`` / ``X-Legal-Basis``
headers, so the requests get past authentication and exercise parameters
and bodies. Every answer must be below 500, every 4xx a problem details body
with a known ``code``, negative data must be refused, and every answer must
conform to the document (status code, content type, headers, body schema).

The second test sends hand-made hostile bodies to every POST operation that
takes a body: over its size cap, not JSON, a duplicate key, a number beyond
2^53, the wrong content type, nesting too deep. Each must be refused with its
own problem code, without echoing the input.

Both discover the operations from ``/openapi.json``: routes added later are
covered without touching this file.
"""

from __future__ import annotations

import math
import select
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import negative_data_rejection, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.errors import PROBLEM_TYPE_BASE, ProblemCode
from api.province.clients import Role
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import ORGS, PERSONAL, ServedProvince, served_province
from tests.helpers.server import Reply

pytestmark = pytest.mark.slow

MIN_REQUESTS = 1_000
"""The fuzz test sends at least this many generated requests in total."""

TARGET_REQUESTS = 1_150
"""What it aims for: a margin over MIN_REQUESTS (small input spaces run out early)."""

ROUNDS = 3
"""Rounds of generation; each round shares what is missing among the operations not run dry."""

SEED = 72026
PROBLEM = "application/problem+json"
CODES = {code.value for code in ProblemCode}
CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
METHODS = ("get", "put", "post", "delete", "patch")

Operation = tuple[str, str]
"""``(method, path)`` as the OpenAPI document spells them."""


# -- the province, every feature served ---------------------------------------------------


def _operations(document: dict[str, Any]) -> Iterator[tuple[Operation, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield (method, path), item[method]


def _serve_every_feature(province: ServedProvince, world: World) -> None:
    # The harness's province holds no governor key and no writer process runs, so the
    # governance routes and /readyz would answer 503: act for governor 0 and take the lease.
    context = province.context
    context.governor_account = world.accounts.governors[0].address
    now_ms = int(time.time() * 1000)
    assert context.leases.acquire(context.writer_lease, "fuzz-writer", 3_600_000, now_ms)


class Credentials:
    """Headers that get a request to an operation past authentication and declaration.

    Each call makes a fresh API client with the operation's first role, so a
    generated revocation (``POST /clients/{clientId}/revoke``) can only hit an
    earlier client, never the one the next requests use.
    """

    def __init__(self, province: ServedProvince) -> None:
        """Clients are made in ``province``'s registry."""
        self.province = province
        self.made = 0

    def headers_for(self, operation: dict[str, Any]) -> dict[str, str]:
        """The ``Authorization`` and declaration headers ``operation`` needs."""
        headers: dict[str, str] = {}
        if operation.get("security"):
            roles = operation.get("x-roles")
            assert roles, "an authenticated operation documents its roles (x-roles)"
            self.made += 1
            issued = self.province.context.clients.create(
                f"fuzz client {self.made}",
                ORGS[ZJ],
                [Role(roles[0])],
                client_id=f"fuzz-{self.made}",
            )
            headers["Authorization"] = f"Bearer {issued.token}"
        names = {str(p.get("name", "")).lower() for p in operation.get("parameters", [])}
        if "x-purpose" in names:
            headers.update(PERSONAL)
        return headers


# -- generated requests --------------------------------------------------------------------


@dataclass
class Findings:
    """What the generated requests found."""

    requests: int = 0
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def fail(self, label: str, kind: str, detail: str) -> None:
        """Record a failure; one example per operation and kind is enough to report."""
        self.failures.setdefault(f"{label}: {kind}", detail[:1500])

    def summary(self) -> str:
        """Status codes per operation, one line each."""
        return "\n".join(
            f"  {label}: {dict(sorted(counts.items()))}"
            for label, counts in sorted(self.statuses.items())
        )


def _header(response: schemathesis.Response, name: str) -> str:
    for key, values in response.headers.items():
        if key.lower() == name.lower():
            return values[0]
    return ""


def _problem_failure(status: int, media_type: str, body: Any) -> str | None:
    """Why an answer with ``status`` >= 400 is not a proper problem details body, or None."""
    if media_type.split(";")[0].strip() != PROBLEM:
        return f"{status} is {media_type or 'untyped'}, not {PROBLEM}"
    if not isinstance(body, dict) or body.get("code") not in CODES:
        return f"{status} problem without a known code"
    if body.get("status") != status or body.get("type") != PROBLEM_TYPE_BASE + body["code"]:
        return f"{status} problem with a wrong status or type"
    return None


def _reproduce(case: Case[Any], response: schemathesis.Response) -> str:
    sent = {
        "query": case.query,
        "path": case.path_parameters,
        "headers": {k: v for k, v in (case.headers or {}).items() if k != "Authorization"},
        "body": case.body,
    }
    return f"{response.status_code} {response.text[:300]}\n  sent: {str(sent)[:600]}"


def _sender(findings: Findings, base_url: str) -> Callable[[Case[Any]], None]:
    session = requests.Session()

    def send(case: Case[Any]) -> None:
        label = f"{case.method.upper()} {case.operation.path}"
        response = case.call(base_url=base_url, session=session, timeout=60)
        findings.requests += 1
        findings.statuses.setdefault(label, Counter())[response.status_code] += 1
        if response.status_code >= 500:
            findings.fail(label, f"status {response.status_code}", _reproduce(case, response))
        if response.status_code >= 400:
            media_type = _header(response, "content-type")
            body: Any = response.json() if media_type.startswith(PROBLEM) else None
            problem = _problem_failure(response.status_code, media_type, body)
            if problem is not None:
                findings.fail(label, problem, _reproduce(case, response))
            elif body["code"] in {ProblemCode.UNAUTHENTICATED, ProblemCode.FORBIDDEN}:
                findings.fail(label, "the token was refused", _reproduce(case, response))
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                findings.fail(label, failure.title, _reproduce(case, response))

    return send


def _explore(
    strategy: Any, examples: int, run_seed: int, send: Callable[[Case[Any]], None]
) -> None:
    # Generation only: nothing raises inside, so there is nothing to shrink and the
    # run costs what max_examples says; failures are collected and asserted after.
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @seed(run_seed)
    @given(strategy)
    def run(case: Case[Any]) -> None:
        send(case)

    # An operation without parameters or body has no negative input at all.
    with suppress(Unsatisfiable):
        run()


def test_generated_requests_get_no_5xx_and_conform_to_the_document(
    world: World, tmp_path: Path
) -> None:
    with served_province(world, tmp_path) as province:
        _serve_every_feature(province, world)
        base_url = f"http://127.0.0.1:{province.server.port}"
        documented = dict(_operations(province.request("GET", "/openapi.json").json()))
        schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
        operations = {}
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), f"schemathesis cannot read: {result.err()}"
            operations[(result.ok().method.lower(), result.ok().path)] = result.ok()
        assert set(operations) == set(documented), "schemathesis reads every operation"

        credentials = Credentials(province)
        findings = Findings()
        send = _sender(findings, base_url)
        started = time.monotonic()
        pending = [(key, mode) for key in sorted(operations) for mode in GenerationMode]
        for round_number in range(ROUNDS):
            missing = TARGET_REQUESTS - findings.requests
            if missing <= 0 or not pending:
                break
            quota = math.ceil(missing / len(pending))
            productive = []
            for key, mode in pending:
                headers = credentials.headers_for(documented[key])
                strategy = operations[key].as_strategy(generation_mode=mode, headers=headers)
                before = findings.requests
                _explore(strategy, quota, SEED + round_number, send)
                if findings.requests - before >= quota:
                    productive.append((key, mode))
            pending = productive
        elapsed = time.monotonic() - started

        print(
            f"\nfuzz: {findings.requests} generated requests to {len(operations)} operations "
            f"in {elapsed:.1f} s\n{findings.summary()}"
        )
        failures = "\n".join(f"{key}\n  {detail}" for key, detail in findings.failures.items())
        assert not findings.failures, failures
        assert findings.requests >= MIN_REQUESTS
        labels = {f"{method.upper()} {path}" for method, path in operations}
        assert set(findings.statuses) == labels, "every operation got requests"


# -- hostile bodies -------------------------------------------------------------------------

DUPLICATE_KEY = "zqDuplicated"
DEEP_MARKER = "zqDeepInside"
BIG_NUMBER = "9007199254740993"  # 2^53 + 1
INVALID_MARKER = "zqNotJson"
PLAIN_MARKER = "zqPlainText"
PAD_MARKER = "zqPadding"


@dataclass(frozen=True)
class Hostile:
    """One hand-made bad body, the answer it must get, and what the answer must not echo."""

    name: str
    body: bytes
    status: int
    code: ProblemCode
    marker: str
    content_type: str = "application/json"


HOSTILE = (
    Hostile(
        "invalid JSON",
        ('{"' + INVALID_MARKER + '": [1, 2').encode(),
        400,
        ProblemCode.INVALID_JSON,
        INVALID_MARKER,
    ),
    Hostile(
        "duplicate key",
        f'{{"{DUPLICATE_KEY}": 1, "{DUPLICATE_KEY}": 2}}'.encode(),
        400,
        ProblemCode.DUPLICATE_KEY,
        DUPLICATE_KEY,
    ),
    Hostile(
        "number beyond 2^53",
        f'{{"amount": {BIG_NUMBER}}}'.encode(),
        400,
        ProblemCode.NUMBER_OUT_OF_RANGE,
        BIG_NUMBER,
    ),
    Hostile(
        "text/plain",
        f'{{"note": "{PLAIN_MARKER}"}}'.encode(),
        415,
        ProblemCode.UNSUPPORTED_MEDIA_TYPE,
        PLAIN_MARKER,
        content_type="text/plain",
    ),
    Hostile(
        "nesting 40 deep",
        ("[" * 39 + f'{{"k": "{DEEP_MARKER}"}}' + "]" * 39).encode(),
        400,
        ProblemCode.TOO_DEEP,
        DEEP_MARKER,
    ),
)


def _path_value(parameter: dict[str, Any]) -> str:
    # The body is read (and refused) before path parameters are validated, so any
    # plausible value does; an enum's first member keeps the route matched.
    schema = parameter.get("schema", {})
    if schema.get("enum"):
        return str(schema["enum"][0])
    return "1" if schema.get("type") == "integer" else "x"


def _concrete_path(path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path":
            path = path.replace("{" + parameter["name"] + "}", _path_value(parameter))
    return path


def _body_operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    # JSON bodies only: an upload (multipart/form-data, POST /documents/verify) answers
    # these with 415; its own hostile bodies are in tests/api/http/routes/test_document_verify.py.
    return [
        (path, operation)
        for (method, path), operation in _operations(document)
        if method == "post"
        and "requestBody" in operation
        and "application/json" in operation["requestBody"].get("content", {})
    ]


def _has_answered(sock: socket.socket, seconds: float) -> bool:
    readable, _, _ = select.select([sock], [], [], seconds)
    return bool(readable)


def _oversized(
    port: int, path: str, headers: dict[str, str], size: int, *, chunked: bool
) -> tuple[Reply, int]:
    """POST a JSON body of ``size`` bytes, stopping once the server answers; also bytes sent.

    With ``chunked`` the body has no ``Content-Length`` and the server must
    count as it reads; without, it should refuse on the declared length alone,
    so the body waits a moment for that answer before it is sent.
    """
    padding = size - len(f'{{"{PAD_MARKER}": ""}}')
    body = f'{{"{PAD_MARKER}": "'.encode() + b"a" * padding + b'"}'
    assert len(body) == size
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        answered = not chunked and _has_answered(sock, 5)
        piece = 64 * 1024
        while not answered and sent < size:
            chunk = body[sent : sent + piece]
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            answered = _has_answered(sock, 0)
        if not answered and chunked and sent == size:
            with suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(b"0\r\n\r\n")
        response = HTTPResponse(sock, method="POST")
        response.begin()
        return Reply(response.status, response.headers, response.read()), sent


def _hostile_failure(reply: Reply, status: int, code: ProblemCode, marker: str) -> str | None:
    media_type = reply.header("content-type") or ""
    body: Any = reply.json() if media_type.startswith(PROBLEM) else None
    problem = _problem_failure(reply.status, media_type, body)
    if reply.status != status:
        return f"answered {reply.status} ({reply.text[:200]}), not {status}"
    if problem is not None:
        return problem
    if body["code"] != code.value:
        return f"code {body['code']}, not {code.value}"
    if marker in reply.text:
        return "the answer echoes the input"
    return None


def test_hostile_bodies_on_every_post_route_get_their_problem(world: World, tmp_path: Path) -> None:
    with served_province(world, tmp_path) as province:
        _serve_every_feature(province, world)
        document = province.request("GET", "/openapi.json").json()
        targets = _body_operations(document)
        assert len(targets) >= 5, "the document lists the POST routes that take bodies"
        limits = province.context.limits
        caps = {"standard": limits.body_bytes, "batch": limits.batch_body_bytes}
        assert caps["standard"] == 1024 * 1024
        credentials = Credentials(province)
        failures: list[str] = []
        for path, operation in targets:
            concrete = _concrete_path(path, operation)
            headers = credentials.headers_for(operation)
            for hostile in HOSTILE:
                reply = province.server.request(
                    "POST",
                    concrete,
                    body=hostile.body,
                    headers={**headers, "Content-Type": hostile.content_type},
                )
                failure = _hostile_failure(reply, hostile.status, hostile.code, hostile.marker)
                if failure is not None:
                    failures.append(f"POST {path} {hostile.name}: {failure}")
            # Routes documenting their body by hand may leave the extension out: standard cap.
            limit = operation["requestBody"].get("x-body-limit", "standard")
            if limit not in caps:
                failures.append(f"POST {path}: x-body-limit is {limit!r}")
                continue
            size = caps[limit] + 1
            for chunked in (False, True):
                how = "chunked" if chunked else "with Content-Length"
                reply, sent = _oversized(
                    province.server.port, concrete, headers, size, chunked=chunked
                )
                failure = _hostile_failure(reply, 413, ProblemCode.BODY_TOO_LARGE, PAD_MARKER)
                if failure is not None:
                    failures.append(f"POST {path} {size} bytes {how}: {failure}")
                if not chunked and sent:
                    failures.append(f"POST {path} {how}: read {sent} bytes before refusing")
        print(f"\nhostile bodies: {len(targets)} POST routes x {len(HOSTILE) + 2} bodies")
        assert not failures, "\n".join(failures)

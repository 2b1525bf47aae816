"""Typed dependencies for the routes: the context, the caller, roles, headers, strict bodies.

Use them as parameter types, in this order (FastAPI resolves them in order,
so a request is authenticated before its body is read)::

    def route(
        principal: AuditorDep,
        declared: DeclarationDep,
        body: Annotated[Model, MODEL_BODY.depends],
        context: ContextDep,
    ) -> ...

``JsonBody`` reads a body strictly: ``Content-Type: application/json``
(charset, if given, utf-8) or 415; more than the route's cap (``Content-Length``
checked before reading, then while reading) 413; then I-JSON (RFC 7493,
``credentials.ijson``: UTF-8, no duplicate keys, numbers within +-(2^53 - 1),
no NaN/Infinity, depth and array caps) or 400 with its own code; then the
pydantic model in strict mode with ``extra="forbid"``, or 422 without echo.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from starlette.routing import BaseRoute

from api.errors import ProblemCode
from api.http.auth import Principal, authorize, check_declaration, client_certificate
from api.http.context import ProvinceContext
from api.http.problems import FieldIssue, Problem, request_id_of, validation_problem
from api.province.access import Declaration
from api.province.clients import Role
from credentials import ijson

__all__ = [
    "AppenderDep",
    "AuditorDep",
    "CallerDep",
    "ContextDep",
    "CredentialReaderDep",
    "DeclarationDep",
    "GovernorDep",
    "IdempotencyKeyDep",
    "IssuerDep",
    "JsonBody",
    "LegalBasisHeader",
    "OperatorDep",
    "PurposeHeader",
    "RequestIdDep",
    "VerifierDep",
    "authenticate",
    "bearer_token",
    "context_of",
    "document_roles",
    "documented_models",
    "get_context",
    "new_request_id",
    "read_json",
    "request_id_for",
    "require",
    "roles_of",
]

M = TypeVar("M", bound=BaseModel)

_DOCUMENTED: dict[str, type[BaseModel]] = {}
_ROLES_OF: dict[Callable[..., Awaitable[Principal]], tuple[Role, ...]] = {}
_REQUEST_ID_ALPHABET = string.ascii_letters


def new_request_id() -> str:
    """A server request id: ``r`` + 22 random letters (no digit runs, fits the event rules).

    Not a secret (it is echoed in headers and problems), only unique: one read of
    the OS random source per id, at a slight bias that uniqueness does not mind.
    """
    return "r" + "".join(_REQUEST_ID_ALPHABET[b % 52] for b in secrets.token_bytes(22))


# The cheap dependencies below are ``async``: FastAPI runs a plain ``def``
# dependency in its thread pool, and each such hop costs more than their work.


def context_of(request: Request) -> ProvinceContext:
    """The ``ProvinceContext`` the app was created with."""
    context: ProvinceContext = request.app.state.context
    return context


async def get_context(request: Request) -> ProvinceContext:
    """The ``ProvinceContext`` the app was created with (the dependency)."""
    return context_of(request)


def request_id_for(request: Request) -> str:
    """The request id the middleware assigned (one is made if the middleware is absent)."""
    existing = request_id_of(request)
    if existing is None:
        existing = new_request_id()
        request.state.request_id = existing
    return existing


async def get_request_id(request: Request) -> str:
    """The request id of ``request`` (the dependency; see ``request_id_for``)."""
    return request_id_for(request)


ContextDep = Annotated[ProvinceContext, Depends(get_context)]
"""The province's context."""

RequestIdDep = Annotated[str, Depends(get_request_id)]
"""The server-assigned request id (also the ``X-Request-Id`` response header)."""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API client token `tb_...`, shown once when the client is created.",
)


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, read as the ``_bearer`` scheme reads it."""
    authorization = request.headers.get("authorization")
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if not scheme or not token or scheme.lower() != "bearer":
        return None
    return token


def _authorized(
    request: Request,
    context: ProvinceContext,
    token: str | None,
    roles: Sequence[Role],
    request_id: str,
) -> Principal:
    # A token lookup is one indexed read; only a refusal writes (its api.denied event)
    # and waits for that commit, which the rate limits keep rare.
    principal = authorize(
        context,
        token,
        roles,
        request_id,
        client_certificate(request.scope),
        getattr(request.app.state, "access_tokens", None),  # JWT access tokens, if configured
    )
    request.state.client_id = principal.client.client_id
    return principal


def authenticate(request: Request, roles: Sequence[Role], request_id: str) -> Principal:
    """What a ``require(*roles)`` dependency resolves to, as a plain call (lean routes)."""
    return _authorized(request, context_of(request), bearer_token(request), roles, request_id)


def require(*roles: Role) -> Any:
    """A dependency authenticating the caller and requiring one of ``roles`` (none: any).

    The roles are published as the operation's ``x-roles`` (``document_roles``).
    """

    async def dependency(
        request: Request,
        context: ContextDep,
        request_id: RequestIdDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        token = credentials.credentials if credentials is not None else None
        return _authorized(request, context, token, roles, request_id)

    _ROLES_OF[dependency] = roles or tuple(Role)
    return Depends(dependency)


def roles_of(dependant: Dependant) -> tuple[Role, ...] | None:
    """The roles a route accepts (from its ``require`` dependencies); None: no token needed."""
    found: list[Role] = []
    pending = [dependant]
    authenticated = False
    while pending:
        current = pending.pop()
        roles = _ROLES_OF.get(current.call) if current.call is not None else None
        if roles is not None:
            authenticated = True
            found.extend(role for role in roles if role not in found)
        pending.extend(current.dependencies)
    return tuple(found) if authenticated else None


def document_roles(document: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """Add ``x-roles`` (the roles a token needs) to each operation of an OpenAPI ``document``."""
    paths = document.get("paths", {})
    # Route contexts, not ``routes`` itself: included routers are nested, not flattened.
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute):
            continue
        dependant = route.dependant
        if not isinstance(dependant, Dependant):
            continue
        roles = roles_of(dependant)
        if roles is None or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["x-roles"] = [role.value for role in roles]


CallerDep = Annotated[Principal, require()]
"""Any authenticated, active client."""

AppenderDep = Annotated[Principal, require(Role.ISSUER, Role.VERIFIER, Role.OPERATOR)]
"""A system that accesses personal data and logs its accesses."""

AuditorDep = Annotated[Principal, require(Role.AUDITOR)]
"""An auditor."""

OperatorDep = Annotated[Principal, require(Role.OPERATOR)]
"""The province's operator."""

IssuerDep = Annotated[Principal, require(Role.ISSUER)]
"""A system that issues credentials and changes their status."""

VerifierDep = Annotated[Principal, require(Role.VERIFIER)]
"""A system that verifies credentials and presentations."""

CredentialReaderDep = Annotated[Principal, require(Role.ISSUER, Role.HOLDER)]
"""An issuing system, or a citizen wallet app, reading an issued credential or its proof."""

GovernorDep = Annotated[Principal, require(Role.GOVERNOR)]
"""A consortium governor."""


# Read as optional and unconstrained: ``check_declaration`` names every missing or
# malformed header in one problem of ours (the OpenAPI hook documents them required).
PurposeHeader = Annotated[
    str | None,
    Header(
        alias="X-Purpose",
        description="Purpose code of this access to personal data, e.g. `audit.review`.",
    ),
]
"""The ``X-Purpose`` header, as sent."""

LegalBasisHeader = Annotated[
    str | None,
    Header(
        alias="X-Legal-Basis",
        description="Legal basis code of this access, e.g. `prc.pipl.art13`.",
    ),
]
"""The ``X-Legal-Basis`` header, as sent."""


async def _declaration(
    purpose: PurposeHeader = None, legal_basis: LegalBasisHeader = None
) -> Declaration:
    return check_declaration(purpose, legal_basis)


DeclarationDep = Annotated[Declaration, Depends(_declaration)]
"""``X-Purpose`` and ``X-Legal-Basis``, required and checked (routes touching personal data)."""

IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="Makes a retried append harmless: the same key from the same client "
        "returns the original event and receipt.",
    ),
]
"""The optional ``Idempotency-Key`` header."""


# -- strict JSON bodies ------------------------------------------------------------------


def _check_media_type(request: Request) -> None:
    value = request.headers.get("content-type")
    if value is None:
        raise Problem(ProblemCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type: application/json needed")
    media, _, params = value.partition(";")
    if media.strip().lower() != "application/json":
        raise Problem(ProblemCode.UNSUPPORTED_MEDIA_TYPE, "the body must be application/json")
    for param in params.split(";"):
        name, _, setting = param.partition("=")
        if name.strip().lower() == "charset" and setting.strip().strip('"').lower() != "utf-8":
            raise Problem(ProblemCode.UNSUPPORTED_MEDIA_TYPE, "JSON bodies must be UTF-8")


def _too_large(cap: int) -> Problem:
    return Problem(ProblemCode.BODY_TOO_LARGE, f"the body is larger than {cap} bytes")


async def read_capped(request: Request, cap: int) -> bytes:
    """The raw body, refusing with 413 as soon as it exceeds ``cap`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem(ProblemCode.BAD_REQUEST, "Content-Length is not a number")
        if int(declared) > cap:
            raise _too_large(cap)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise _too_large(cap)
    return bytes(body)


async def read_json(request: Request, batch: bool) -> tuple[bytes, Any]:
    """The raw body of ``request`` and its decoded I-JSON, within the route's size cap."""
    limits = context_of(request).limits
    cap = limits.batch_body_bytes if batch else limits.body_bytes
    _check_media_type(request)
    raw = await read_capped(request, cap)
    # InputRejectedError (not I-JSON) is answered by the problem table.
    return raw, ijson.parse(raw, ijson.Limits(cap, limits.max_depth, limits.max_array))


class JsonBody(Generic[M]):
    """A strict JSON body validated into ``model`` (see the module docstring)."""

    def __init__(
        self,
        model: type[M],
        *,
        batch: bool = False,
        examples: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Bodies of ``model``; ``batch`` selects the larger batch size cap.

        ``examples`` are OpenAPI Example Objects by name, published with the body.
        """
        self.model = model
        self.batch = batch
        self.examples = dict(examples or {})
        _DOCUMENTED[model.__name__] = model

    @property
    def openapi(self) -> dict[str, Any]:
        """``openapi_extra`` for the route: the request body's schema and examples."""
        media: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{self.model.__name__}"}}
        if self.examples:
            media["examples"] = self.examples
        return {
            "requestBody": {
                "required": True,
                "content": {"application/json": media},
                # Which cap applies: ApiLimits.batch_body_bytes or ApiLimits.body_bytes.
                "x-body-limit": "batch" if self.batch else "standard",
            }
        }

    async def read(self, request: Request) -> M:
        """Read, parse and validate the body of ``request``."""
        raw, _ = await read_json(request, self.batch)
        return self.validate(raw)

    def validate(self, raw: bytes) -> M:
        """Validate a body already read and checked as I-JSON."""
        try:
            return self.model.model_validate_json(raw, strict=True)
        except ValidationError as exc:
            # Kept here, not in the problem table: pydantic's locations become JSON
            # pointers without the input (a ValidationError elsewhere is our bug, a 500).
            raise validation_problem(exc) from None

    @property
    def depends(self) -> Any:
        """The ``Depends`` marker to put in ``Annotated[Model, body.depends]``."""
        reader: Callable[[Request], Awaitable[M]] = self.read
        return Depends(reader)


def documented_models() -> dict[str, type[BaseModel]]:
    """Models of every ``JsonBody``, for the OpenAPI components."""
    return dict(_DOCUMENTED)


class DialectBody:
    """A strict JSON body in one of a route's dialects, chosen by its top-level member.

    ``dialects`` maps the member that marks a dialect (``credential``, ``template``)
    to that dialect's ``JsonBody``; a body with none or several of them is 400
    ``bad-request`` naming them, before any model is tried.
    """

    def __init__(self, dialects: Mapping[str, JsonBody[Any]]) -> None:
        """One route's dialects, by marking member; the first's cap applies to all."""
        self.dialects = dict(dialects)
        self.batch = any(body.batch for body in self.dialects.values())

    async def read(self, request: Request) -> BaseModel:
        """Read the body, pick its dialect and validate it with that dialect's model."""
        raw, document = await read_json(request, self.batch)
        present = [m for m in self.dialects if isinstance(document, dict) and m in document]
        if len(present) != 1:
            names = " or ".join(f"`{m}`" for m in self.dialects)
            issue = "names both" if present else "names neither"
            raise Problem(
                ProblemCode.BAD_REQUEST,
                f"the body {issue} of the route's dialects: give exactly one of {names}",
                errors=[FieldIssue(field=f"/{m}", rule="marks one dialect") for m in present]
                or [FieldIssue(field="/", rule=f"needs exactly one of {names}")],
            )
        chosen: BaseModel = self.dialects[present[0]].validate(raw)
        return chosen

    @property
    def depends(self) -> Any:
        """The ``Depends`` marker of the body."""
        reader: Callable[[Request], Awaitable[BaseModel]] = self.read
        return Depends(reader)

    def openapi(self, examples: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
        """``openapi_extra``: the body is ``oneOf`` the dialects' schemas."""
        media: dict[str, Any] = {
            "schema": {
                "oneOf": [
                    {"$ref": f"#/components/schemas/{body.model.__name__}"}
                    for body in self.dialects.values()
                ]
            }
        }
        merged: dict[str, Any] = {}
        for body in self.dialects.values():
            merged.update(body.examples)
        merged.update(examples or {})
        if merged:
            media["examples"] = merged
        return {
            "requestBody": {
                "required": True,
                "content": {"application/json": media},
                "x-body-limit": "batch" if self.batch else "standard",
            }
        }

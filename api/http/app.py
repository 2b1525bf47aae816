"""The province's HTTP API: ``create_app(context)``.

One app per worker process, over one ``ProvinceContext``. Routers come from
``api.http.routes.api_router``, each route declared in the route table
(``api.http.routes.table``: personal data, events); errors are RFC 9457
problem details (``api.http.problems``); ``api.http.middleware`` assigns
request ids, writes the access log and answers 405 for a literal path asked
with another method (``MethodGuard``, inside it so the 405 has a request id).
Serve it with ``access_log=False`` on uvicorn: uvicorn's own access log prints
query strings, ours never does; ``api.runtime.worker`` serves it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.http.citizen_cors import CitizenCors, directory_router
from api.http.context import ProvinceContext
from api.http.deps import document_roles, documented_models
from api.http.metrics import observe_audit_appends
from api.http.middleware import MethodGuard, RequestContextMiddleware
from api.http.problems import PROBLEM_MEDIA_TYPE, ProblemDetails, install_problem_handlers
from api.http.routes import api_router
from api.http.routes.table import app_routes, document_route_table, table_mismatch
from api.http.schemas.issuing import issue_components
from api.portal import router as portal_router

__all__ = ["create_app"]

DECLARATION_HEADERS = ("X-Purpose", "X-Legal-Basis")

DESCRIPTION = """\
Tongban (通办) province service: electronic certificates (电子证照) issued as
W3C Verifiable Credentials signed with SM2 and anchored on the consortium
chain, their verification (whole or selectively disclosed) from the chain
alone, the province's data-access audit log with its proofs, the citizen's
view of who accessed their data, and the province's administration.

Authenticate with `Authorization: Bearer tb_...` (an API client token). Every
error is `application/problem+json` (RFC 9457) with a stable `code`; see
`docs/api.md` for the codes, roles, limits and headers.
"""

_REF_TEMPLATE = "#/components/schemas/{model}"


def _add_schemas(schemas: dict[str, Any], models: dict[str, Any]) -> None:
    for name, model in models.items():
        schema = model.model_json_schema(ref_template=_REF_TEMPLATE, by_alias=True)
        for sub_name, sub in schema.pop("$defs", {}).items():
            schemas.setdefault(sub_name, sub)
        schemas.setdefault(name, schema)


def _problem_422(document: dict[str, Any]) -> None:
    # FastAPI documents its own 422 body; ours is a problem details body.
    problem = {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            response = operation.get("responses", {}).get("422")
            if response is not None:
                response["content"] = {PROBLEM_MEDIA_TYPE: problem}
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _declaration_headers_required(document: dict[str, Any]) -> None:
    # DeclarationDep reads them as optional so that a missing one gets our own
    # problem (422 naming the header); the contract is that they are required.
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header" and parameter.get("name") in DECLARATION_HEADERS:
                    parameter["required"] = True
                    parameter["schema"] = {"type": "string", "maxLength": 64}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _add_schemas(schemas, {"ProblemDetails": ProblemDetails, **documented_models()})
    # Issue requests are documented per template; their envelope model validates them.
    schemas.update(issue_components())
    _problem_422(document)
    _declaration_headers_required(document)
    document_roles(document, app.routes)
    document_route_table(document)
    app.openapi_schema = document
    return document


def create_app(context: ProvinceContext) -> FastAPI:
    """The API of the province in ``context`` (one per worker process)."""
    app = FastAPI(
        title="Tongban province API",
        version=context.version,
        description=DESCRIPTION,
        openapi_tags=[
            {
                "name": "credentials",
                "description": "Issue credentials, read them and their anchor proofs, "
                "change their status (issuer systems; holders read).",
            },
            {
                "name": "verification",
                "description": "Verify credentials and presentations; challenges (verifiers).",
            },
            {"name": "dids", "description": "DID documents of issuers and holders."},
            {"name": "status-lists", "description": "Bitstring Status Lists (public)."},
            {"name": "audit", "description": "The data-access audit log, its proofs, export."},
            {"name": "citizen", "description": "Who accessed my data (holder-signed)."},
            {"name": "clients", "description": "API clients and their roles (operator)."},
            {
                "name": "issuer",
                "description": "This province's issuer: signing keys and writers (operator).",
            },
            {
                "name": "governance",
                "description": "Consortium proposals and approvals, M of N (governors).",
            },
            {"name": "operations", "description": "Chain operations sent through the outbox."},
            {"name": "health", "description": "Liveness, readiness, metrics."},
        ],
        docs_url=None,  # no Swagger/ReDoc pages pulling scripts from a CDN
        redoc_url=None,
    )
    app.state.context = context
    install_problem_handlers(app)
    # The last added runs first: request ids and the access log wrap the guard.
    app.add_middleware(MethodGuard, routes=app.router.routes)
    # Outside the guard, which would answer a citizen route's preflight 405.
    app.add_middleware(CitizenCors)
    app.add_middleware(RequestContextMiddleware, metrics=context.metrics)
    observe_audit_appends(context.audit_log, context.metrics.audit_append_seconds)
    app.include_router(api_router)
    app.include_router(directory_router)  # the consortium directory, for wallets
    app.include_router(portal_router)  # the counter portal's pages (docs/portal.md)
    missing, stale = table_mismatch(app_routes(app.routes))
    if missing or stale:
        # A route that touches personal data must say so: no route outside the table.
        raise RuntimeError(
            f"the route table (api.http.routes.table) and the routes differ: "
            f"missing {missing}, stale {stale}"
        )

    def openapi() -> dict[str, Any]:
        return _openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]
    return app

"""The OpenAPI document: complete, self-consistent, problems and bearer auth documented."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from tests.helpers.server import Province, running_province

PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/citizen/challenge",
    "/citizen/access-history",
    "/status-lists/{list_number}/{purpose}",
}
BODYLESS_ACTIONS = ("/revoke", "/retire", "/approvals", "/compromise-response")
"""POST routes that act on the resource in their path and take no body."""


@pytest.fixture
def document(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with running_province(tmp_path) as served:
        reply = served.request("GET", "/openapi.json")
        assert reply.status == 200
        yield reply.json()


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    refs = set(_refs(document))
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref
    assert "HTTPValidationError" not in schemas


def test_routes_document_auth_bodies_and_problems(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operations = [
        (path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()
    ]
    assert len(operations) >= 14
    for path, method, op in operations:
        assert op.get("summary"), (method, path)
        if path in PUBLIC:
            assert "security" not in op, path
        else:
            assert op["security"] == [{"bearer": []}], path
            assert {"401", "403"} <= set(op["responses"]), path
            problem = op["responses"]["401"]["content"]["application/problem+json"]
            assert problem["schema"]["$ref"] == "#/components/schemas/ProblemDetails"
        if "422" in op["responses"]:
            assert set(op["responses"]["422"]["content"]) == {"application/problem+json"}
        if method == "post" and "multipart/form-data" in op.get("requestBody", {}).get(
            "content", {}
        ):
            # An upload (POST /documents/verify): its parts are documented in place.
            form = op["requestBody"]["content"]["multipart/form-data"]["schema"]
            assert form["additionalProperties"] is False, path
            assert set(form["required"]) == set(form["properties"]), path
            assert {"400", "413", "415"} <= set(op["responses"]), path
        elif method == "post" and not path.endswith(BODYLESS_ACTIONS):
            body = op["requestBody"]["content"]["application/json"]["schema"]
            # A route with two dialects (#13) is oneOf their bodies, each a component.
            for branch in body.get("oneOf", [body]):
                assert branch["$ref"].startswith("#/components/schemas/"), path
            assert {"413", "415"} <= set(op["responses"]), path


def test_problem_codes_and_body_models_are_in_the_components(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas["ProblemCode"]["enum"]) == {c.value for c in ProblemCode}
    event_in = schemas["EventIn"]
    assert event_in["additionalProperties"] is False
    assert set(event_in["required"]) == {"action", "resource", "purpose", "legalBasis", "outcome"}
    assert "legal_basis" not in event_in["properties"]
    assert schemas["BatchIn"]["properties"]["events"]["maxItems"] == 1000


def test_the_province_served_for_tests_exposes_no_swagger_pages(tmp_path: Path) -> None:
    with running_province(tmp_path) as served:
        assert isinstance(served, Province)
        # /docs is the script-free reference (tests/api/http/test_docs_page.py), not Swagger UI.
        docs = served.request("GET", "/docs")
        assert docs.status == 200
        assert "<script" not in docs.text
        assert served.request("GET", "/redoc").status == 404
        assert served.request("GET", "/docs/oauth2-redirect").status == 404


def test_declaration_headers_are_documented_as_required(document: dict[str, Any]) -> None:
    declaring = {
        (method, path): {p["name"]: p["required"] for p in op.get("parameters", [])}
        for path, operations in document["paths"].items()
        for method, op in operations.items()
        if any(p["name"] == "X-Purpose" for p in op.get("parameters", []))
    }
    assert ("get", "/audit/export") in declaring
    assert ("post", "/credentials/verify") in declaring
    for headers in declaring.values():
        assert headers["X-Purpose"] is True
        assert headers["X-Legal-Basis"] is True

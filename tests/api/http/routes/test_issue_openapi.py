"""The issuing bodies in ``/openapi.json``: a schema per template, and examples that issue.

``POST /credentials/issue`` can be filled from the document alone: its body is
``IssueIn``, a ``oneOf`` of one request schema per template (the claims with
their rules and examples), and it carries one worked example per template.
Here each example is taken from the served document and posted as it is; and
the documented schema accepts and refuses what the route accepts and refuses.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from api.errors import ProblemCode
from api.province.clients import Role
from credentials.templates import TEMPLATES
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import problem

REF = "#/components/schemas/"


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path, ZJ) as province:
        yield province


@pytest.fixture
def document(zhejiang: ServedProvince) -> dict[str, Any]:
    reply = zhejiang.request("GET", "/openapi.json")
    assert reply.status == 200
    openapi: dict[str, Any] = reply.json()
    return openapi


def _body(document: dict[str, Any], path: str) -> dict[str, Any]:
    media: dict[str, Any] = document["paths"][path]["post"]["requestBody"]["content"][
        "application/json"
    ]
    return media


def _validator(document: dict[str, Any], schema: str) -> Any:
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": document["components"],
        "$ref": REF + schema,
    }
    return jsonschema_rs.validator_for(root, validate_formats=True)


def _issue(zhejiang: ServedProvince, body: Any, path: str = "/credentials/issue") -> Any:
    return zhejiang.request("POST", path, Role.ISSUER, json_body=body, headers=PERSONAL)


def test_the_body_is_one_schema_per_template(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    # Two dialects on one route (#13): the catalogue's and the VC API's.
    assert _body(document, "/credentials/issue")["schema"] == {
        "oneOf": [{"$ref": REF + "IssueIn"}, {"$ref": REF + "VcApiIssueIn"}]
    }
    assert schemas["BatchIssueIn"]["properties"]["requests"]["items"] == {"$ref": REF + "IssueIn"}
    branches = [schemas[ref["$ref"].removeprefix(REF)] for ref in schemas["IssueIn"]["oneOf"]]
    assert sorted(b["properties"]["template"]["const"] for b in branches) == sorted(TEMPLATES)
    for branch in branches:
        template = TEMPLATES[branch["properties"]["template"]["const"]]
        assert branch["additionalProperties"] is False
        assert set(branch["required"]) == {"template", "holder", "claims"}
        claims = schemas[branch["properties"]["claims"]["$ref"].removeprefix(REF)]
        assert list(claims["properties"]) == list(template.claims)
        assert set(claims["required"]) == set(template.required_claims)
        assert claims["additionalProperties"] is False
        assert all(rule.get("examples") for rule in claims["properties"].values())


def test_each_template_example_of_the_document_issues_as_it_is(
    zhejiang: ServedProvince, document: dict[str, Any]
) -> None:
    every = _body(document, "/credentials/issue")["examples"]
    examples = {k: v for k, v in every.items() if not k.startswith("vc-api-")}
    assert sorted(examples) == sorted(TEMPLATES)
    valid = _validator(document, "IssueIn")
    vc_api = _validator(document, "VcApiIssueIn")
    for name, example in every.items():
        if name in examples:
            continue
        assert vc_api.is_valid(example["value"]), name
        body = copy.deepcopy(example["value"])
        issuer = body["credential"]["issuer"]
        if isinstance(issuer, dict):
            issuer["id"] = zhejiang.did
        else:
            body["credential"]["issuer"] = zhejiang.did
        reply = _issue(zhejiang, body)
        assert reply.status == 201, (name, reply.text)
        assert reply.json()["verifiableCredential"]["proof"]["cryptosuite"] == "sm2-jcs-2026"
    for name, example in examples.items():
        assert example["summary"] == TEMPLATES[name].title
        assert valid.is_valid(example["value"]), name
        reply = _issue(zhejiang, example["value"])
        assert reply.status == 201, (name, reply.text)
        assert reply.json()["credential"]["type"][1] == TEMPLATES[name].credential_type
    [batch] = _body(document, "/credentials/issue/batch")["examples"].values()
    assert _validator(document, "BatchIssueIn").is_valid(batch["value"])
    reply = _issue(zhejiang, batch["value"], "/credentials/issue/batch")
    assert reply.status == 201, reply.text
    assert len(reply.json()["results"]) == len(TEMPLATES)


def _variants(example: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(what, body, the field the route names or None if it issues) around one example."""

    def changed(**claims: Any) -> dict[str, Any]:
        body = copy.deepcopy(example)
        body["claims"].update(claims)
        return body

    without = copy.deepcopy(example)
    del without["claims"]["degreeName"]
    yield "a claim missing", without, "/claims/degreeName"
    yield "an unknown claim", changed(nickname="x"), "/claims/nickname"
    yield "a value not listed", changed(degreeLevel="phd"), "/claims/degreeLevel"
    yield "not a date", changed(dateOfBirth="2000-13-45"), "/claims/dateOfBirth"
    yield "not a string", changed(holderName=7), "/claims/holderName"
    yield "another template", {**example, "template": "business-licence"}, "/claims"
    yield "a short holder", {**example, "holder": "did:key:z" + "1" * 20}, "/holder"
    yield "an unknown member", {**example, "note": "x"}, "/note"
    yield "a validity period", {**example, "validUntil": "2099-12-31T00:00:00Z"}, None


def test_the_schema_refuses_what_the_route_refuses(
    zhejiang: ServedProvince, document: dict[str, Any]
) -> None:
    valid = _validator(document, "IssueIn")
    example = _body(document, "/credentials/issue")["examples"]["degree-certificate"]["value"]
    for what, body, field in _variants(example):
        reply = _issue(zhejiang, body)
        if field is None:
            assert valid.is_valid(body), what
            assert reply.status == 201, (what, reply.text)
            continue
        assert not valid.is_valid(body), what
        refused = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
        assert refused["errors"][0]["field"].startswith(field), (what, refused)

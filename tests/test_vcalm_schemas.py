"""The VC API schema helper (``tests/helpers/vcalm.py``) against the pinned ``w3c/vcalm`` files.

Every upstream ``example`` is checked against the schema it illustrates (or is a listed upstream
fault that must still fail), every schema patch is shown to be needed, hand-made bodies that
break the schemas are refused, and the helper's failure lists every violation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import vcalm
from tests.helpers.vcalm import (
    COVERED_OPERATIONS,
    KNOWN_EXAMPLE_FAULTS,
    OAS_FILE,
    SCHEMA_PATCHES,
    VCALM_DIR,
    SchemaEdit,
    SchemaPatch,
    VcalmSchemaError,
    assert_vcalm_body,
    pinned_document,
    schema_violations,
    translate_schema,
    vcalm_declares_body,
    vcalm_schema,
)

V2 = "https://www.w3.org/ns/credentials/v2"
ISSUER = "did:example:zhejiang"
HOLDER = "did:example:holder"

CREDENTIAL: dict[str, Any] = {
    "@context": [V2],
    "id": "urn:uuid:8b2f1c4e-1f0a-4f6e-9a59-1d2b3c4d5e6f",
    "type": ["VerifiableCredential"],
    "issuer": ISSUER,
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": HOLDER, "name": "Li Mingyu"},
}
PROOF: dict[str, Any] = {
    "type": "DataIntegrityProof",
    "cryptosuite": "sm2-jcs-2026",
    "created": "2026-01-01T00:00:00Z",
    "verificationMethod": f"{ISSUER}#key-1",
    "proofPurpose": "assertionMethod",
    "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKjjt",
}
VERIFIABLE_CREDENTIAL: dict[str, Any] = {**CREDENTIAL, "proof": PROOF}
PRESENTATION: dict[str, Any] = {
    "@context": [V2],
    "type": ["VerifiablePresentation"],
    "holder": HOLDER,
    "verifiableCredential": [VERIFIABLE_CREDENTIAL],
    "proof": {
        **PROOF,
        "verificationMethod": f"{HOLDER}#key-1",
        "proofPurpose": "authentication",
        "challenge": "c-1",
        "domain": "gd.example",
    },
}

CONFORMING: list[tuple[str, int | None, Any]] = [
    ("/credentials/issue", None, {"credential": CREDENTIAL, "options": {"credentialId": "c-1"}}),
    ("/credentials/issue", 201, {"verifiableCredential": VERIFIABLE_CREDENTIAL}),
    ("/credentials/issue", 400, {"type": "about:blank", "title": "Bad Request"}),
    (
        "/credentials/status",
        None,
        {
            "credentialId": "c-1",
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True,
        },
    ),
    ("/credentials/status", 200, None),
    ("/credentials/status", 404, {"title": "Not Found"}),
    (
        "/credentials/verify",
        None,
        {"verifiableCredential": VERIFIABLE_CREDENTIAL, "options": {"returnResults": True}},
    ),
    (
        "/credentials/verify",
        200,
        {
            "verified": True,
            "credential": VERIFIABLE_CREDENTIAL,
            "problemDetails": [],
            "results": {"proof": [{"verified": True, "input": PROOF}]},
        },
    ),
    (
        "/presentations/verify",
        None,
        {"verifiablePresentation": PRESENTATION, "options": {"challenge": "c-1"}},
    ),
    (
        "/presentations/verify",
        200,
        {
            "verified": False,
            "problemDetails": [{"type": "https://example.org/#X", "title": "X", "detail": "x"}],
            "results": {
                "presentation": {"challenge": {"verified": False, "input": "c-1"}},
                "credentials": [{"verified": True}],
            },
        },
    ),
    ("/challenges", 200, {"challenge": "3f1c"}),
]
"""Bodies that follow the upstream schemas (as patched), one per covered operation and status."""

NON_CONFORMING: list[tuple[str, str, int | None, Any, str]] = [
    (
        "issue request: credentialSubject is a string",
        "/credentials/issue",
        None,
        {"credential": {**CREDENTIAL, "credentialSubject": HOLDER}},
        "/credential/credentialSubject",
    ),
    (
        "issue request: unknown option (additionalProperties false)",
        "/credentials/issue",
        None,
        {"credential": CREDENTIAL, "options": {"proofType": "Sm2Signature"}},
        "/options",
    ),
    (
        "issue request: issuer is a number",
        "/credentials/issue",
        None,
        {"credential": {**CREDENTIAL, "issuer": 7}},
        "/credential/issuer",
    ),
    (
        "issue 201: verifiableCredential.type is a number",
        "/credentials/issue",
        201,
        {"verifiableCredential": {**VERIFIABLE_CREDENTIAL, "type": 1}},
        "/verifiableCredential",
    ),
    (
        "status request: required status missing",
        "/credentials/status",
        None,
        {"credentialId": "c-1", "credentialStatus": {"type": "T", "statusPurpose": "revocation"}},
        "/",
    ),
    (
        "status request: required credentialStatus.statusPurpose missing",
        "/credentials/status",
        None,
        {"credentialId": "c-1", "credentialStatus": {"type": "T"}, "status": True},
        "/credentialStatus",
    ),
    (
        "status request: status is a string",
        "/credentials/status",
        None,
        {
            "credentialId": "c-1",
            "credentialStatus": {"type": "T", "statusPurpose": "revocation"},
            "status": "true",
        },
        "/status",
    ),
    (
        "verify request: proof is a string",
        "/credentials/verify",
        None,
        {"verifiableCredential": {**VERIFIABLE_CREDENTIAL, "proof": "z1"}},
        "/",
    ),
    (
        "verify 200: verified is a string",
        "/credentials/verify",
        200,
        {"verified": "yes"},
        "/verified",
    ),
    (
        "verify 200: unknown top-level member",
        "/credentials/verify",
        200,
        {"verified": True, "valid": True},
        "/",
    ),
    (
        "presentation verify request: no member it is about",
        "/presentations/verify",
        None,
        {"options": {"challenge": "c-1"}},
        "/",
    ),
    (
        "presentation verify 200: unknown presentation result member",
        "/presentations/verify",
        200,
        {"verified": True, "results": {"presentation": {"expired": True}}},
        "/results/presentation",
    ),
    (
        "challenge 200: challenge is a number",
        "/challenges",
        200,
        {"challenge": 42},
        "/challenge",
    ),
]
"""(name, path, status, body, pointer of a violation the message must name)."""


@dataclass(frozen=True)
class UpstreamExample:
    """An ``example`` found in a pinned file, with the schema object that carries it."""

    file: str
    pointer: str
    value: Any

    @property
    def schema_pointer(self) -> str:
        """The JSON pointer of the schema object that carries this example."""
        return self.pointer.removesuffix("/example")


def _escape(token: str) -> str:
    """Escape a JSON pointer reference token (RFC 6901 section 4)."""
    return token.replace("~", "~0").replace("/", "~1")


def _schemas_under(node: Any, pointer: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield (pointer, schema object) for a schema and every inline subschema in it."""
    if not isinstance(node, Mapping):
        return
    yield pointer, node
    if "$ref" in node:
        return
    for name, sub in node.get("properties", {}).items():
        yield from _schemas_under(sub, f"{pointer}/properties/{_escape(name)}")
    for keyword in ("items", "not", "additionalProperties"):
        if keyword in node:
            yield from _schemas_under(node[keyword], f"{pointer}/{keyword}")
    for keyword in ("allOf", "oneOf", "anyOf"):
        for index, sub in enumerate(node.get(keyword, [])):
            yield from _schemas_under(sub, f"{pointer}/{keyword}/{index}")


def _schema_roots(file: str) -> Iterator[tuple[str, Any]]:
    """Yield (pointer, schema) for every schema position of a pinned OpenAPI file."""
    document = pinned_document(file)
    for name, schema in (document.get("components") or {}).get("schemas", {}).items():
        yield f"/components/schemas/{_escape(name)}", schema
    for path, item in (document.get("paths") or {}).items():
        for method, operation in item.items():
            base = f"/paths/{_escape(path)}/{method}"
            for index, parameter in enumerate(operation.get("parameters", [])):
                if "schema" in parameter:
                    yield f"{base}/parameters/{index}/schema", parameter["schema"]
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                yield f"{base}/requestBody/content/{_escape(media)}/schema", content["schema"]
            for status, response in operation.get("responses", {}).items():
                where = f"{base}/responses/{status}"
                for media, content in response.get("content", {}).items():
                    yield f"{where}/content/{_escape(media)}/schema", content["schema"]
                for header, spec in response.get("headers", {}).items():
                    yield f"{where}/headers/{_escape(header)}/schema", spec["schema"]


def _upstream_examples() -> list[UpstreamExample]:
    """Return every ``example`` of a Schema Object in every pinned OpenAPI file."""
    files = [OAS_FILE, *sorted(f"components/{p.name}" for p in VCALM_DIR.glob("components/*.yml"))]
    examples = []
    for file in files:
        for root, schema in _schema_roots(file):
            for pointer, node in _schemas_under(schema, root):
                if "example" in node:
                    examples.append(UpstreamExample(file, f"{pointer}/example", node["example"]))
    return examples


EXAMPLES = _upstream_examples()
FAULTS = {(fault.file, fault.pointer): fault.reason for fault in KNOWN_EXAMPLE_FAULTS}


def test_every_pinned_component_has_its_example_collected() -> None:
    """The walk finds the examples of every pinned component file and of ``oas.yaml``."""
    files = {example.file for example in EXAMPLES}
    components = {f"components/{p.name}" for p in VCALM_DIR.glob("components/*.yml")}
    # VerifiableCredentialResponse.yml and Challenge.yml carry no example upstream.
    assert files == {OAS_FILE} | components - {
        "components/VerifiableCredentialResponse.yml",
        "components/Challenge.yml",
    }
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.file}#{e.pointer}" for e in EXAMPLES])
def test_upstream_example_matches_its_schema_or_is_a_listed_fault(
    example: UpstreamExample,
) -> None:
    """An example validates; a listed upstream fault must still fail (else unlist it)."""
    violations = schema_violations(
        translate_schema(example.file, example.schema_pointer), example.value
    )
    if (example.file, example.pointer) in FAULTS:
        assert violations, f"listed as faulty but valid now: {example.file}#{example.pointer}"
    else:
        assert violations == []


def test_every_listed_example_fault_is_an_upstream_example() -> None:
    """The fault list names only examples that exist, each with a reason."""
    found = {(example.file, example.pointer) for example in EXAMPLES}
    assert set(FAULTS) <= found
    assert all(reason for reason in FAULTS.values())


def test_verify_presentation_result_example_says_valid_not_verified() -> None:
    """Upstream's example reports ``valid``; the loose result objects let it through."""
    example = pinned_document("components/VerifyPresentationResult.yml")["components"]["schemas"][
        "VerificationResult"
    ]["example"]
    challenge = example["results"]["presentation"]["challenge"]
    assert "valid" in challenge
    assert "verified" not in challenge
    schema = vcalm_schema("/presentations/verify", "post", 200)
    assert schema_violations(schema, example) == []


def test_update_status_example_true_is_a_yaml_boolean() -> None:
    """``"status": True`` in ``oas.yaml`` reads as the boolean true (YAML 1.1)."""
    example = pinned_document(OAS_FILE)["components"]["schemas"]["UpdateCredentialStatusRequest"][
        "example"
    ]
    assert example["status"] is True
    assert_vcalm_body("/credentials/status", "post", None, example)


@pytest.mark.parametrize("patch", SCHEMA_PATCHES, ids=[p.name for p in SCHEMA_PATCHES])
def test_schema_patch_is_needed(patch: SchemaPatch) -> None:
    """Without the patch upstream decides each evidence one way; with it, the other way."""
    patched = translate_schema(patch.file, patch.schema)
    upstream = translate_schema(patch.file, patch.schema, without=frozenset({patch.name}))
    for evidence in patch.evidence:
        assert (schema_violations(patched, evidence) == []) is patch.accepts
        assert (schema_violations(upstream, evidence) == []) is not patch.accepts


@pytest.mark.parametrize("patch", SCHEMA_PATCHES, ids=[p.name for p in SCHEMA_PATCHES])
def test_schema_patch_is_documented(patch: SchemaPatch) -> None:
    """The module docstring names every patch, and every patch gives a reason."""
    assert vcalm.__doc__ is not None
    assert f"``{patch.name}``" in vcalm.__doc__
    assert patch.reason


def test_patch_refuses_a_pinned_file_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A patch whose upstream value is not in the pinned file raises instead of applying."""
    stale = SchemaPatch(
        name="stale",
        file="components/Issuer.yml",
        edits=(SchemaEdit("/components/schemas/Issuer/type", "string", "object"),),
        reason="test",
        schema="/components/schemas/Issuer",
        evidence=(),
        accepts=True,
    )
    monkeypatch.setattr(vcalm, "SCHEMA_PATCHES", (stale,))
    with pytest.raises(VcalmSchemaError, match="no longer holds"):
        vcalm._patched_document.__wrapped__("components/Issuer.yml", frozenset())


@pytest.mark.parametrize(("path", "method", "status"), COVERED_OPERATIONS)
def test_covered_operation_resolves_to_one_self_contained_schema(
    path: str, method: str, status: int | None
) -> None:
    """Every covered pair yields a schema with no ``$ref`` and no OpenAPI-only keyword left."""
    text = json.dumps(vcalm_schema(path, method, status))
    for keyword in ('"$ref"', '"nullable"', '"example"', '"description"'):
        assert keyword not in text


@pytest.mark.parametrize(
    ("path", "status", "body"), CONFORMING, ids=[f"{p} {s}" for p, s, _ in CONFORMING]
)
def test_conforming_body_is_accepted(path: str, status: int | None, body: Any) -> None:
    """A hand-made body that follows the schema passes."""
    assert_vcalm_body(path, "post", status, body)


@pytest.mark.parametrize(
    ("path", "status", "body", "pointer"),
    [case[1:] for case in NON_CONFORMING],
    ids=[case[0] for case in NON_CONFORMING],
)
def test_non_conforming_body_is_refused(
    path: str, status: int | None, body: Any, pointer: str
) -> None:
    """A body with a missing required member or a wrong type fails, naming where."""
    with pytest.raises(AssertionError) as failure:
        assert_vcalm_body(path, "post", status, body)
    assert f"\n  {pointer}: " in str(failure.value)


def test_failure_lists_every_violation() -> None:
    """Three independent violations give three lines, each with its JSON pointer."""
    body = {"credentialId": 1, "credentialStatus": {"type": "T"}, "status": "no", "extra": 0}
    with pytest.raises(AssertionError) as failure:
        assert_vcalm_body("/credentials/status", "post", None, body)
    message = str(failure.value)
    assert "POST /credentials/status request body violates the VC API schema" in message
    lines = [line.strip() for line in message.splitlines()[1:]]
    assert len(lines) == 4
    assert {line.split(":")[0] for line in lines} == {
        "/",
        "/credentialId",
        "/credentialStatus",
        "/status",
    }


def test_challenges_answers_200_with_a_challenge_and_takes_no_body() -> None:
    """Upstream declares ``200`` (not ``201``) and no request body for POST /challenges."""
    schema = vcalm_schema("/challenges", "post", 200)
    assert schema["properties"]["challenge"]["type"] == "string"
    assert not vcalm_declares_body("/challenges", "post", None)
    with pytest.raises(VcalmSchemaError, match="no 201 response"):
        vcalm_schema("/challenges", "post", 201)
    with pytest.raises(VcalmSchemaError, match="no request body"):
        vcalm_schema("/challenges", "post", None)
    with pytest.raises(AssertionError):
        assert_vcalm_body("/challenges", "post", 200, {"challenge": "c", "expires": "soon"})


def test_response_without_content_checks_only_the_status() -> None:
    """A declared status without a body schema accepts any body; an undeclared one raises."""
    assert not vcalm_declares_body("/credentials/issue", "post", 400)
    assert vcalm_schema("/credentials/issue", "post", 400) == {}
    assert_vcalm_body("/credentials/issue", "post", 400, ["anything"])
    with pytest.raises(VcalmSchemaError, match="no 422 response"):
        assert_vcalm_body("/credentials/issue", "post", 422, {})
    with pytest.raises(VcalmSchemaError, match="no 404 response"):
        assert_vcalm_body("/credentials/verify", "post", 404, {})


def test_unknown_operation_and_unpinned_reference_raise() -> None:
    """An undeclared path or method, and a schema that needs an unpinned file, raise."""
    with pytest.raises(VcalmSchemaError, match="no path"):
        vcalm_schema("/credentials/revoke", "post", None)
    with pytest.raises(VcalmSchemaError, match="declares no GET"):
        vcalm_schema("/credentials/issue", "get", 201)
    with pytest.raises(VcalmSchemaError, match="not pinned"):
        vcalm_schema("/credentials/derive", "post", None)


def test_nullable_adds_null_only_where_a_type_is_given() -> None:
    """OpenAPI 3.0.3 Schema Object ``nullable``: ``holder`` upstream is object or null."""
    pointer = "/components/schemas/Presentation/properties/holder"
    upstream = translate_schema("components/Presentation.yml", pointer, without=None)
    assert schema_violations(upstream, None) == []
    assert schema_violations(upstream, {"id": HOLDER}) == []
    assert schema_violations(upstream, HOLDER) != []
    patched = translate_schema("components/Presentation.yml", pointer)
    for value in (None, {"id": HOLDER}, HOLDER):
        assert schema_violations(patched, value) == []
    assert schema_violations(patched, 3) != []


def test_example_keyword_does_not_constrain() -> None:
    """``example`` is an annotation: a proof unlike the example still validates."""
    schema = translate_schema(
        "components/DataIntegrityProof.yml", "/components/schemas/DataIntegrityProof"
    )
    assert schema_violations(schema, {"type": "DataIntegrityProof", "cryptosuite": "x"}) == []
    assert schema_violations(schema, {"cryptosuite": 1}) != []

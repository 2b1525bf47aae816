"""Validate bodies against the pinned W3C VC API (``w3c/vcalm``) OpenAPI description.

The files are the byte-for-byte copies under ``tests/vectors/vcalm`` (``oas.yaml`` and the
``components/*.yml`` it references; ``PROVENANCE.md`` names their commits and SHA-256). Nothing
outside the repository is read.

Call :func:`assert_vcalm_body` with an operation (path, method), a status (``None`` for the
request body) and a decoded JSON body; it raises :class:`AssertionError` listing every
violation, one per line, each with the JSON pointer of the offending member. :func:`vcalm_schema`
returns the JSON Schema the body is checked against.

Operations covered (``COVERED_OPERATIONS``; every pair is resolved and tested):

- ``POST /credentials/issue``: request, ``201`` (``IssueCredentialResponse``), ``400``.
- ``POST /credentials/status``: request (``UpdateCredentialStatusRequest``), ``200``, ``400``,
  ``404``.
- ``POST /credentials/verify``: request (one of ``VerifyCredentialRequest``,
  ``VerifyEnvelopedCredentialRequest``), ``200`` (``VerifyCredentialResult.yml``), ``400``.
- ``POST /presentations/verify``: request (one of ``VerifyPresentationRequest``,
  ``ProoflessVerifyPresentationRequest``, ``VerifyEnvelopedPresentationRequest``), ``200``
  (``VerifyPresentationResult.yml``), ``400``.
- ``POST /challenges``: ``200`` (``Challenge.yml#CreateChallengeResult``; upstream declares
  ``200``, not ``201``), ``400``. It declares no request body (the request is empty).

Other operations work too when every file they reference is pinned; those that reference an
unpinned file (workflows, exchanges, derive, create presentation) raise :class:`VcalmSchemaError`.

Translation from OpenAPI 3.0 to JSON Schema. An OpenAPI 3.0 Schema Object is an extended subset
of JSON Schema Wright draft 00, whose validation keywords are draft 4's (boolean
``exclusiveMaximum``), so the result is checked with ``jsonschema_rs.Draft4Validator``, formats
asserted. ``$ref`` is inlined across files (a relative file path, then a JSON pointer); the
members beside a ``$ref`` are ignored, as OpenAPI 3.0 says. ``nullable: true`` adds ``"null"``
to ``type`` when the same object has a ``type`` and has no effect otherwise (OpenAPI 3.0.3,
Schema Object); an ``enum`` is left as it is, so it still refuses null unless it lists it.
The annotations ``example``, ``description``, ``title``, ``default``, ``deprecated``,
``discriminator``, ``externalDocs``, ``xml`` and every ``x-`` extension are dropped.
``readOnly`` and ``writeOnly`` change what ``required`` means per direction, which this
helper does not model; no covered schema uses them and any schema that does is refused with
:class:`VcalmSchemaError` rather than checked wrongly. A response declared without ``content``
(every ``400``/``404`` above, and ``200`` of ``/credentials/status``) has no body schema:
:func:`vcalm_schema` returns ``{}`` for it and :func:`assert_vcalm_body` then checks only that
upstream declares the status. A status upstream does not declare is refused.

Upstream schema faults (``SCHEMA_PATCHES``; each patch names the exact upstream value it
replaces and fails loudly if the pinned file no longer holds it, and
``tests/test_vcalm_schemas.py`` proves each one is needed):

- ``issuer-url-refused`` and ``issuer-request-url-refused`` (``Issuer.yml``): ``Issuer`` and
  ``IssuerRequest`` say ``type: object`` beside ``oneOf: [string, object]``, so no string
  issuer ever validates, although the ``oneOf`` lists one, every upstream credential example
  uses one and VC Data Model 2.0 makes a URL the first form. Patched: the ``type`` is removed.
- ``holder-url-refused`` (``Presentation.yml``): ``holder`` is ``type: object`` only, but VC
  Data Model 2.0 says a URL or an object, and both upstream presentation examples use a URL.
  Patched: string or object (or null, as upstream's ``nullable`` meant).
- ``issue-response-nested-under-its-own-name`` (``oas.yaml``): the ``201`` schema of
  ``/credentials/issue`` is an object whose one optional member is literally named
  ``IssueCredentialResponse``, so a real ``{"verifiableCredential": ...}`` body is never
  checked at all. Patched: it is ``VerifiableCredentialResponse`` itself (what
  ``GET /credentials/{id}`` returns). This patch makes the schema stricter.
- ``verify-presentation-branches-overlap`` (``oas.yaml``): the three ``oneOf`` branches of the
  ``/presentations/verify`` request require nothing and allow any member, so every body
  matches two or more of them and ``oneOf`` refuses every body. Patched: each branch requires
  the member it is about (``verifiablePresentation``, ``presentation``,
  ``verifiablePresentation``). ``/credentials/verify`` has the same shape but its two branches
  are told apart by ``type`` (array or string); only a body with neither member, such as
  ``{}``, matches both and is refused, which is left as upstream wrote it.

Upstream examples that do not match their own schema (``KNOWN_EXAMPLE_FAULTS``; they stay
faulty, the schemas are not loosened to let them pass):

- ``EnvelopedVerifiableCredential.yml`` and ``EnvelopedVerifiablePresentation.yml``:
  ``@context`` is one string; the schema requires an array.
- ``Presentation.yml`` and ``VerifiablePresentation.yml``: ``type`` is one string; the schema
  requires an array. (Both also put mapping entries straight into the ``verifiableCredential``
  flow sequence, so YAML reads five one-member objects instead of one credential; the schema
  requires no member, so that part is not detected.)
- ``VerifyCredentialResult.yml``: ``results.validFrom`` and ``results.validUntil`` are arrays;
  the schema says objects.

A single string is a valid JSON-LD spelling of a one-element ``@context``/``type``, but the
schemas ask for the array and Tongban always writes one, so those schemas are kept strict.

Upstream examples that match their schema only because the schema is loose (recorded, not
patched): ``VerifyPresentationResult.yml`` reports ``valid`` where the schema says
``verified`` (the result objects allow unknown members, so a result without ``verified`` is
not refused), and ``oas.yaml``'s ``UpdateCredentialStatusRequest`` example writes
``"status": True``, which YAML 1.1 (PyYAML) reads as the boolean true.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml  # type: ignore[import-untyped]

VCALM_DIR = Path(__file__).resolve().parent.parent / "vectors" / "vcalm"
"""The folder of the pinned VC API files."""

OAS_FILE = "oas.yaml"
"""The root OpenAPI document, relative to :data:`VCALM_DIR`."""

COVERED_OPERATIONS: tuple[tuple[str, str, int | None], ...] = (
    ("/credentials/issue", "post", None),
    ("/credentials/issue", "post", 201),
    ("/credentials/issue", "post", 400),
    ("/credentials/status", "post", None),
    ("/credentials/status", "post", 200),
    ("/credentials/status", "post", 400),
    ("/credentials/status", "post", 404),
    ("/credentials/verify", "post", None),
    ("/credentials/verify", "post", 200),
    ("/credentials/verify", "post", 400),
    ("/presentations/verify", "post", None),
    ("/presentations/verify", "post", 200),
    ("/presentations/verify", "post", 400),
    ("/challenges", "post", 200),
    ("/challenges", "post", 400),
)
"""(path, method, status or ``None`` for the request) pairs this helper is tested against."""

_JSON_SCHEMA_KEYWORDS = frozenset(
    {
        *("type", "enum", "required", "format", "pattern", "multipleOf", "uniqueItems"),
        *("maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength"),
        *("maxItems", "minItems", "maxProperties", "minProperties"),
    }
)
_ANNOTATIONS = frozenset(
    {"example", "description", "title", "default", "deprecated", "discriminator", "externalDocs"}
    | {"xml"}
)
_SUBSCHEMA_LISTS = ("allOf", "oneOf", "anyOf")


class VcalmSchemaError(Exception):
    """The pinned files cannot answer: unknown operation or status, unpinned file, bad patch."""


class _Absent:
    """The marker of a member that is not there (before a patch adds it, after one removes it)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""In a :class:`SchemaEdit`, the member is missing (``before``) or is removed (``after``)."""


@dataclass(frozen=True)
class SchemaEdit:
    """Replace the value at ``pointer`` (JSON pointer), which must be exactly ``before``."""

    pointer: str
    before: Any
    after: Any


@dataclass(frozen=True)
class SchemaPatch:
    """One named, deliberate correction of an upstream schema fault.

    Every edit checks that the pinned ``file`` (relative to :data:`VCALM_DIR`) still holds the
    exact upstream value, so a re-pinned file makes the patch fail instead of drift. The
    ``evidence`` instances, checked against the schema at ``file#schema``, are what the patch is
    for: the patched schema ``accepts`` each where the upstream one refuses it, or refuses each
    where the upstream one accepts it.
    """

    name: str
    file: str
    edits: tuple[SchemaEdit, ...]
    reason: str
    schema: str
    evidence: tuple[Any, ...]
    accepts: bool


@dataclass(frozen=True)
class KnownExampleFault:
    """An upstream ``example`` that does not match the schema it illustrates."""

    file: str
    pointer: str
    reason: str


_V2 = "https://www.w3.org/ns/credentials/v2"
_VERIFIABLE_CREDENTIAL_RESPONSE = (
    "./components/VerifiableCredentialResponse.yml#/components/schemas/VerifiableCredentialResponse"
)

SCHEMA_PATCHES: tuple[SchemaPatch, ...] = (
    SchemaPatch(
        name="issuer-url-refused",
        file="components/Issuer.yml",
        edits=(SchemaEdit("/components/schemas/Issuer/type", "object", ABSENT),),
        reason="`type: object` beside `oneOf: [string, object]` refuses every string issuer",
        schema="/components/schemas/Issuer",
        evidence=("did:example:issuer",),
        accepts=True,
    ),
    SchemaPatch(
        name="issuer-request-url-refused",
        file="components/Issuer.yml",
        edits=(SchemaEdit("/components/schemas/IssuerRequest/type", "object", ABSENT),),
        reason="the same contradiction in the issue request's `credential.issuer`",
        schema="/components/schemas/IssuerRequest",
        evidence=("did:example:issuer",),
        accepts=True,
    ),
    SchemaPatch(
        name="holder-url-refused",
        file="components/Presentation.yml",
        edits=(
            SchemaEdit("/components/schemas/Presentation/properties/holder/type", "object", ABSENT),
            SchemaEdit(
                "/components/schemas/Presentation/properties/holder/oneOf",
                ABSENT,
                [{"type": "string"}, {"type": "object", "nullable": True}],
            ),
        ),
        reason="`holder` is `type: object` only; VC Data Model 2.0 allows a URL",
        schema="/components/schemas/Presentation",
        evidence=({"@context": [_V2], "type": ["VerifiablePresentation"], "holder": "did:x:h"},),
        accepts=True,
    ),
    SchemaPatch(
        name="issue-response-nested-under-its-own-name",
        file=OAS_FILE,
        edits=(
            SchemaEdit(
                "/components/schemas/IssueCredentialResponse",
                {
                    "type": "object",
                    "properties": {
                        "IssueCredentialResponse": {"$ref": _VERIFIABLE_CREDENTIAL_RESPONSE}
                    },
                },
                {"$ref": _VERIFIABLE_CREDENTIAL_RESPONSE},
            ),
        ),
        reason="the 201 body is nested under a member named `IssueCredentialResponse`",
        schema="/components/schemas/IssueCredentialResponse",
        evidence=({"verifiableCredential": "not a credential"},),
        accepts=False,
    ),
    SchemaPatch(
        name="verify-presentation-branches-overlap",
        file=OAS_FILE,
        edits=tuple(
            SchemaEdit(f"/components/schemas/{name}/required", ABSENT, [member])
            for name, member in (
                ("VerifyPresentationRequest", "verifiablePresentation"),
                ("ProoflessVerifyPresentationRequest", "presentation"),
                ("VerifyEnvelopedPresentationRequest", "verifiablePresentation"),
            )
        ),
        reason="every request body matches two or more `oneOf` branches, so all are refused",
        schema="/paths/~1presentations~1verify/post/requestBody/content/application~1json/schema",
        evidence=(
            {"verifiablePresentation": {"@context": [_V2], "type": ["VerifiablePresentation"]}},
            {"presentation": {"@context": [_V2], "type": ["VerifiablePresentation"]}},
            {
                "verifiablePresentation": {
                    "@context": [_V2],
                    "id": "data:application/vp+jwt,eyJ",
                    "type": "EnvelopedVerifiablePresentation",
                }
            },
        ),
        accepts=True,
    ),
)
"""Every correction applied to the pinned schemas (see the module docstring)."""

KNOWN_EXAMPLE_FAULTS: tuple[KnownExampleFault, ...] = (
    KnownExampleFault(
        "components/EnvelopedVerifiableCredential.yml",
        "/components/schemas/EnvelopedVerifiableCredential/example",
        "`@context` is a single string where the schema requires an array",
    ),
    KnownExampleFault(
        "components/EnvelopedVerifiablePresentation.yml",
        "/components/schemas/EnvelopedVerifiablePresentation/example",
        "`@context` is a single string where the schema requires an array",
    ),
    KnownExampleFault(
        "components/Presentation.yml",
        "/components/schemas/Presentation/example",
        "`type` is a single string where the schema requires an array",
    ),
    KnownExampleFault(
        "components/VerifiablePresentation.yml",
        "/components/schemas/VerifiablePresentation/example",
        "`type` is a single string where the schema requires an array",
    ),
    KnownExampleFault(
        "components/VerifyCredentialResult.yml",
        "/components/schemas/VerificationResult/example",
        "`results.validFrom` and `results.validUntil` are arrays where the schema requires objects",
    ),
)
"""Every upstream example known not to match its own schema (see the module docstring)."""


def _escape(token: str) -> str:
    """Escape one JSON pointer reference token (RFC 6901 section 4)."""
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    """Unescape one JSON pointer reference token (RFC 6901 section 4)."""
    return token.replace("~1", "/").replace("~0", "~")


def _at(document: Any, pointer: str, where: str) -> Any:
    """Return the value at a JSON pointer (RFC 6901) or raise naming ``where``."""
    if pointer in ("", "/"):
        return document
    node = document
    for token in (_unescape(part) for part in pointer.lstrip("/").split("/")):
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise VcalmSchemaError(f"{where}: no member {token!r} on the way to {pointer}")
    return node


@functools.cache
def pinned_document(file: str) -> Any:
    """Return a pinned file parsed as YAML, exactly as upstream wrote it (no patch applied)."""
    path = (VCALM_DIR / file).resolve()
    if not path.is_relative_to(VCALM_DIR) or not path.is_file():
        raise VcalmSchemaError(f"{file} is not pinned under {VCALM_DIR} (see PROVENANCE.md)")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _patches_for(file: str, without: frozenset[str]) -> list[SchemaPatch]:
    """Return the patches of ``file``, less those named in ``without``."""
    unknown = without - {patch.name for patch in SCHEMA_PATCHES}
    if unknown:
        raise VcalmSchemaError(f"no such schema patch: {sorted(unknown)}")
    return [p for p in SCHEMA_PATCHES if p.file == file and p.name not in without]


@functools.cache
def _patched_document(file: str, without: frozenset[str] = frozenset()) -> Any:
    """Return a pinned file with its :data:`SCHEMA_PATCHES` applied, but those in ``without``."""
    document = copy.deepcopy(pinned_document(file))
    for patch in _patches_for(file, without):
        for edit in patch.edits:
            head, _, last = edit.pointer.rpartition("/")
            parent = _at(document, head, f"patch {patch.name}")
            key = _unescape(last)
            current = parent.get(key, ABSENT) if isinstance(parent, dict) else None
            if current != edit.before:
                raise VcalmSchemaError(
                    f"patch {patch.name}: {file}#{edit.pointer} no longer holds the upstream "
                    f"value the patch replaces; found {current!r}"
                )
            if edit.after is ABSENT:
                del parent[key]
            else:
                parent[key] = copy.deepcopy(edit.after)
    return document


def _target(ref: str, base: str) -> tuple[str, str]:
    """Split a ``$ref`` found in ``base`` into (file relative to VCALM_DIR, JSON pointer)."""
    location, _, fragment = ref.partition("#")
    if not location:
        return base, fragment
    if "://" in location:
        raise VcalmSchemaError(f"{base}: remote $ref {ref!r} is not supported offline")
    joined = (VCALM_DIR / base).parent / location
    return joined.resolve().relative_to(VCALM_DIR.resolve()).as_posix(), fragment


def _document(file: str, without: frozenset[str] | None) -> Any:
    """Return a pinned file patched (less ``without``), or as upstream wrote it (``None``)."""
    return pinned_document(file) if without is None else _patched_document(file, without)


def _translate(node: Any, base: str, without: frozenset[str] | None, seen: tuple[str, ...]) -> Any:
    """Turn an OpenAPI 3.0 Schema Object into a self-contained draft 4 JSON Schema."""
    if isinstance(node, bool):
        return node
    if not isinstance(node, Mapping):
        raise VcalmSchemaError(f"{base}: a schema must be an object, found {node!r}")
    if "$ref" in node:
        file, pointer = _target(str(node["$ref"]), base)
        key = f"{file}#{pointer}"
        if key in seen:
            raise VcalmSchemaError(f"recursive $ref {key} cannot be inlined")
        target = _at(_document(file, without), pointer, f"$ref {node['$ref']!r} in {base}")
        return _translate(target, file, without, (*seen, key))
    out: dict[str, Any] = {}
    for keyword, value in node.items():
        if keyword in _JSON_SCHEMA_KEYWORDS:
            out[keyword] = copy.deepcopy(value)
        elif keyword in _ANNOTATIONS or keyword.startswith("x-") or keyword == "nullable":
            continue
        elif keyword == "properties":
            out[keyword] = {
                name: _translate(sub, base, without, seen) for name, sub in value.items()
            }
        elif keyword in ("items", "not", "additionalProperties"):
            out[keyword] = _translate(value, base, without, seen)
        elif keyword in _SUBSCHEMA_LISTS:
            out[keyword] = [_translate(sub, base, without, seen) for sub in value]
        else:
            raise VcalmSchemaError(f"{base}: schema keyword {keyword!r} is not handled here")
    if node.get("nullable") is True and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = types if "null" in types else [*types, "null"]
    return out


def translate_schema(
    file: str, pointer: str, *, without: frozenset[str] | None = frozenset()
) -> dict[str, Any]:
    """Return the JSON Schema for the OpenAPI Schema Object at ``file#pointer``.

    ``without`` names patches of :data:`SCHEMA_PATCHES` to leave out; ``None`` leaves them all
    out (the files exactly as upstream wrote them). The tests use it to prove each patch needed.
    """
    node = _at(_document(file, without), pointer, file)
    schema = _translate(node, file, without, ())
    if not isinstance(schema, dict):
        raise VcalmSchemaError(f"{file}#{pointer} is a boolean schema, not an object")
    return schema


def _operation(path: str, method: str) -> tuple[str, dict[str, Any]]:
    """Return the JSON pointer and object of one operation of ``oas.yaml``."""
    paths = pinned_document(OAS_FILE)["paths"]
    if path not in paths:
        raise VcalmSchemaError(f"oas.yaml declares no path {path}")
    operation = paths[path].get(method.lower())
    if not isinstance(operation, dict):
        raise VcalmSchemaError(f"oas.yaml declares no {method.upper()} {path}")
    return f"/paths/{_escape(path)}/{method.lower()}", operation


def _json_media(container: Mapping[str, Any], where: str) -> str:
    """Return the pointer suffix of the ``application/json`` schema of a content map."""
    if "application/json" not in container.get("content", {}):
        raise VcalmSchemaError(f"{where} has no application/json content")
    return "/content/application~1json/schema"


def vcalm_declares_body(path: str, method: str, status: int | None) -> bool:
    """Whether upstream describes a JSON body for this request (``None``) or response status."""
    _, operation = _operation(path, method)
    if status is None:
        return "requestBody" in operation
    responses = operation.get("responses", {})
    if str(status) not in responses:
        raise VcalmSchemaError(f"{method.upper()} {path} declares no {status} response")
    return "content" in responses[str(status)]


def vcalm_schema(path: str, method: str, status: int | None) -> dict[str, Any]:
    """Return the JSON Schema (draft 4) of a request body (``status=None``) or a response.

    A response declared without ``content`` yields ``{}``; an undeclared status, an operation
    without a request body (asked for ``None``), or one referencing an unpinned file raises
    :class:`VcalmSchemaError`.
    """
    pointer, operation = _operation(path, method)
    where = f"{method.upper()} {path}"
    if status is None:
        if "requestBody" not in operation:
            raise VcalmSchemaError(f"{where} declares no request body")
        media = _json_media(operation["requestBody"], f"{where} request")
        return translate_schema(OAS_FILE, f"{pointer}/requestBody{media}")
    if not vcalm_declares_body(path, method, status):
        return {}
    response = operation["responses"][str(status)]
    media = _json_media(response, f"{where} {status}")
    return translate_schema(OAS_FILE, f"{pointer}/responses/{status}{media}")


def schema_violations(schema: Mapping[str, Any], body: object) -> list[str]:
    """Return one readable line per violation of ``schema`` by ``body`` (empty when valid)."""
    validator = jsonschema_rs.Draft4Validator(dict(schema), validate_formats=True)
    lines = []
    for error in validator.iter_errors(body):
        where = "/" + "/".join(_escape(str(part)) for part in error.instance_path)
        rule = "/".join(str(part) for part in error.schema_path)
        lines.append(f"{where}: {error.message} (schema {rule})")
    return sorted(lines)


def assert_vcalm_body(path: str, method: str, status: int | None, body: object) -> None:
    """Fail with every violation when ``body`` does not match the upstream schema.

    ``status`` is ``None`` for the request body, else the response status; ``body`` is the
    decoded JSON. Raises :class:`AssertionError` (one line per violation) on a mismatch and
    :class:`VcalmSchemaError` when the operation or status is not declared upstream.
    """
    schema = vcalm_schema(path, method, status)
    violations = schema_violations(schema, body)
    if violations:
        what = "request" if status is None else f"{status} response"
        listing = "\n".join(f"  {line}" for line in violations)
        raise AssertionError(
            f"{method.upper()} {path} {what} body violates the VC API schema "
            f"({len(violations)} violation(s)):\n{listing}"
        )

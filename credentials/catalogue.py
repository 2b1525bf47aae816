"""The province's certificate catalogue: what each template issues, claim by claim.

``describe(template)`` is the one description of a template that the HTTP
route (``GET /templates``), the command line (``tongban templates``) and the
OpenAPI examples share: its type and schema, and for every claim its JSON
type, format, enumeration, pattern and length or range limits, whether it is
required, whether it is disclosable, and the example the schema carries.
``national`` is the template's GB/T 36903 metadata (``describe_national``): type
code and name, defining authority, trust grade, the holder-ID type, and which
claims are always shown, disclosable and printed.
``example_request(template, holder)`` is a complete ``POST /credentials/issue``
body built from those examples (fictitious data), so an issuing system can
start from a request that works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credentials.templates import TEMPLATES, Template
from credentials.zhengzhao.profile import HOLDER_ID_TYPES

__all__ = [
    "EXAMPLE_HOLDER",
    "ClaimDescription",
    "describe",
    "describe_all",
    "describe_national",
    "example_claims",
    "example_request",
]

EXAMPLE_HOLDER = "did:key:zEPJcWYthYWR7abw4xQZwUyoACG8x32EJHsVTevU43h4NCZtY"
"""A well-formed holder DID for examples (``tongban wallet create`` makes a real one)."""

_LIMITS = ("pattern", "minLength", "maxLength", "minimum", "maximum")


@dataclass(frozen=True)
class ClaimDescription:
    """One claim of a template, as an issuing system needs to know it."""

    name: str
    type: str
    required: bool
    disclosable: bool
    format: str | None
    enum: tuple[Any, ...] | None
    limits: Mapping[str, Any]
    description: str | None
    example: Any

    def to_json(self) -> dict[str, Any]:
        """CamelCase JSON, omitting what the claim does not have."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "disclosable": self.disclosable,
        }
        if self.format is not None:
            out["format"] = self.format
        if self.enum is not None:
            out["enum"] = list(self.enum)
        out.update(self.limits)
        if self.description is not None:
            out["description"] = self.description
        if self.example is not None:
            out["example"] = self.example
        return out


def _claim(template: Template, name: str) -> ClaimDescription:
    schema: Mapping[str, Any] = template.subject_schema["properties"][name]
    examples = schema.get("examples") or [None]
    kind = schema.get("type", "string")
    return ClaimDescription(
        name=name,
        type=kind if isinstance(kind, str) else "|".join(kind),
        required=name in template.required_claims,
        disclosable=name in template.disclosable,
        format=schema.get("format"),
        enum=tuple(schema["enum"]) if "enum" in schema else None,
        limits={k: schema[k] for k in _LIMITS if k in schema},
        description=schema.get("description"),
        example=examples[0],
    )


def example_claims(template: Template) -> dict[str, Any]:
    """Every claim of ``template`` that has an example, with it."""
    claims = (_claim(template, name) for name in template.claims)
    return {c.name: c.example for c in claims if c.example is not None}


def example_request(template: Template, holder: str = EXAMPLE_HOLDER) -> dict[str, Any]:
    """A ``POST /credentials/issue`` body for ``template`` built from the schema's examples."""
    return {"template": template.name, "holder": holder, "claims": example_claims(template)}


def describe_national(template: Template) -> dict[str, Any] | None:
    """The template's national metadata (camelCase JSON), or None if it has none.

    ``alwaysShown`` and ``disclosable`` split the claims as credentials carry them;
    ``printed`` names the claims a printed certificate shows (of those disclosed).
    """
    national = template.national
    if national is None:
        return None
    out: dict[str, Any] = {
        "typeCode": national.type_code,
        "typeName": national.type_name,
        "definingAuthority": national.defining_authority,
        "trustGrade": national.trust_grade,
    }
    if national.usage_note is not None:
        out["usageNote"] = national.usage_note
    if national.holder_id_type is not None:
        out["holderIdType"] = {
            "code": national.holder_id_type,
            "name": HOLDER_ID_TYPES[national.holder_id_type],
        }
    for key, claim in (
        ("holderClaim", national.holder_claim),
        ("holderIdClaim", national.holder_id_claim),
        ("numberClaim", national.number_claim),
    ):
        if claim is not None:
            out[key] = claim
    out["alwaysShown"] = [c for c in template.claims if c in template.clear]
    out["disclosable"] = [c for c in template.claims if c in template.disclosable]
    out["printed"] = list(national.printed)
    return out


def describe(template: Template) -> dict[str, Any]:
    """The catalogue entry of ``template`` (camelCase JSON; ``national`` only when it has some)."""
    entry: dict[str, Any] = {
        "name": template.name,
        "type": ["VerifiableCredential", template.type_],
        "title": template.title,
        "schemaId": template.schema_id,
    }
    national = describe_national(template)
    if national is not None:
        entry["national"] = national
    entry["claims"] = [_claim(template, name).to_json() for name in template.claims]
    entry["exampleRequest"] = example_request(template)
    return entry


def describe_all() -> list[dict[str, Any]]:
    """Every packaged template's catalogue entry, by name."""
    return [describe(TEMPLATES[name]) for name in sorted(TEMPLATES)]

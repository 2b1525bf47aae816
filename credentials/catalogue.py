"""The province's certificate catalogue: what each template issues, claim by claim.

``describe(template)`` is the one description of a template that the HTTP
route (``GET /templates``), the command line (``tongban templates``) and the
OpenAPI examples share: its type and schema, and for every claim its JSON
type, format, enumeration, pattern and length or range limits, whether it is
required, whether it is disclosable, and the example the schema carries.
``example_request(template, holder)`` is a complete ``POST /credentials/issue``
body built from those examples (fictitious data), so an issuing system can
start from a request that works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credentials.templates import TEMPLATES, Template

__all__ = [
    "EXAMPLE_HOLDER",
    "ClaimDescription",
    "describe",
    "describe_all",
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


def describe(template: Template) -> dict[str, Any]:
    """The catalogue entry of ``template`` (camelCase JSON)."""
    return {
        "name": template.name,
        "type": ["VerifiableCredential", template.type_],
        "title": template.title,
        "schemaId": template.schema_id,
        "claims": [_claim(template, name).to_json() for name in template.claims],
        "exampleRequest": example_request(template),
    }


def describe_all() -> list[dict[str, Any]]:
    """Every packaged template's catalogue entry, by name."""
    return [describe(TEMPLATES[name]) for name in sorted(TEMPLATES)]

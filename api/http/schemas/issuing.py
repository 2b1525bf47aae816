"""The OpenAPI description of the issuing bodies: one request schema per certificate template.

The issuing routes validate a request with ``IssueIn`` (the envelope: template
name, holder, claims object, validity) and then the template's own JSON Schema
(``credentials.templates``: the claims and the holder). The published document
says all of it, so that ``POST /credentials/issue`` can be filled from ``/docs``
alone; this module only documents, the validation stays where it is:

- ``IssueIn`` (the component every issuing body refers to, the batch's items
  too) is a ``oneOf`` of one schema per template, ``Issue<Type>In``, whose
  ``template`` is a constant, ``holder`` the template's rule for the subject id,
  ``claims`` a reference to ``<Type>Claims`` (the template's claims schema with
  its examples) and ``validFrom``/``validUntil`` as ``IssueIn`` has them. The
  branches exclude each other by their constant, with no ``discriminator``, so
  a request dialect without ``template`` (VC-API's ``credential``) can be added
  as one more branch.
- ``issue_examples`` and ``batch_examples`` are the worked examples of the two
  operations, from the catalogue (``credentials.catalogue.example_request``):
  one per template, each of which issues as it is.
"""

from __future__ import annotations

import copy
from typing import Any

from api.http.schemas.credentials import IssueIn
from credentials.catalogue import example_request
from credentials.templates import TEMPLATES, Template

__all__ = [
    "ISSUE_SCHEMA",
    "batch_examples",
    "claims_schema_name",
    "issue_components",
    "issue_examples",
    "request_schema_name",
]

ISSUE_SCHEMA = "IssueIn"
"""The component every issuing request body refers to (``oneOf`` the templates' requests)."""

_REF = "#/components/schemas/"
_ENVELOPE = ("validFrom", "validUntil", "certificateFile")


def request_schema_name(template: Template) -> str:
    """``Issue<Type>In``: the component of one request for ``template``."""
    return f"Issue{template.credential_type}In"


def claims_schema_name(template: Template) -> str:
    """``<Type>Claims``: the component of ``template``'s claims."""
    return f"{template.credential_type}Claims"


def _claims_schema(template: Template) -> dict[str, Any]:
    subject = copy.deepcopy(dict(template.subject_schema))
    subject["properties"].pop("id", None)
    subject["required"] = [name for name in subject.get("required", []) if name != "id"]
    disclosable = ", ".join(f"`{name}`" for name in template.disclosable)
    clear = ", ".join(f"`{name}`" for name in template.clear)
    subject["title"] = claims_schema_name(template)
    subject["description"] = (
        f"The claims of a {template.title}, in clear. Selectively disclosable (replaced "
        f"by salted digests in the credential): {disclosable}."
        + (f" Always shown: {clear}." if clear else "")
    )
    return subject


def _request_schema(template: Template, envelope: dict[str, Any]) -> dict[str, Any]:
    properties = envelope["properties"]
    holder = dict(template.subject_schema["properties"]["id"])
    holder["description"] = properties["holder"].get("description", "")
    holder.pop("examples", None)
    return {
        "title": request_schema_name(template),
        "description": f"One {template.title} (template `{template.name}`).",
        "type": "object",
        "additionalProperties": False,
        "required": list(envelope["required"]),
        "properties": {
            "template": {
                "const": template.name,
                "description": "The certificate template (`GET /templates`).",
            },
            "holder": holder,
            "claims": {
                "$ref": _REF + claims_schema_name(template),
                "description": properties["claims"].get("description", ""),
            },
            **{name: properties[name] for name in _ENVELOPE},
        },
    }


def issue_components() -> dict[str, dict[str, Any]]:
    """The components that describe an issue request, by name.

    ``IssueIn`` among them replaces the envelope model's own schema: every issuing
    body refers to it.
    """
    envelope = IssueIn.model_json_schema(ref_template=_REF + "{model}", by_alias=True)
    templates = [TEMPLATES[name] for name in sorted(TEMPLATES)]
    components: dict[str, dict[str, Any]] = {
        ISSUE_SCHEMA: {
            "title": ISSUE_SCHEMA,
            "description": "One credential to issue: the request of one certificate template "
            "(its `template` says which; the claims are the template's, in clear).",
            "oneOf": [{"$ref": _REF + request_schema_name(t)} for t in templates],
        }
    }
    for template in templates:
        components[request_schema_name(template)] = _request_schema(template, envelope)
        components[claims_schema_name(template)] = _claims_schema(template)
    return components


def issue_examples() -> dict[str, dict[str, Any]]:
    """OpenAPI examples of ``POST /credentials/issue``: one per template, each issues as is."""
    return {
        name: {
            "summary": TEMPLATES[name].title,
            "description": "Fictitious claims from the template's schema; posted as is, it issues.",
            "value": example_request(TEMPLATES[name]),
        }
        for name in sorted(TEMPLATES)
    }


def batch_examples() -> dict[str, dict[str, Any]]:
    """OpenAPI examples of ``POST /credentials/issue/batch``: one credential of each template."""
    return {
        "one-of-each": {
            "summary": "One credential of each template",
            "description": "The single-request examples in one batch; posted as is, it issues.",
            "value": {"requests": [example_request(TEMPLATES[n]) for n in sorted(TEMPLATES)]},
        }
    }

"""Answers of ``GET /templates``: the certificate catalogue (``credentials.catalogue``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.http.schemas.common import ApiModel

__all__ = ["ClaimOut", "TemplateOut", "TemplatesOut"]


class ClaimOut(ApiModel):
    """One claim of a template."""

    name: str
    type: str = Field(description="JSON type of the value: string, integer, number.")
    required: bool = Field(description="An issue request must carry it.")
    disclosable: bool = Field(
        description="Replaced by a salted digest; shown only when the holder discloses it."
    )
    format: str | None = Field(default=None, description="`date` or `date-time` when set.")
    enum: list[Any] | None = Field(default=None, description="The only values allowed.")
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str | None = None
    example: Any = Field(default=None, description="A fictitious example value.")


class TemplateOut(ApiModel):
    """One kind of certificate this province issues."""

    name: str = Field(description="The `template` of an issue request.")
    type: list[str] = Field(description="The credential's `type`.")
    title: str = Field(description="Chinese, then English.")
    schema_id: str = Field(description="`credentialSchema.id` of its credentials.")
    claims: list[ClaimOut]
    example_request: dict[str, Any] = Field(
        description="A complete `POST /credentials/issue` body built from the examples."
    )


class TemplatesOut(ApiModel):
    """The catalogue."""

    templates: list[TemplateOut]

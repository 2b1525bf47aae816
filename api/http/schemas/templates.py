"""Answers of ``GET /templates``: the certificate catalogue (``credentials.catalogue``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.http.schemas.common import ApiModel

__all__ = ["ClaimOut", "HolderIdTypeOut", "NationalOut", "TemplateOut", "TemplatesOut"]


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


class HolderIdTypeOut(ApiModel):
    """持证主体代码类型: the kind of identifier the holder is known by."""

    code: str = Field(description="`111` 公民身份号码, `001` 统一社会信用代码.")
    name: str


class NationalOut(ApiModel):
    """GB/T 36903 metadata of the template's certificates (docs/zhengzhao-metadata.md)."""

    type_code: str = Field(description="证照类型代码: the defining authority's USCC + 3 digits.")
    type_name: str = Field(description="证照类型名称.")
    defining_authority: str = Field(description="证照定义机构.")
    trust_grade: str = Field(description="信任等级 A-D (国办函 (2016) No. 108).")
    usage_note: str | None = Field(
        default=None, description="The note of grade A; `{agency}`: the issuing agency's name."
    )
    holder_id_type: HolderIdTypeOut | None = None
    holder_claim: str | None = Field(default=None, description="The claim holding 持证主体.")
    holder_id_claim: str | None = Field(
        default=None, description="The claim holding 持证主体代码 (absent: not carried)."
    )
    number_claim: str | None = Field(default=None, description="The claim holding 证照编号.")
    always_shown: list[str] = Field(description="Claims every credential shows in clear.")
    disclosable: list[str] = Field(description="Claims shown only when the holder discloses.")
    printed: list[str] = Field(description="Claims a printed certificate shows.")


class TemplateOut(ApiModel):
    """One kind of certificate this province issues."""

    name: str = Field(description="The `template` of an issue request.")
    type: list[str] = Field(description="The credential's `type`.")
    title: str = Field(description="Chinese, then English.")
    schema_id: str = Field(description="`credentialSchema.id` of its credentials.")
    national: NationalOut | None = Field(
        default=None, description="GB/T 36903 metadata; its credentials carry `zhengzhao`."
    )
    claims: list[ClaimOut]
    example_request: dict[str, Any] = Field(
        description="A complete `POST /credentials/issue` body built from the examples."
    )


class TemplatesOut(ApiModel):
    """The catalogue."""

    templates: list[TemplateOut]

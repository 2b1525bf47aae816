"""The 电子证照 member of a verified credential, as the verification answer reports it.

One entry per credential that carries ``zhengzhao`` (docs/zhengzhao-metadata.md):
the member as signed, with the credential's position. Nothing personal.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.http.schemas.common import ApiModel, InputModel

__all__ = [
    "ZHENGZHAO_DESCRIPTION",
    "LookupAnchoringOut",
    "LookupAuthorizationOut",
    "ZhengzhaoAgencyOut",
    "ZhengzhaoLookupIn",
    "ZhengzhaoLookupOut",
    "ZhengzhaoOut",
]

ZHENGZHAO_DESCRIPTION = (
    "Tongban extension: the `zhengzhao` member of each credential that carries one "
    "(证照标识, agency, trust grade); absent when none does."
)
"""The description of ``VerificationOut.zhengzhao``."""


class ZhengzhaoAgencyOut(ApiModel):
    """颁发机构: the issuing agency's name and 统一社会信用代码."""

    name: str
    code: str


class ZhengzhaoOut(ApiModel):
    """The 电子证照 member of one credential, as signed (docs/zhengzhao-metadata.md)."""

    credential: int = Field(description="The credential's position (0 for a credential alone).")
    identifier: str = Field(description="证照标识 (GB/T 36904).")
    type_code: str = Field(description="证照类型代码.")
    type_name: str = Field(description="证照类型名称.")
    issuing_agency: ZhengzhaoAgencyOut
    jurisdiction: str = Field(description="管辖属地编码 (GB/T 2260).")
    trust_grade: Literal["A", "B", "C", "D"] = Field(description="信任等级.")
    usage_note: str | None = Field(default=None, description="The note of grade A.")


class ZhengzhaoLookupIn(InputModel):
    """``POST /zhengzhao/lookup``: a 证照标识, and optionally the holder's authorization."""

    identifier: str = Field(
        max_length=256,
        description="证照标识 (GB/T 36904), check character included. In the body, never a URL.",
    )
    verifiable_presentation: Any = Field(
        default=None,
        description="The holder's authorization: a presentation signed by the credential's "
        "holder over a challenge of this province (`POST /challenges`, domain = this "
        "province's DID), carrying the credential with the claims the holder discloses. "
        "Verified in full (its challenge is used up); only then are those claims answered.",
    )


class LookupAnchoringOut(ApiModel):
    """Where the certificate's digest is on its way to the chain."""

    state: Literal["pending", "sealed", "anchored"]
    block_number: int | None = Field(
        default=None, description="Block of the anchoring, once final."
    )


class LookupAuthorizationOut(ApiModel):
    """Whether claims are answered, and why not."""

    presented: bool = Field(description="The request carried a presentation.")
    accepted: bool = Field(description="It verified and carries this certificate: claims answered.")
    reason: Literal["not_presented", "presentation_invalid", "credential_not_presented"] | None = (
        Field(default=None, description="Why no claims are answered (null when accepted).")
    )
    check_reason: str | None = Field(
        default=None,
        description="With `presentation_invalid`: the reason code of the presentation's "
        "first failing check (a code of the verification answer).",
    )


class ZhengzhaoLookupOut(ApiModel):
    """A certificate issued by this province, by its 证照标识: no claim, no holder DID."""

    identifier: str = Field(description="证照标识.")
    type_code: str = Field(description="证照类型代码.")
    type_name: str = Field(description="证照类型名称.")
    issuing_agency: ZhengzhaoAgencyOut
    jurisdiction: str = Field(description="管辖属地编码 (GB/T 2260).")
    trust_grade: Literal["A", "B", "C", "D"] = Field(description="信任等级.")
    issuer: str = Field(description="The issuing province's DID.")
    valid_from: str | None = None
    valid_until: str | None = None
    status: Literal["valid", "suspended", "revoked", "expired"] = Field(
        description="`suspended`/`revoked` as last requested by this province (the chain may "
        "lag: `GET /credentials/{digest}/status`), else `expired` past `validUntil`."
    )
    anchoring: LookupAnchoringOut
    authorization: LookupAuthorizationOut
    claims: dict[str, Any] | None = Field(
        default=None,
        description="Only with an accepted authorization: the claims the holder disclosed "
        "(never the holder DID).",
    )

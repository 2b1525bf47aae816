"""The 电子证照 member of a verified credential, as the verification answer reports it.

One entry per credential that carries ``zhengzhao`` (docs/zhengzhao-metadata.md):
the member as signed, with the credential's position. Nothing personal.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.http.schemas.common import ApiModel

__all__ = ["ZHENGZHAO_DESCRIPTION", "ZhengzhaoAgencyOut", "ZhengzhaoOut"]

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

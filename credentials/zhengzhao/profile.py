"""The 电子证照 member of a credential: what the national platform knows a certificate by.

Every credential of a template with national metadata carries, beside
``credentialSubject``, one member ``zhengzhao`` (signed with the credential,
never selectively disclosed, never personal)::

    "zhengzhao": {
      "identifier": "1.2.156.3005.2.<typeCode>.<agencyCode>.<serial>.<version>.<check>",
      "typeCode": "<the defining authority's USCC><3 digits>",
      "typeName": "学位证书",
      "issuingAgency": {"name": "…", "code": "<USCC>"},
      "jurisdiction": "330000",
      "trustGrade": "B",
      "usageNote": "…"            (trust grade A only)
    }

``identifier`` is the 证照标识 (GB/T 36904 as the provincial libraries use it,
``identifier.py``), allocated by the issuing province from a counter per
(type code, agency code); ``jurisdiction`` is the 管辖属地编码 (GB/T 2260).
The holder's own identifiers (持证主体代码, 证照编号) stay claims, disclosable.
``docs/zhengzhao-metadata.md`` maps every GB/T 36903 element to the credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "AGENCY_PLACEHOLDER",
    "HOLDER_ID_TYPES",
    "MEMBER",
    "TRUST_GRADES",
    "Agency",
    "NationalMetadata",
    "zhengzhao_member",
]

MEMBER: Final = "zhengzhao"
"""The credential member holding the national metadata."""

TRUST_GRADES: Final = ("A", "B", "C", "D")
"""信任等级 of the State Council General Office letter 国办函 (2016) No. 108; A highest."""

AGENCY_PLACEHOLDER: Final = "{agency}"
"""Replaced by the issuing agency's name in a credential's ``usageNote``."""

HOLDER_ID_TYPES: Final = {"111": "公民身份号码", "001": "统一社会信用代码"}
"""持证主体代码类型 codes Tongban's templates use, with their names (GB/T 36903 as
provincial interfaces cite it; ``docs/zhengzhao-metadata.md`` gives the sources)."""


@dataclass(frozen=True)
class Agency:
    """An issuing agency (颁发机构): its name and 统一社会信用代码 (validated on creation)."""

    code: str
    name: str


@dataclass(frozen=True)
class NationalMetadata:
    """What GB/T 36903 says about one template's certificates, fixed per template.

    ``type_code`` (证照类型代码) is the defining authority's USCC followed by three
    digits; ``printed`` names the claims a printed certificate shows (照面信息
    chosen for print, each a template claim). ``usage_note`` (grade A only) may name
    the issuing agency as ``AGENCY_PLACEHOLDER``. ``holder_id_type`` is the
    持证主体代码类型 (a key of ``HOLDER_ID_TYPES``); ``holder_claim``,
    ``holder_id_claim`` and ``number_claim`` name the claims that hold the 持证主体,
    the 持证主体代码 and the 证照编号 (None: the template has no such claim).
    """

    type_code: str
    type_name: str
    defining_authority: str
    trust_grade: str
    usage_note: str | None = None
    printed: tuple[str, ...] = ()
    holder_id_type: str | None = None
    holder_claim: str | None = None
    holder_id_claim: str | None = None
    number_claim: str | None = None


def zhengzhao_member(
    national: NationalMetadata, agency: Agency, identifier: str, jurisdiction: str
) -> dict[str, Any]:
    """The ``zhengzhao`` member of one credential (see the module docstring)."""
    member: dict[str, Any] = {
        "identifier": identifier,
        "typeCode": national.type_code,
        "typeName": national.type_name,
        "issuingAgency": {"name": agency.name, "code": agency.code},
        "jurisdiction": jurisdiction,
        "trustGrade": national.trust_grade,
    }
    if national.usage_note is not None:
        member["usageNote"] = national.usage_note.replace(AGENCY_PLACEHOLDER, agency.name)
    return member

"""用证事由: the catalogue of purpose codes, each in Chinese and English, with its category.

A purpose code says why personal data is accessed: the ``X-Purpose`` header of
an API request, the ``purpose`` of its access event, and the purpose a holder
binds a presentation to (``credentials.verify.purpose_binding``). The audit
log's rule for a code is its format only (``[a-z][a-z0-9_.-]{0,63}``,
``ledger.audit.events``); this catalogue gives the codes a meaning.

No national code list of 用证事由 was found (docs/purposes.md): national and
regional interfaces carry a free-text use reason (``useCause``) beside the
政务服务事项 it serves, and regional standards publish a 用证清单 of use
scenarios per service item. So each code here maps onto a *category* named
after the kind of 政务服务事项 (行政许可, 行政确认, 行政给付, 公共服务, …) it
serves, and the codes in use before the catalogue (``credential.issuance``,
``cross-province.enrolment``, ``audit.review``, …) are all listed.

A code that is not listed stays valid where the format allows it (existing
clients keep working); ``label`` reports it as unlisted (``listed`` False).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "CATEGORIES",
    "PURPOSES",
    "Category",
    "Purpose",
    "PurposeLabel",
    "catalogue_json",
    "label",
]


@dataclass(frozen=True)
class Category:
    """A national category of use: the kind of 政务服务事项 an access serves."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Purpose:
    """One purpose code of the catalogue.

    ``issued_by_tongban``: Tongban records it itself (an administrative or citizen
    event); no client needs to send it.
    """

    code: str
    zh: str
    en: str
    category: str
    issued_by_tongban: bool = False

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON (camelCase), as ``GET /purposes`` answers it."""
        return {
            "code": self.code,
            "zh": self.zh,
            "en": self.en,
            "category": self.category,
            "issuedByTongban": self.issued_by_tongban,
        }


@dataclass(frozen=True)
class PurposeLabel:
    """How a purpose code is shown: its labels, or "unlisted" when the catalogue lacks it."""

    code: str
    zh: str
    en: str
    category: str | None
    listed: bool

    def to_json(self) -> dict[str, Any]:
        """The label as JSON (camelCase)."""
        return {
            "code": self.code,
            "zh": self.zh,
            "en": self.en,
            "category": self.category,
            "listed": self.listed,
        }

    def text(self) -> str:
        """One line: ``code (中文 / English)``."""
        return f"{self.code} ({self.zh} / {self.en})"


_CATEGORIES = (
    Category("administrative-licensing", "行政许可", "Administrative licensing"),
    Category("administrative-confirmation", "行政确认", "Administrative confirmation"),
    Category("administrative-payment", "行政给付", "Administrative benefits"),
    Category("public-service", "公共服务", "Public services"),
    Category("cross-province-service", "跨省通办", "Cross-province services"),
    Category("supervision", "行政检查与监管", "Inspection and supervision"),
    Category("certificate-management", "证照管理", "Certificate management"),
    Category("oversight", "审计与个人信息保护", "Audit and data protection oversight"),
)
CATEGORIES: dict[str, Category] = {c.code: c for c in _CATEGORIES}
"""The categories, by code."""

_PURPOSES = (
    # -- codes in use before the catalogue (README, CLI defaults, tests): kept as they are
    Purpose(
        "credential.issuance",
        "颁发电子证照",
        "Issuing an electronic certificate",
        "certificate-management",
    ),
    Purpose(
        "credential.verification",
        "核验电子证照",
        "Verifying an electronic certificate",
        "public-service",
    ),
    Purpose(
        "cross-province.enrolment",
        "跨省通办事项受理登记",
        "Enrolment in a cross-province service",
        "cross-province-service",
    ),
    Purpose("audit.review", "审计核查", "Audit review", "oversight"),
    Purpose(
        "data-subject.access",
        "本人查询访问记录",
        "The data subject's own access history",
        "oversight",
        issued_by_tongban=True,
    ),
    Purpose(
        "administration",
        "系统管理",
        "Administration of the service",
        "oversight",
        issued_by_tongban=True,
    ),
    Purpose(
        "access-control",
        "访问控制",
        "Access control",
        "oversight",
        issued_by_tongban=True,
    ),
    # -- by kind of 政务服务事项
    Purpose(
        "licensing.application",
        "行政许可申请",
        "Applying for an administrative licence",
        "administrative-licensing",
    ),
    Purpose(
        "business.registration",
        "市场主体登记",
        "Registering a business",
        "administrative-licensing",
    ),
    Purpose(
        "household.registration",
        "户籍登记",
        "Household registration",
        "administrative-confirmation",
    ),
    Purpose(
        "qualification.recognition",
        "学历学位及资格认定",
        "Recognising a degree or qualification",
        "administrative-confirmation",
    ),
    Purpose(
        "social-security.claim",
        "社会保障待遇申领",
        "Claiming a social security benefit",
        "administrative-payment",
    ),
    Purpose(
        "education.enrolment",
        "入学报名",
        "Enrolling in school",
        "public-service",
    ),
    Purpose(
        "medical.insurance",
        "医疗保障服务",
        "Medical insurance services",
        "public-service",
    ),
    Purpose(
        "housing.provident-fund",
        "住房公积金业务",
        "Housing provident fund services",
        "public-service",
    ),
    Purpose(
        "cross-province.residence",
        "跨省户口迁移",
        "Moving household registration across provinces",
        "cross-province-service",
    ),
    Purpose(
        "cross-province.social-security",
        "社保关系跨省转移",
        "Transferring social insurance across provinces",
        "cross-province-service",
    ),
    Purpose(
        "supervision.inspection",
        "行政检查",
        "Administrative inspection",
        "supervision",
    ),
    Purpose(
        "credential.revocation",
        "证照注销或吊销",
        "Revoking or suspending a certificate",
        "certificate-management",
    ),
)
PURPOSES: dict[str, Purpose] = {p.code: p for p in _PURPOSES}
"""The catalogue, by code."""

UNLISTED_ZH = "未列入用证事由目录"
UNLISTED_EN = "not in the purpose catalogue"


def label(code: str) -> PurposeLabel:
    """How ``code`` is shown: its catalogue labels, or the unlisted label (never an error)."""
    found = PURPOSES.get(code)
    if found is None:
        return PurposeLabel(code, UNLISTED_ZH, UNLISTED_EN, None, listed=False)
    return PurposeLabel(found.code, found.zh, found.en, found.category, listed=True)


def catalogue_json() -> dict[str, Any]:
    """The whole catalogue as JSON: categories and purposes, in catalogue order."""
    return {
        "categories": [{"code": c.code, "zh": c.zh, "en": c.en} for c in _CATEGORIES],
        "purposes": [p.to_json() for p in _PURPOSES],
    }

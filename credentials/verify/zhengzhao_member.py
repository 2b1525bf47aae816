"""Check (0) of a credential's 电子证照 member ``zhengzhao``, and what the result reports of it.

A credential of a template with national metadata may carry the member
(``credentials.zhengzhao.profile``); one without it (issued before, or by a
foreign issuer) verifies as before. When present, the member must be exactly
the decided shape, its 证照标识 must parse with a right check character, the
identifier's type code and agency code must be the member's ``typeCode`` and
``issuingAgency.code``, ``trustGrade`` one of A-D (the usage note with grade A
only), and ``typeCode`` / ``typeName`` those of the credential's template. Each
failure has its own reason code; messages name members and fields, never values.

``reported`` gives the member as the verification result shows it, per credential.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from credentials.reasons import Reason
from credentials.templates import Template
from credentials.verify.outcome import CheckFailedError
from credentials.zhengzhao.check_characters import validate_uscc
from credentials.zhengzhao.division import parse_division_code
from credentials.zhengzhao.errors import IdentifierError
from credentials.zhengzhao.identifier import parse_zhengzhao_id, validate_type_code
from credentials.zhengzhao.profile import MEMBER, TRUST_GRADES

__all__ = ["MEMBER", "check_member", "reported"]

_REQUIRED = frozenset(
    {"identifier", "typeCode", "typeName", "issuingAgency", "jurisdiction", "trustGrade"}
)
_ALLOWED = _REQUIRED | {"usageNote"}
_AGENCY = frozenset({"name", "code"})
_TEXT_CAPS = {"typeName": 64, "usageNote": 256, "identifier": 256}
_NAME_CAP = 128


def _fail(reason: Reason, message: str, at: str) -> CheckFailedError:
    return CheckFailedError(reason, message, at)


def _structure(member: object, where: str, here: str) -> dict[str, Any]:
    """The member's shape: the decided members, strings of bounded length, a valid agency code."""
    if not isinstance(member, dict) or not _REQUIRED <= set(member) <= _ALLOWED:
        raise _fail(
            Reason.ZHENGZHAO_MALFORMED,
            f"the {where}'s zhengzhao member must hold exactly "
            f"{', '.join(sorted(_REQUIRED))} (and usageNote with grade A)",
            here,
        )
    for name in sorted(set(member) - {"issuingAgency"}):
        value = member[name]
        if not isinstance(value, str) or not 0 < len(value) <= _TEXT_CAPS.get(name, 64):
            raise _fail(
                Reason.ZHENGZHAO_MALFORMED,
                f"the {where}'s zhengzhao.{name} is not a non-empty string within its cap",
                f"{here}/{name}",
            )
    agency = member["issuingAgency"]
    if (
        not isinstance(agency, dict)
        or set(agency) != _AGENCY
        or not all(isinstance(agency[k], str) for k in _AGENCY)
        or not 0 < len(agency["name"]) <= _NAME_CAP
    ):
        raise _fail(
            Reason.ZHENGZHAO_MALFORMED,
            f"the {where}'s zhengzhao.issuingAgency must be {{name, code}}, both strings",
            f"{here}/issuingAgency",
        )
    for name, at, validate in (
        ("issuingAgency.code", "/issuingAgency/code", lambda: validate_uscc(agency["code"])),
        ("typeCode", "/typeCode", lambda: validate_type_code(member["typeCode"])),
        ("jurisdiction", "/jurisdiction", lambda: parse_division_code(member["jurisdiction"])),
    ):
        try:
            validate()
        except IdentifierError as exc:
            raise _fail(
                Reason.ZHENGZHAO_MALFORMED,
                f"the {where}'s zhengzhao.{name} is malformed ({exc.reason})",
                here + at,
            ) from None
    return member


def check_member(member: object, template: Template | None, where: str, at: str) -> None:
    """Check (0) of the ``zhengzhao`` member of a credential; raises ``CheckFailedError``."""
    here = f"{at}/{MEMBER}"
    checked = _structure(member, where, here)
    grade = checked["trustGrade"]
    if grade not in TRUST_GRADES:
        raise _fail(
            Reason.ZHENGZHAO_TRUST_GRADE_INVALID,
            f"the {where}'s zhengzhao.trustGrade is not one of {', '.join(TRUST_GRADES)}",
            f"{here}/trustGrade",
        )
    if ("usageNote" in checked) != (grade == "A"):
        raise _fail(
            Reason.ZHENGZHAO_TRUST_GRADE_INVALID,
            f"the {where}'s zhengzhao.usageNote goes with trust grade A, and only with it",
            f"{here}/usageNote" if "usageNote" in checked else f"{here}/trustGrade",
        )
    try:
        identifier = parse_zhengzhao_id(checked["identifier"])
    except IdentifierError as exc:
        raise _fail(
            Reason.ZHENGZHAO_IDENTIFIER_INVALID,
            f"the {where}'s 证照标识 is invalid: {exc.field} ({exc.reason})",
            f"{here}/identifier",
        ) from None
    if identifier.type_code != checked["typeCode"]:
        raise _fail(
            Reason.ZHENGZHAO_TYPE_CODE_MISMATCH,
            f"the {where}'s 证照标识 names another type code than zhengzhao.typeCode",
            f"{here}/typeCode",
        )
    if identifier.issuing_agency_code != checked["issuingAgency"]["code"]:
        raise _fail(
            Reason.ZHENGZHAO_AGENCY_MISMATCH,
            f"the {where}'s 证照标识 names another agency than zhengzhao.issuingAgency.code",
            f"{here}/issuingAgency/code",
        )
    national = None if template is None else template.national
    if national is None:
        raise _fail(
            Reason.ZHENGZHAO_TEMPLATE_MISMATCH,
            f"the {where}'s type has no national metadata, yet it carries a zhengzhao member",
            here,
        )
    for name, expected in (("typeCode", national.type_code), ("typeName", national.type_name)):
        if checked[name] != expected:
            raise _fail(
                Reason.ZHENGZHAO_TEMPLATE_MISMATCH,
                f"the {where}'s zhengzhao.{name} is not its template's",
                f"{here}/{name}",
            )


def reported(documents: Sequence[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """The members of credentials that passed check (0), as the result shows them.

    ``documents`` holds each credential's document in order (None: a credential whose
    member was not checked, such as a foreign one); a credential without the member
    is left out. Each entry is the member with the credential's position.
    """
    found: list[dict[str, Any]] = []
    for position, document in enumerate(documents):
        member = None if document is None else document.get(MEMBER)
        if isinstance(member, dict):
            found.append({"credential": position, **member})
    return found

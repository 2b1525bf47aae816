"""The 证照标识 (electronic certificate identifier) and its check character.

``1.2.156.3005.2.<typeCode>.<issuingAgencyCode>.<serialNumber>.<version>.<checkCharacter>``,
as GB/T 36904-2018 and the provincial 电子证照库 integration guides use it:

- ``1.2.156.3005.2``: the OID arc of electronic certificates (电子证照根代码);
- ``typeCode`` (证照类型代码): the defining ministry's 统一社会信用代码 (18
  characters) followed by three digits, one per certificate type it defines;
- ``issuingAgencyCode`` (证照颁发机构代码): the issuing agency's 统一社会信用代码;
- ``serialNumber`` (流水号): 1 to 32 characters of ``0-9A-Z``; published
  identifiers use year-prefixed digit runs of 9 to 11 digits, random 20-character
  strings and 32-character hex UUIDs;
- ``version`` (版本号): three digits;
- ``checkCharacter`` (校验位): ISO/IEC 7064 MOD 37,36 over the four fields
  before it, concatenated without the dots.

The identifier is made of agency and type codes and a serial: it is never
derived from personal data. Errors name the field, never echo the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .check_characters import (
    ALPHANUMERIC,
    check_alphabet,
    mod37_36_check_character,
    validate_uscc,
)
from .errors import IdentifierError

__all__ = [
    "FIELD_NAMES",
    "ROOT_ARC",
    "SERIAL_MAX_LENGTH",
    "ZhengzhaoId",
    "parse_zhengzhao_id",
    "validate_type_code",
]

ROOT_ARC: Final = "1.2.156.3005.2"
"""电子证照根代码: the OID arc every 证照标识 starts with."""

SERIAL_MAX_LENGTH: Final = 32
"""The longest 流水号 accepted: a hex UUID without hyphens, the longest seen in use."""

FIELD_NAMES: Final = (
    "typeCode",
    "issuingAgencyCode",
    "serialNumber",
    "version",
    "checkCharacter",
)
"""The fields after the root arc, in order, as errors name them."""

_WHOLE: Final = "zhengzhaoId"
_TYPE_CODE_LENGTH: Final = 21
_DIGITS: Final = "0123456789"
# Far above the longest valid identifier (94), so that a field slightly too long
# is named by its own check; only input no field could explain stops here.
_MAX_LENGTH: Final = 256


def validate_type_code(value: object, *, field: str = "typeCode") -> str:
    """Return ``value`` if it is a 证照类型代码: a ministry's 统一社会信用代码 and 3 digits."""
    if not isinstance(value, str):
        raise IdentifierError(field, "type", "a string is expected")
    if len(value) != _TYPE_CODE_LENGTH:
        raise IdentifierError(field, "length", f"{_TYPE_CODE_LENGTH} characters expected")
    validate_uscc(value[:18], field=field)
    check_alphabet(value[18:], _DIGITS, field=field, offset=18)
    return value


def _validate_serial(value: object) -> str:
    if not isinstance(value, str):
        raise IdentifierError("serialNumber", "type", "a string is expected")
    if not 1 <= len(value) <= SERIAL_MAX_LENGTH:
        raise IdentifierError(
            "serialNumber", "length", f"1 to {SERIAL_MAX_LENGTH} characters expected"
        )
    check_alphabet(value, ALPHANUMERIC, field="serialNumber")
    return value


@dataclass(frozen=True, slots=True)
class ZhengzhaoId:
    """A well-formed 证照标识; ``str()`` gives its canonical dotted form.

    The check character is not a field: it is computed from the others, so an
    instance can only hold a consistent identifier. Construction validates every
    field and raises :class:`IdentifierError` naming the first wrong one.
    """

    type_code: str
    """证照类型代码: defining ministry's 统一社会信用代码 + 3 digits (21 characters)."""
    issuing_agency_code: str
    """证照颁发机构代码: the issuing agency's 统一社会信用代码 (18 characters)."""
    serial_number: str
    """流水号: 1 to 32 characters of ``0-9A-Z``, unique per (type code, agency)."""
    version: int
    """版本号: 0 to 999, written with three digits."""

    def __post_init__(self) -> None:
        """Validate every field (the dataclass is frozen, so once is enough)."""
        validate_type_code(self.type_code)
        validate_uscc(self.issuing_agency_code, field="issuingAgencyCode")
        _validate_serial(self.serial_number)
        if isinstance(self.version, bool) or not isinstance(self.version, int):
            raise IdentifierError("version", "type", "an integer is expected")
        if not 0 <= self.version <= 999:
            raise IdentifierError("version", "value", "0 to 999 expected")

    @property
    def version_text(self) -> str:
        """The 版本号 as written in the identifier: three digits."""
        return f"{self.version:03d}"

    @property
    def check_character(self) -> str:
        """校验位: ISO/IEC 7064 MOD 37,36 over type code, agency code, serial, version."""
        return mod37_36_check_character(
            self.type_code + self.issuing_agency_code + self.serial_number + self.version_text
        )

    def __str__(self) -> str:
        """The canonical form ``1.2.156.3005.2.<type>.<agency>.<serial>.<version>.<check>``."""
        return ".".join(
            (
                ROOT_ARC,
                self.type_code,
                self.issuing_agency_code,
                self.serial_number,
                self.version_text,
                self.check_character,
            )
        )


def parse_zhengzhao_id(text: object) -> ZhengzhaoId:
    """Parse and validate a 证照标识, check character included.

    Only the canonical form is accepted: upper case, no spaces, exactly the
    root arc and five fields. Raises :class:`IdentifierError` naming the field.
    """
    if not isinstance(text, str):
        raise IdentifierError(_WHOLE, "type", "a string is expected")
    if len(text) > _MAX_LENGTH:
        raise IdentifierError(_WHOLE, "length", f"at most {_MAX_LENGTH} characters expected")
    if not text.startswith(ROOT_ARC + "."):
        raise IdentifierError("rootArc", "structure", f"must start with {ROOT_ARC}.")
    fields = text[len(ROOT_ARC) + 1 :].split(".")
    if len(fields) != len(FIELD_NAMES):
        raise IdentifierError(
            _WHOLE, "structure", f"{len(FIELD_NAMES)} dot-separated fields expected after the root"
        )
    type_code, agency, serial, version, check = fields
    if len(version) != 3:
        raise IdentifierError("version", "length", "3 digits expected")
    check_alphabet(version, _DIGITS, field="version")
    parsed = ZhengzhaoId(type_code, agency, _validate_serial(serial), int(version))
    if len(check) != 1:
        raise IdentifierError("checkCharacter", "length", "1 character expected")
    check_alphabet(check, ALPHANUMERIC, field="checkCharacter")
    if check != parsed.check_character:
        raise IdentifierError(
            "checkCharacter", "check_character", "does not match (ISO/IEC 7064 MOD 37,36)"
        )
    return parsed

"""GB/T 2260 administrative division codes: structure only, no code table.

A code is six digits: two for the province-level division, two for the
prefecture level, two for the county level; ``00`` in the lower pairs stands
for the division above. The province pairs are the 34 of GB/T 2260 (Taiwan,
Hong Kong and Macao included). ``100000`` is the national code that
统一社会信用代码 of central bodies carry at positions 3 to 8. Whether a
particular prefecture or county exists needs the current table, which is not
shipped: no well-kept PyPI package provides it (see docs/dianzi-zhengzhao.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .errors import IdentifierError

__all__ = ["NATIONAL", "PROVINCE_CODES", "DivisionCode", "DivisionLevel", "parse_division_code"]

NATIONAL: Final = "100000"
"""The code of the whole country (central bodies' registrations)."""

PROVINCE_CODES: Final = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
"""The first two digits of the 34 province-level divisions."""


class DivisionLevel(StrEnum):
    """Which level of division a code names."""

    NATIONAL = "national"
    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"


@dataclass(frozen=True, slots=True)
class DivisionCode:
    """A structurally valid GB/T 2260 code; ``str()`` gives the six digits."""

    code: str
    """The six digits."""
    level: DivisionLevel
    """The level the code names (from its trailing ``00`` pairs)."""

    @property
    def province(self) -> str:
        """The province-level code the division lies in (``xx0000``)."""
        return self.code[:2] + "0000"

    def __str__(self) -> str:
        """The six digits."""
        return self.code


def parse_division_code(value: object, *, field: str = "divisionCode") -> DivisionCode:
    """Parse a GB/T 2260 code: six digits, a known province pair, no county without prefecture."""
    if not isinstance(value, str):
        raise IdentifierError(field, "type", "a string is expected")
    if len(value) != 6:
        raise IdentifierError(field, "length", "6 digits expected")
    for index, char in enumerate(value):
        if char not in "0123456789":
            raise IdentifierError(field, "character", "digit expected", index + 1)
    if value == NATIONAL:
        return DivisionCode(value, DivisionLevel.NATIONAL)
    if value[:2] not in PROVINCE_CODES:
        raise IdentifierError(field, "value", "unknown province-level division", 1)
    if value[2:] == "0000":
        return DivisionCode(value, DivisionLevel.PROVINCE)
    if value[2:4] == "00":
        raise IdentifierError(field, "value", "county part without a prefecture part", 3)
    level = DivisionLevel.PREFECTURE if value[4:] == "00" else DivisionLevel.COUNTY
    return DivisionCode(value, level)

"""GB/T 2260 administrative division codes: structure only, no code table.

A code is six digits: two for the province-level division, two for the
prefecture level, two for the county level; ``00`` in the lower pairs stands
for the division above. The province pairs are the 34 of GB/T 2260 (Taiwan,
Hong Kong and Macao included), with their names. ``100000`` is the national code that
统一社会信用代码 of central bodies carry at positions 3 to 8. Whether a
particular prefecture or county exists needs the current table, which is not
shipped: no well-kept PyPI package provides it (see docs/dianzi-zhengzhao.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from .errors import IdentifierError

__all__ = [
    "NATIONAL",
    "PROVINCE_CODES",
    "PROVINCE_NAMES",
    "DivisionCode",
    "DivisionLevel",
    "parse_division_code",
    "province_name",
]

NATIONAL: Final = "100000"
"""The code of the whole country (central bodies' registrations)."""

PROVINCE_NAMES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "11": ("北京市", "Beijing"),
        "12": ("天津市", "Tianjin"),
        "13": ("河北省", "Hebei"),
        "14": ("山西省", "Shanxi"),
        "15": ("内蒙古自治区", "Inner Mongolia"),
        "21": ("辽宁省", "Liaoning"),
        "22": ("吉林省", "Jilin"),
        "23": ("黑龙江省", "Heilongjiang"),
        "31": ("上海市", "Shanghai"),
        "32": ("江苏省", "Jiangsu"),
        "33": ("浙江省", "Zhejiang"),
        "34": ("安徽省", "Anhui"),
        "35": ("福建省", "Fujian"),
        "36": ("江西省", "Jiangxi"),
        "37": ("山东省", "Shandong"),
        "41": ("河南省", "Henan"),
        "42": ("湖北省", "Hubei"),
        "43": ("湖南省", "Hunan"),
        "44": ("广东省", "Guangdong"),
        "45": ("广西壮族自治区", "Guangxi"),
        "46": ("海南省", "Hainan"),
        "50": ("重庆市", "Chongqing"),
        "51": ("四川省", "Sichuan"),
        "52": ("贵州省", "Guizhou"),
        "53": ("云南省", "Yunnan"),
        "54": ("西藏自治区", "Xizang"),
        "61": ("陕西省", "Shaanxi"),
        "62": ("甘肃省", "Gansu"),
        "63": ("青海省", "Qinghai"),
        "64": ("宁夏回族自治区", "Ningxia"),
        "65": ("新疆维吾尔自治区", "Xinjiang"),
        "71": ("台湾省", "Taiwan"),
        "81": ("香港特别行政区", "Hong Kong"),
        "82": ("澳门特别行政区", "Macao"),
    }
)
"""The 34 province-level divisions by their first two digits: (Chinese, English) names."""

PROVINCE_CODES: Final = frozenset(PROVINCE_NAMES)
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


def province_name(code: str | int, lang: str = "zh") -> str | None:
    """The name (``lang``: zh or en) of the province ``code`` lies in; None: unknown."""
    digits = f"{int(code):06d}" if isinstance(code, int) else code
    names = PROVINCE_NAMES.get(digits[:2])
    if names is None:
        return None
    return names[0] if lang == "zh" else names[1]

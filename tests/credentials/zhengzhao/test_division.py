"""GB/T 2260 division codes: structure, levels, refusals."""

from __future__ import annotations

import pytest

from credentials.zhengzhao.division import (
    PROVINCE_CODES,
    PROVINCE_NAMES,
    DivisionLevel,
    parse_division_code,
    province_name,
)
from credentials.zhengzhao.errors import IdentifierError


@pytest.mark.parametrize(
    ("code", "level", "province"),
    [
        ("100000", DivisionLevel.NATIONAL, "100000"),
        ("430000", DivisionLevel.PROVINCE, "430000"),
        ("330100", DivisionLevel.PREFECTURE, "330000"),
        ("330105", DivisionLevel.COUNTY, "330000"),
        ("110101", DivisionLevel.COUNTY, "110000"),
    ],
)
def test_levels(code: str, level: DivisionLevel, province: str) -> None:
    parsed = parse_division_code(code)
    assert (str(parsed), parsed.level, parsed.province) == (code, level, province)


def test_the_34_province_level_divisions() -> None:
    assert len(PROVINCE_CODES) == 34


def test_the_division_inside_published_agency_codes() -> None:
    # Positions 3-8 of a 统一社会信用代码 are the registering authority's division.
    assert parse_division_code("11430000006122244L"[2:8]).level is DivisionLevel.PROVINCE
    assert parse_division_code("11330105002500287C"[2:8]).level is DivisionLevel.COUNTY


@pytest.mark.parametrize(
    ("bad", "reason", "position"),
    [
        ("43000", "length", None),
        ("4300000", "length", None),
        ("43000A", "character", 6),
        ("990000", "value", 1),
        ("000000", "value", 1),
        ("430012", "value", 3),
        (430000, "type", None),
    ],
)
def test_refusals(bad: object, reason: str, position: int | None) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_division_code(bad, field="regionCode")
    assert (caught.value.field, caught.value.reason, caught.value.position) == (
        "regionCode",
        reason,
        position,
    )


def test_every_province_pair_has_a_chinese_and_an_english_name() -> None:
    assert set(PROVINCE_NAMES) == PROVINCE_CODES
    assert len(PROVINCE_NAMES) == 34
    assert province_name("440000") == "广东省"
    assert province_name(330000, "en") == "Zhejiang"
    assert province_name("330106", "zh") == "浙江省", "a county lies in its province"
    assert province_name("990000") is None
    for zh, en in PROVINCE_NAMES.values():
        assert zh.endswith(("省", "市", "自治区", "特别行政区")), zh
        assert en.isascii(), en
        assert en, zh

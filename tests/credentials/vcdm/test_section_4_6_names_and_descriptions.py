"""VCDM 2.0 §4.6 Names and Descriptions (with §11.1 Language and Base Direction).

MUSTs: ``name`` and ``description``, if present, are a string or a language value
object (``@value``, optional ``@language`` and ``@direction``, nothing else); several
languages are an array of them. The same holds on the issuer object (§4.7's example).
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials.reasons import Reason
from credentials.vcdm import check_credential
from tests.credentials.vcdm.conftest import (
    ISSUER,
    SECRET,
    credential,
    issued,
    issuer_refuses,
    model_refuses,
    verifier_refuses,
)

GOOD = [
    "浙江省数据局成员证",
    {"@value": "Member card", "@language": "en"},
    {"@value": "بطاقة", "@language": "ar", "@direction": "rtl"},
    [{"@value": "成员证", "@language": "zh-Hans"}, {"@value": "Member card", "@language": "en"}],
]
BAD = [
    7,
    None,
    [],
    {"@value": SECRET, "@language": "en", "extra": 1},
    {"@language": "en"},
    {"@value": SECRET, "@language": "not a tag"},
    {"@value": SECRET, "@direction": "up"},
    [{"@value": "ok", "@language": "en"}, {"value": SECRET}],
]


@pytest.mark.parametrize("member", ["name", "description"])
@pytest.mark.parametrize("value", GOOD)
def test_4_6_a_string_or_language_value_objects_are_accepted(member: str, value: Any) -> None:
    check_credential(credential(**{member: value}))
    assert issued(credential(**{member: value})).document[member] == value
    issuer = {"id": ISSUER, member: value}
    assert issued(credential(issuer=issuer)).document["issuer"] == issuer


@pytest.mark.parametrize("member", ["name", "description"])
@pytest.mark.parametrize("value", BAD)
def test_4_6_name_and_description_must_be_strings_or_language_value_objects(
    member: str, value: Any
) -> None:
    at = f"/{member}/1" if isinstance(value, list) and value else f"/{member}"
    model_refuses(credential(**{member: value}), Reason.STRUCTURE_INVALID, at)
    issuer_refuses(credential(**{member: value}), at)
    verifier_refuses({member: value}, Reason.STRUCTURE_INVALID, at)


@pytest.mark.parametrize("member", ["name", "description"])
def test_4_6_the_issuers_name_and_description_follow_the_same_rule(member: str) -> None:
    issuer = {"id": ISSUER, member: {"@value": SECRET, "@language": "zh", "x": 1}}
    model_refuses(credential(issuer=issuer), Reason.STRUCTURE_INVALID, f"/issuer/{member}")
    issuer_refuses(credential(issuer=issuer), f"/issuer/{member}")
    verifier_refuses({"issuer": issuer}, Reason.STRUCTURE_INVALID, f"/issuer/{member}")

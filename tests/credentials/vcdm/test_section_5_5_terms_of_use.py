"""VCDM 2.0 §5.5 Terms of Use: ``termsOfUse``, if present, is one object or several, each typed.

MUSTs: the value specifies one or more terms of use policies; each specifies its
``type`` and MAY specify an ``id``.
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials.reasons import Reason
from credentials.vcdm import check_credential
from tests.credentials.vcdm.conftest import (
    SECRET,
    credential,
    issued,
    refused_everywhere,
    verifier_accepts,
)

MEMBER = "termsOfUse"
GOOD: dict[str, Any] = {"type": "IssuerPolicy", "id": "https://zj.example/policies/1"}


@pytest.mark.parametrize(
    "value", [GOOD, [GOOD], [GOOD, {**GOOD, "id": "urn:uuid:1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"}]]
)
def test_5_5_one_typed_object_or_several_are_accepted(value: Any) -> None:
    check_credential(credential(**{MEMBER: value}))
    signed = issued(credential(**{MEMBER: value})).document
    assert signed[MEMBER] == value
    verifier_accepts(signed)


@pytest.mark.parametrize(
    ("value", "at"),
    [
        ({k: v for k, v in GOOD.items() if k != "type"}, "/type"),
        ([GOOD, {k: v for k, v in GOOD.items() if k != "type"}], "/1/type"),
        ({**GOOD, "type": []}, "/type"),
        ({**GOOD, "type": 2}, "/type"),
        ({**GOOD, "type": [SECRET, None]}, "/type"),
    ],
)
def test_5_5_each_terms_of_use_must_specify_its_type(value: Any, at: str) -> None:
    refused_everywhere({MEMBER: value}, Reason.STRUCTURE_INVALID, f"/{MEMBER}{at}")


@pytest.mark.parametrize(("value", "at"), [([], ""), (SECRET, ""), ([GOOD, 7], "/1")])
def test_5_5_terms_of_use_must_be_one_or_more_objects(value: Any, at: str) -> None:
    refused_everywhere({MEMBER: value}, Reason.STRUCTURE_INVALID, f"/{MEMBER}{at}")


def test_5_5_an_id_if_present_must_be_a_url() -> None:
    value = {**GOOD, "id": SECRET}
    refused_everywhere({MEMBER: value}, Reason.STRUCTURE_INVALID, f"/{MEMBER}/id")

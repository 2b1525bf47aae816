"""VCDM 2.0 §5.4 Refreshing: ``refreshService``, if present, is one object or several, each typed.

MUSTs: the value is one or more refresh services; each ``refreshService`` value
specifies its ``type``.
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

MEMBER = "refreshService"
GOOD: dict[str, Any] = {
    "type": "VerifiableCredentialRefreshService2021",
    "url": "https://zj.example/workflows/refresh",
}


@pytest.mark.parametrize(
    "value", [GOOD, [GOOD], [GOOD, {**GOOD, "id": "urn:uuid:1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"}]]
)
def test_5_4_one_typed_object_or_several_are_accepted(value: Any) -> None:
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
def test_5_4_each_refresh_service_must_specify_its_type(value: Any, at: str) -> None:
    refused_everywhere({MEMBER: value}, Reason.STRUCTURE_INVALID, f"/{MEMBER}{at}")


@pytest.mark.parametrize(("value", "at"), [([], ""), (SECRET, ""), ([GOOD, 7], "/1")])
def test_5_4_refresh_service_must_be_one_or_more_objects(value: Any, at: str) -> None:
    refused_everywhere({MEMBER: value}, Reason.STRUCTURE_INVALID, f"/{MEMBER}{at}")


def test_5_4_an_id_if_present_must_be_a_url() -> None:
    value = {**GOOD, "id": SECRET}
    refused_everywhere({MEMBER: value}, Reason.STRUCTURE_INVALID, f"/{MEMBER}/id")

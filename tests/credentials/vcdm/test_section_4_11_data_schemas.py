"""VCDM 2.0 §4.11 Data Schemas: each ``credentialSchema`` has a ``type`` and an ``id`` URL."""

from __future__ import annotations

from typing import Any

import pytest

from credentials.reasons import Reason
from credentials.vcdm import check_credential
from tests.credentials.vcdm.conftest import (
    SECRET,
    credential,
    issued,
    issuer_refuses,
    model_refuses,
    verifier_accepts,
    verifier_refuses,
)

SCHEMA = {"id": "https://zj.example/schemas/membership.json", "type": "JsonSchema"}


@pytest.mark.parametrize("value", [SCHEMA, [SCHEMA, {**SCHEMA, "id": "https://zj.example/b"}]])
def test_4_11_schemas_with_type_and_url_id_are_accepted(value: Any) -> None:
    check_credential(credential(credentialSchema=value))
    verifier_accepts(issued(credential(credentialSchema=value)).document)


@pytest.mark.parametrize(
    ("value", "at"),
    [
        ({"id": SCHEMA["id"]}, "/type"),
        ({"type": "JsonSchema"}, "/id"),
        ({**SCHEMA, "id": SECRET}, "/id"),
        ([SCHEMA, {"type": "JsonSchema"}], "/1/id"),
        ([], ""),
    ],
)
def test_4_11_each_credential_schema_must_specify_type_and_a_url_id(value: Any, at: str) -> None:
    pointer = f"/credentialSchema{at}"
    model_refuses(credential(credentialSchema=value), Reason.STRUCTURE_INVALID, pointer)
    issuer_refuses(credential(credentialSchema=value), pointer)
    verifier_refuses({"credentialSchema": value}, Reason.STRUCTURE_INVALID, pointer)

"""VCDM 2.0 §4.4 Identifiers: an ``id``, where present, is a single URL.

Applies to the credential, each subject, the issuer object and every typed object
(status, schema, ...); a presentation's ``id`` is checked in §4.13's tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials.reasons import Reason
from credentials.vcdm import check_credential
from tests.credentials.vcdm.conftest import (
    HOLDER,
    REMOVE,
    SECRET,
    credential,
    issued,
    issuer_refuses,
    model_refuses,
    verifier_refuses,
)

URLS = [
    "urn:uuid:0c07c1ce-57cb-41af-bef2-1b932b986873",
    "https://id.example/things#123",
    "did:example:1234abcd",
]
NOT_URLS = [SECRET, "not a url", "", None, 7, ["urn:uuid:0c07c1ce-57cb-41af-bef2-1b932b986873"]]


@pytest.mark.parametrize("value", URLS)
def test_4_4_an_id_that_is_one_url_is_accepted(value: str) -> None:
    document = credential(id=value)
    check_credential(document)
    assert issued(document).document["id"] == value


def test_4_4_id_is_optional() -> None:
    assert "id" not in issued(credential(id=REMOVE)).document


@pytest.mark.parametrize("value", NOT_URLS)
def test_4_4_the_credential_id_must_be_a_single_url(value: Any) -> None:
    model_refuses(credential(id=value), Reason.ID_INVALID, "/id")
    issuer_refuses(credential(id=value), "/id")
    verifier_refuses({"id": value}, Reason.ID_INVALID, "/id")


@pytest.mark.parametrize("value", NOT_URLS)
def test_4_4_a_subject_id_must_be_a_single_url(value: Any) -> None:
    subject = {"id": value, "memberOf": "x"}
    model_refuses(
        credential(credentialSubject=subject), Reason.SUBJECT_INVALID, "/credentialSubject/id"
    )
    issuer_refuses(credential(credentialSubject=subject), "/credentialSubject/id")
    verifier_refuses(
        {"credentialSubject": subject}, Reason.SUBJECT_INVALID, "/credentialSubject/id"
    )


def test_4_4_each_subject_id_of_an_array_must_be_a_url() -> None:
    subjects = [{"id": HOLDER, "a": 1}, {"id": SECRET, "b": 2}]
    model_refuses(
        credential(credentialSubject=subjects), Reason.SUBJECT_INVALID, "/credentialSubject/1/id"
    )
    issuer_refuses(credential(credentialSubject=subjects), "/credentialSubject/1/id")


def test_4_4_a_typed_objects_id_must_be_a_url() -> None:
    status = {"id": SECRET, "type": "BitstringStatusListEntry"}
    model_refuses(
        credential(credentialStatus=status), Reason.STRUCTURE_INVALID, "/credentialStatus/id"
    )
    issuer_refuses(credential(credentialStatus=status), "/credentialStatus/id")
    verifier_refuses({"credentialStatus": status}, Reason.STRUCTURE_INVALID, "/credentialStatus/id")

"""VCDM 2.0 §4.8 Credential Subject: present; each subject object makes one or more claims.

MUSTs: a credential has ``credentialSubject``; its value is a set of objects, each
the subject of one or more claims serialised inside it (an ``id`` there is a URL,
§4.4).
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


def test_4_8_one_subject_or_several_are_accepted() -> None:
    one = check_credential(credential())
    assert (len(one.subjects), one.subject_is_array) == (1, False)
    spouses = [
        {"id": HOLDER, "name": "陈一", "spouse": "did:example:c276e12ec21ebfeb1f712ebc6f1"},
        {"id": "did:example:c276e12ec21ebfeb1f712ebc6f1", "name": "林二"},
    ]
    many = check_credential(credential(credentialSubject=spouses))
    assert (len(many.subjects), many.subject_is_array) == (2, True)
    assert issued(credential(credentialSubject=spouses)).document["credentialSubject"] == spouses


def test_4_8_a_credential_must_have_a_credential_subject() -> None:
    model_refuses(
        credential(credentialSubject=REMOVE), Reason.SUBJECT_INVALID, "/credentialSubject"
    )
    issuer_refuses(credential(credentialSubject=REMOVE), "/credentialSubject")
    verifier_refuses({"credentialSubject": REMOVE}, Reason.STRUCTURE_INVALID, None)


@pytest.mark.parametrize("subject", [{}, [], SECRET, None, 7])
def test_4_8_a_subject_must_be_an_object_with_claims(subject: Any) -> None:
    model_refuses(
        credential(credentialSubject=subject), Reason.SUBJECT_INVALID, "/credentialSubject"
    )
    issuer_refuses(credential(credentialSubject=subject), "/credentialSubject")
    verifier_refuses({"credentialSubject": subject}, Reason.SUBJECT_INVALID, "/credentialSubject")


@pytest.mark.parametrize("empty", [{}, SECRET, [{"a": 1}]])
def test_4_8_each_subject_of_an_array_must_be_an_object_with_claims(empty: Any) -> None:
    subjects = [{"id": HOLDER, "memberOf": "x"}, empty]
    model_refuses(
        credential(credentialSubject=subjects), Reason.SUBJECT_INVALID, "/credentialSubject/1"
    )
    issuer_refuses(credential(credentialSubject=subjects), "/credentialSubject/1")
    verifier_refuses(
        {"credentialSubject": subjects}, Reason.SUBJECT_INVALID, "/credentialSubject/1"
    )

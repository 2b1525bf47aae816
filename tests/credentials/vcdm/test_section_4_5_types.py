"""VCDM 2.0 §4.5 Types: ``type`` is present, one or more terms or URLs, with the base type.

MUSTs: credentials and presentations contain ``type``; its value is one or more
terms and/or absolute URL strings; a credential's includes
``VerifiableCredential`` (a presentation's ``VerifiablePresentation``, see §4.13);
the objects of the type table (status, terms of use, evidence, ...) have a type
(see their sections). The order of types does not matter.
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials.reasons import Reason
from credentials.vcdm import check_credential
from tests.credentials.vcdm.conftest import (
    REMOVE,
    SECRET,
    credential,
    issued,
    issuer_refuses,
    model_refuses,
    verifier_refuses,
)


@pytest.mark.parametrize(
    "types",
    [
        "VerifiableCredential",
        ["VerifiableCredential"],
        ["MembershipCredential", "VerifiableCredential"],
        ["VerifiableCredential", "https://vocab.example/myvocab#SomeNewType"],
    ],
)
def test_4_5_one_or_more_terms_or_urls_in_any_order_are_accepted(types: Any) -> None:
    assert "VerifiableCredential" in check_credential(credential(type=types)).types
    assert issued(credential(type=types)).document["type"] == types


def test_4_5_a_credential_must_contain_type() -> None:
    model_refuses(credential(type=REMOVE), Reason.TYPE_INVALID, "/type")
    issuer_refuses(credential(type=REMOVE), "/type")
    verifier_refuses({"type": REMOVE}, Reason.STRUCTURE_INVALID, None)


@pytest.mark.parametrize("types", [[], "", ["VerifiableCredential", 3], [None], {"a": SECRET}])
def test_4_5_type_must_be_one_or_more_terms_or_urls(types: Any) -> None:
    model_refuses(credential(type=types), Reason.TYPE_INVALID, "/type")
    issuer_refuses(credential(type=types), "/type")
    verifier_refuses({"type": types}, Reason.TYPE_INVALID, "/type")


@pytest.mark.parametrize("types", [["MembershipCredential"], [SECRET], "VerifiablePresentation"])
def test_4_5_a_credential_type_must_include_verifiable_credential(types: Any) -> None:
    model_refuses(credential(type=types), Reason.TYPE_INVALID, "/type")
    issuer_refuses(credential(type=types), "/type")
    verifier_refuses({"type": types}, Reason.TYPE_INVALID, "/type")

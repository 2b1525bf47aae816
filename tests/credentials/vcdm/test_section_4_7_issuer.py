"""VCDM 2.0 §4.7 Issuer: ``issuer`` is present, a URL or an object whose ``id`` is a URL.

Tongban's profile adds that a province issues only as itself (see the profile
tests), so the issuer's and verifier's positive cases use ``did:tongban:31337:1``.
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials.reasons import Reason
from credentials.vcdm import check_credential
from tests.credentials.vcdm.conftest import (
    ISSUER,
    REMOVE,
    SECRET,
    credential,
    issued,
    issuer_refuses,
    model_refuses,
    verifier_accepts,
    verifier_refuses,
)


@pytest.mark.parametrize(
    "issuer", [ISSUER, {"id": ISSUER}, {"id": ISSUER, "name": "浙江省", "type": "Profile"}]
)
def test_4_7_a_url_or_an_object_with_a_url_id_is_accepted(issuer: Any) -> None:
    assert check_credential(credential(issuer=issuer)).issuer == ISSUER
    signed = issued(credential(issuer=issuer)).document
    assert signed["issuer"] == issuer
    assert verifier_accepts(signed).issuer == ISSUER


def test_4_7_a_credential_must_have_an_issuer() -> None:
    model_refuses(credential(issuer=REMOVE), Reason.ISSUER_INVALID, "/issuer")
    issuer_refuses(credential(issuer=REMOVE), "/issuer")
    verifier_refuses({"issuer": REMOVE}, Reason.STRUCTURE_INVALID, None)


@pytest.mark.parametrize("issuer", [SECRET, None, 7, [ISSUER], "https ://x"])
def test_4_7_issuer_must_be_a_url(issuer: Any) -> None:
    model_refuses(credential(issuer=issuer), Reason.ISSUER_INVALID, "/issuer")
    issuer_refuses(credential(issuer=issuer), "/issuer")
    verifier_refuses({"issuer": issuer}, Reason.ISSUER_INVALID, "/issuer")


@pytest.mark.parametrize("issuer", [{}, {"id": SECRET}, {"id": None}, {"name": "浙江省"}])
def test_4_7_an_issuer_object_must_have_an_id_that_is_a_url(issuer: Any) -> None:
    model_refuses(credential(issuer=issuer), Reason.ISSUER_INVALID, "/issuer/id")
    issuer_refuses(credential(issuer=issuer), "/issuer/id")
    verifier_refuses({"issuer": issuer}, Reason.ISSUER_INVALID, "/issuer/id")

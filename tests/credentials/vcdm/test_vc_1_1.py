"""VCDM 1.1 inputs: accepted for issuance, and the 1.1 rules that differ from 2.0.

VC 1.1: ``@context`` starts with ``https://www.w3.org/2018/credentials/v1`` (§4.1);
``issuanceDate`` is required (§4.6, see the §4.9 tests for the dates); a
``credentialStatus`` has an ``id`` and a ``type`` (§4.9); each ``refreshService``
its ``type`` and ``id`` (§5.2); a presentation's ``holder`` is a URI (§4.10).
"""

from __future__ import annotations

from credentials.contexts import CREDENTIALS_V1, TONGBAN_V1
from credentials.reasons import Reason
from credentials.vcdm import DataModel, check_credential, check_presentation
from tests.credentials.vcdm.conftest import (
    HOLDER,
    credential,
    issued,
    issuer_refuses,
    model_refuses,
    presentation,
    presentation_refused,
    v1_credential,
    verifier_accepts,
    verifier_refuses,
)

STATUS = {"id": "https://zj.example/status/1#3", "type": "StatusList2021Entry"}
REFRESH = {"id": "https://zj.example/refresh/1", "type": "ManualRefreshService2018"}


def test_1_1_a_credential_is_issued_and_verifies() -> None:
    document = v1_credential(credentialStatus=STATUS, refreshService=REFRESH)
    assert check_credential(document).version is DataModel.V1_1
    signed = issued(document).document
    assert signed["@context"] == [CREDENTIALS_V1, TONGBAN_V1]
    assert verifier_accepts(signed).model.version is DataModel.V1_1


def test_1_1_4_9_a_credential_status_must_have_an_id() -> None:
    status = {"type": STATUS["type"]}
    check_credential(credential(credentialStatus=status))
    model_refuses(
        v1_credential(credentialStatus=status), Reason.STRUCTURE_INVALID, "/credentialStatus/id"
    )
    issuer_refuses(v1_credential(credentialStatus=status), "/credentialStatus/id")
    verifier_refuses(
        {"credentialStatus": status},
        Reason.STRUCTURE_INVALID,
        "/credentialStatus/id",
        base=v1_credential(),
    )


def test_1_1_5_2_a_refresh_service_must_have_an_id() -> None:
    refresh = {"type": REFRESH["type"]}
    model_refuses(
        v1_credential(refreshService=refresh), Reason.STRUCTURE_INVALID, "/refreshService/id"
    )
    issuer_refuses(v1_credential(refreshService=refresh), "/refreshService/id")


def test_1_1_4_10_a_presentations_holder_must_be_a_uri() -> None:
    v1 = {"@context": [CREDENTIALS_V1]}
    assert check_presentation(presentation(**v1)).holder == HOLDER
    presentation_refused(
        presentation(**v1, holder={"id": HOLDER}), Reason.PRESENTATION_MALFORMED, "/holder"
    )

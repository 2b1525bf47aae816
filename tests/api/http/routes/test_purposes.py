"""用证事由 over HTTP: ``GET /purposes`` and the purposes in a citizen's access history."""

from __future__ import annotations

from api.errors import ProblemCode
from api.province.clients import Role
from credentials.purposes import CATEGORIES, PURPOSES
from ledger.audit.citizen_request import request_payload
from ledger.crypto import multikey
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.helpers.contracts import ZJ
from tests.helpers.server import Province, event_body


def test_get_purposes_lists_every_code_in_chinese_and_english(province: Province) -> None:
    reply = province.request("GET", "/purposes", Role.VERIFIER)
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert [c["code"] for c in answer["categories"]] == list(CATEGORIES)
    assert [p["code"] for p in answer["purposes"]] == list(PURPOSES)
    enrolment = next(p for p in answer["purposes"] if p["code"] == "cross-province.enrolment")
    assert enrolment == {
        "code": "cross-province.enrolment",
        "zh": "跨省通办事项受理登记",
        "en": "Enrolment in a cross-province service",
        "category": "cross-province-service",
        "issuedByTongban": False,
    }


def test_get_purposes_needs_a_client_token(province: Province) -> None:
    reply = province.request("GET", "/purposes")
    assert reply.status == 401
    assert reply.json()["code"] == ProblemCode.UNAUTHENTICATED


def test_the_access_history_shows_each_purpose_in_chinese_and_english(
    anchored_province: Province,
) -> None:
    province = anchored_province
    signer = LocalSigner("holder", Sm2PrivateKey.generate())
    did = "did:key:" + multikey.encode(signer.public_key)
    for n, purpose in enumerate(["cross-province.enrolment", "audit.review", "crash-test"]):
        reply = province.request(
            "POST",
            "/audit/events",
            Role.VERIFIER,
            json_body=event_body(n, subjectId=did, purpose=purpose),
        )
        assert reply.status == 201, reply.text
    offered = province.request("POST", "/citizen/challenge", json_body={"holder": did}).json()
    signature = signer.sign(request_payload(ZJ, did, offered["challenge"])).hex()
    reply = province.request(
        "POST",
        "/citizen/access-history",
        json_body={"holder": did, "challenge": offered["challenge"], "signature": signature},
    )
    assert reply.status == 200, reply.text
    labels = [r["purposeLabel"] for r in reply.json()["records"]]
    assert [(x["code"], x["zh"], x["en"], x["listed"]) for x in labels] == [
        (
            "cross-province.enrolment",
            "跨省通办事项受理登记",
            "Enrolment in a cross-province service",
            True,
        ),
        ("audit.review", "审计核查", "Audit review", True),
        ("crash-test", "未列入用证事由目录", "not in the purpose catalogue", False),
    ]
    assert labels[2]["category"] is None
    # The label sits beside the signed event; the event keeps the code alone.
    assert reply.json()["records"][0]["event"]["purpose"] == "cross-province.enrolment"

"""An ``Idempotency-Key`` of the VC API dialect covers ``options.agency`` as sent (#16).

As in the Tongban dialect (``agency``): a retry with the same key naming another
agency is a 409 and issues nothing; a retry naming none, when the first call named
one, is another request too; a body that named none stands for whatever agency the
route chose, so its retry replays even after the client's agencies changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.province.clients import Role
from credentials.holder import Holder
from credentials.issuance import request_hash
from credentials.submitted import SubmittedCredential
from credentials.zhengzhao.agencies import add_agency
from credentials.zhengzhao.profile import Agency
from tests.helpers.contracts import ZJ, World
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.provinces import ORGS, PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, problem
from tests.helpers.server import Reply

EDUCATION = "11330000TB0000001D"
SECOND_EDUCATION = "11330000TB0000004N"
V2 = "https://www.w3.org/ns/credentials/v2"


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang with two education departments that may issue degree certificates."""
    with served_province(world, tmp_path, ZJ) as province:
        add_agency(province.context.db, EDUCATION, "演示省教育厅", ["degree-certificate"])
        add_agency(province.context.db, SECOND_EDUCATION, "演示省教育厅二", ["degree-certificate"])
        yield province


def _token(province: ServedProvince, agencies: list[str]) -> str:
    issued = province.context.clients.create(
        "issuing system", ORGS[ZJ], [Role.ISSUER], client_id="sys-vc", agencies=agencies
    )
    return issued.token


def _body(province: ServedProvince, holder: str, agency: str | None) -> dict[str, Any]:
    credential = {
        "@context": [V2],
        "type": ["VerifiableCredential", "DegreeCertificate"],
        "issuer": province.did,
        "credentialSubject": {"id": holder, **DEGREE_CLAIMS},
    }
    return {"credential": credential} | ({} if agency is None else {"options": {"agency": agency}})


def _post(province: ServedProvince, token: str, body: dict[str, Any], key: str) -> Reply:
    headers = {**PERSONAL, "Idempotency-Key": key}
    return province.server.request(
        "POST", "/credentials/issue", json_body=body, headers=headers, token=token
    )


def _agency_of(reply: Reply) -> str:
    assert reply.status == 201, reply.text
    code: str = reply.json()["verifiableCredential"]["zhengzhao"]["issuingAgency"]["code"]
    return code


def _issued(province: ServedProvince) -> int:
    return sum(1 for e in events(province) if e.action == "credential.issue")


def test_the_request_hash_of_a_submitted_credential_covers_its_agency() -> None:
    submitted = SubmittedCredential({"credentialSubject": {"id": "did:example:1"}})
    hashes = {
        request_hash("issue", [submitted]),
        request_hash(
            "issue", [SubmittedCredential(submitted.credential, agency=Agency(EDUCATION, "甲"))]
        ),
        request_hash(
            "issue",
            [SubmittedCredential(submitted.credential, agency=Agency(SECOND_EDUCATION, "乙"))],
        ),
    }
    assert len(hashes) == 3


def test_a_retry_with_the_same_key_and_another_options_agency_is_409(
    zhejiang: ServedProvince,
) -> None:
    token = _token(zhejiang, [EDUCATION, SECOND_EDUCATION])
    holder = Holder.generate().did
    first = _post(zhejiang, token, _body(zhejiang, holder, EDUCATION), "vc-1")
    assert _agency_of(first) == EDUCATION
    other = _post(zhejiang, token, _body(zhejiang, holder, SECOND_EDUCATION), "vc-1")
    problem(other, 409, ProblemCode.IDEMPOTENCY_KEY_REUSED)
    assert _issued(zhejiang) == 1
    same = _post(zhejiang, token, _body(zhejiang, holder, EDUCATION), "vc-1")
    assert same.header("Idempotent-Replayed") == "true"
    assert same.json() == first.json()


def test_a_key_that_named_an_agency_does_not_stand_for_a_body_naming_none(
    zhejiang: ServedProvince,
) -> None:
    token = _token(zhejiang, [EDUCATION])
    holder = Holder.generate().did
    assert (
        _agency_of(_post(zhejiang, token, _body(zhejiang, holder, EDUCATION), "vc-2")) == EDUCATION
    )
    # Left out, the route would choose the same agency; the body is still another one.
    left_out = _post(zhejiang, token, _body(zhejiang, holder, None), "vc-2")
    problem(left_out, 409, ProblemCode.IDEMPOTENCY_KEY_REUSED)


def test_a_retry_naming_no_agency_replays_the_agency_chosen_first(
    zhejiang: ServedProvince,
) -> None:
    token = _token(zhejiang, [EDUCATION])
    body = _body(zhejiang, Holder.generate().did, None)
    first = _post(zhejiang, token, body, "vc-3")
    assert _agency_of(first) == EDUCATION
    zhejiang.context.clients.set_agencies("sys-vc", [SECOND_EDUCATION])
    retry = _post(zhejiang, token, body, "vc-3")
    assert retry.header("Idempotent-Replayed") == "true"
    assert _agency_of(retry) == EDUCATION
    assert _issued(zhejiang) == 1

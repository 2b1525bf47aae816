"""Who may issue for which agency (#16): the issue routes' ``agency`` and ``options.agency``.

Zhejiang registers, beside the test agency every test province has (all
templates), an education department (degree certificates only) and a market
regulator (business licences only). Clients are created per test with the
agencies they may issue for. docs/agencies.md states the rules checked here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.province.clients import ALL_AGENCIES, Role
from credentials.holder import Holder
from credentials.zhengzhao.agencies import add_agency, event_org, retire_agency
from ledger.audit.events import AccessEvent
from tests.helpers.agencies import TEST_AGENCY
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import ORGS, PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue_body, problem
from tests.helpers.server import Reply
from tests.helpers.stores import StoreTarget

EDUCATION = "11330000TB0000001D"
MARKET = "11330000TB0000002G"
UNREGISTERED = "11330000TB0000003K"
DEGREE = "degree-certificate"
LICENCE = "business-licence"
V2 = "https://www.w3.org/ns/credentials/v2"


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang with two single-template agencies beside the test agency."""
    with served_province(world, tmp_path, ZJ) as province:
        add_agency(province.context.db, EDUCATION, "演示省教育厅", [DEGREE])
        add_agency(province.context.db, MARKET, "演示省市场监督管理局", [LICENCE])
        yield province


def _client(province: ServedProvince, agencies: Iterable[str] | None, name: str = "sys-a") -> str:
    issued = province.context.clients.create(
        "issuing system", ORGS[ZJ], [Role.ISSUER], client_id=name, agencies=agencies
    )
    return issued.token


def _post(
    province: ServedProvince,
    token: str,
    body: dict[str, Any],
    batch: bool = False,
    key: str | None = None,
) -> Reply:
    path = "/credentials/issue/batch" if batch else "/credentials/issue"
    headers = dict(PERSONAL) if key is None else {**PERSONAL, "Idempotency-Key": key}
    return province.server.request("POST", path, json_body=body, headers=headers, token=token)


def _issue_events(province: ServedProvince) -> list[AccessEvent]:
    return [e for e in events(province) if e.action == "credential.issue"]


def _agency_of(document: dict[str, Any]) -> str:
    code: str = document["zhengzhao"]["issuingAgency"]["code"]
    return code


def test_a_named_agency_is_in_the_credential_and_is_the_events_organisation(
    zhejiang: ServedProvince,
) -> None:
    token = _client(zhejiang, [EDUCATION, MARKET])
    reply = _post(zhejiang, token, issue_body(Holder.generate().did, agency=EDUCATION))
    assert reply.status == 201, reply.text
    credential = reply.json()["credential"]
    assert _agency_of(credential) == EDUCATION
    assert credential["zhengzhao"]["issuingAgency"]["name"] == "演示省教育厅"
    [event] = _issue_events(zhejiang)
    assert (event.actor, event.actor_org) == ("sys-a", event_org(EDUCATION))
    assert event.resource == f"credential:{reply.json()['digest']}"


def test_left_out_the_agency_is_the_clients_only_one_for_the_template(
    zhejiang: ServedProvince,
) -> None:
    token = _client(zhejiang, [EDUCATION, MARKET])
    reply = _post(zhejiang, token, issue_body(Holder.generate().did, template=LICENCE))
    assert reply.status == 201, reply.text
    assert _agency_of(reply.json()["credential"]) == MARKET


def test_left_out_with_several_agencies_for_the_template_is_refused_naming_agency(
    zhejiang: ServedProvince,
) -> None:
    token = _client(zhejiang, [EDUCATION, TEST_AGENCY])
    body = problem(
        _post(zhejiang, token, issue_body(Holder.generate().did)),
        422,
        ProblemCode.VALIDATION_FAILED,
    )
    [issue] = body["errors"]
    assert issue["field"] == "/agency"
    assert "several" in issue["rule"]
    assert _issue_events(zhejiang) == []


def test_a_client_named_no_agency_issues_for_none(zhejiang: ServedProvince) -> None:
    token = _client(zhejiang, [])
    left_out = problem(
        _post(zhejiang, token, issue_body(Holder.generate().did)),
        422,
        ProblemCode.VALIDATION_FAILED,
    )
    assert left_out["errors"][0]["field"] == "/agency"
    named = _post(zhejiang, token, issue_body(Holder.generate().did, agency=EDUCATION))
    problem(named, 403, ProblemCode.AGENCY_NOT_ALLOWED)


def test_an_agency_the_client_may_not_issue_for_is_403_without_echo(
    zhejiang: ServedProvince,
) -> None:
    token = _client(zhejiang, [MARKET])
    reply = _post(zhejiang, token, issue_body(Holder.generate().did, agency=EDUCATION))
    body = problem(reply, 403, ProblemCode.AGENCY_NOT_ALLOWED)
    assert body["errors"][0]["field"] == "/agency"
    assert EDUCATION not in reply.text
    # Asked before the registry: an unregistered code answers the same.
    unknown = _post(zhejiang, token, issue_body(Holder.generate().did, agency=UNREGISTERED))
    problem(unknown, 403, ProblemCode.AGENCY_NOT_ALLOWED)
    assert _issue_events(zhejiang) == []


@pytest.mark.parametrize(
    ("agency", "template", "rule_part"),
    [
        (UNREGISTERED, DEGREE, "registered"),
        (MARKET, DEGREE, "may not issue this template"),
        (EDUCATION, DEGREE, "retired"),
    ],
    ids=["unregistered", "template-not-allowed", "retired"],
)
def test_an_agency_that_cannot_issue_the_template_is_422_agency_refused(
    zhejiang: ServedProvince, agency: str, template: str, rule_part: str
) -> None:
    if rule_part == "retired":
        retire_agency(zhejiang.context.db, EDUCATION)
    token = _client(zhejiang, ALL_AGENCIES)
    reply = _post(zhejiang, token, issue_body(Holder.generate().did, template, agency=agency))
    body = problem(reply, 422, ProblemCode.AGENCY_REFUSED)
    [issue] = body["errors"]
    assert issue["field"] == "/agency"
    assert rule_part in issue["rule"]
    assert agency not in reply.text
    assert _issue_events(zhejiang) == []


@pytest.mark.parametrize(
    "agency",
    [EDUCATION[:17] + "0", EDUCATION.lower(), EDUCATION[:10], "\uff11\uff11\uff13\uff13"],
    ids=["check-character", "lower-case", "short", "full-width"],
)
def test_a_malformed_agency_code_is_422_naming_the_member_not_the_value(
    zhejiang: ServedProvince, agency: str
) -> None:
    token = _client(zhejiang, ALL_AGENCIES)
    reply = _post(zhejiang, token, issue_body(Holder.generate().did, agency=agency))
    body = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert body["errors"][0]["field"] == "/agency"
    assert agency not in reply.text


def test_a_client_migrated_with_every_agency_issues_for_the_only_one_of_the_template(
    zhejiang: ServedProvince,
) -> None:
    token = _client(zhejiang, ALL_AGENCIES)
    reply = _post(zhejiang, token, issue_body(Holder.generate().did, template=LICENCE))
    # The test agency issues every template too: two candidates.
    problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    retire_agency(zhejiang.context.db, TEST_AGENCY)
    again = _post(zhejiang, token, issue_body(Holder.generate().did, template=LICENCE))
    assert again.status == 201, again.text
    assert _agency_of(again.json()["credential"]) == MARKET


def test_a_batch_names_each_requests_agency_and_logs_each_under_its_agency(
    zhejiang: ServedProvince,
) -> None:
    token = _client(zhejiang, [EDUCATION, MARKET])
    holder = Holder.generate().did
    body = {
        "requests": [
            issue_body(holder, agency=EDUCATION),
            issue_body(holder, template=LICENCE),
        ]
    }
    reply = _post(zhejiang, token, body, batch=True)
    assert reply.status == 201, reply.text
    results = reply.json()["results"]
    assert [_agency_of(r["credential"]) for r in results] == [EDUCATION, MARKET]
    organisations = {e.resource: e.actor_org for e in _issue_events(zhejiang)}
    assert organisations == {
        f"credential:{results[0]['digest']}": event_org(EDUCATION),
        f"credential:{results[1]['digest']}": event_org(MARKET),
    }
    refused = {"requests": [issue_body(holder), issue_body(holder, agency=EDUCATION[:17] + "0")]}
    answer = problem(
        _post(zhejiang, token, refused, batch=True), 422, ProblemCode.VALIDATION_FAILED
    )
    assert answer["errors"][0]["field"] == "/requests/1/agency"


def _vc_degree(province: ServedProvince) -> dict[str, Any]:
    template = issue_body(Holder.generate().did)
    return {
        "@context": [V2],
        "type": ["VerifiableCredential", "DegreeCertificate"],
        "issuer": province.did,
        "credentialSubject": {"id": template["holder"], **template["claims"]},
    }


def test_vc_api_options_agency_names_the_agency_of_a_template_credential(
    zhejiang: ServedProvince,
) -> None:
    token = _client(zhejiang, [EDUCATION, TEST_AGENCY])
    body = {"credential": _vc_degree(zhejiang), "options": {"agency": EDUCATION}}
    reply = _post(zhejiang, token, body)
    assert reply.status == 201, reply.text
    assert _agency_of(reply.json()["verifiableCredential"]) == EDUCATION
    [event] = _issue_events(zhejiang)
    assert event.actor_org == event_org(EDUCATION)
    left_out = _post(zhejiang, token, {"credential": _vc_degree(zhejiang)})
    answer = problem(left_out, 422, ProblemCode.VALIDATION_FAILED)
    assert answer["errors"][0]["field"] == "/options/agency"
    other = {"credential": _vc_degree(zhejiang), "options": {"agency": MARKET}}
    problem(_post(zhejiang, token, other), 403, ProblemCode.AGENCY_NOT_ALLOWED)


def test_vc_api_options_agency_is_refused_for_a_credential_of_no_template(
    zhejiang: ServedProvince,
) -> None:
    token = _client(zhejiang, [EDUCATION])
    credential = {
        "@context": [V2],
        "type": ["VerifiableCredential", "MembershipCredential"],
        "issuer": zhejiang.did,
        "credentialSubject": {"memberOf": "示例协会"},
    }
    reply = _post(zhejiang, token, {"credential": credential, "options": {"agency": EDUCATION}})
    body = problem(reply, 422, ProblemCode.AGENCY_REFUSED)
    assert body["errors"][0]["field"] == "/options/agency"
    plain = _post(zhejiang, token, {"credential": credential})
    assert plain.status == 201, plain.text
    [event] = _issue_events(zhejiang)
    assert event.actor_org == ORGS[ZJ]  # no agency: the client's own organisation


def test_a_retry_replays_the_agency_chosen_first_even_if_the_choice_changed(
    zhejiang: ServedProvince,
) -> None:
    second_market = "11330000TB0000004N"
    add_agency(zhejiang.context.db, second_market, "演示省市场监督管理局二", [LICENCE])
    token = _client(zhejiang, [EDUCATION, MARKET])
    body = issue_body(Holder.generate().did, template=LICENCE)
    first = _post(zhejiang, token, body, key="licence-1")
    assert first.status == 201, first.text
    assert _agency_of(first.json()["credential"]) == MARKET
    # The key stands for the body as sent, which named no agency: the retry replays.
    zhejiang.context.clients.set_agencies("sys-a", [EDUCATION, second_market])
    retry = _post(zhejiang, token, body, key="licence-1")
    assert retry.status == 201, retry.text
    assert retry.header("Idempotent-Replayed") == "true"
    assert retry.json()["digest"] == first.json()["digest"]
    fresh = _post(zhejiang, token, body, key="licence-2")
    assert _agency_of(fresh.json()["credential"]) == second_market
    # Naming the agency makes it part of the body: leaving it out is another request,
    # though it would choose the same agency.
    named = issue_body(body["holder"], template=LICENCE, agency=second_market)
    assert _post(zhejiang, token, named, key="licence-3").status == 201
    problem(_post(zhejiang, token, body, key="licence-3"), 409, ProblemCode.IDEMPOTENCY_KEY_REUSED)


def test_named_and_left_out_agencies_on_both_store_engines(
    world: World, tmp_path: Path, store_target: StoreTarget
) -> None:
    url = None if store_target.engine == "sqlite" else str(store_target.where)
    with served_province(world, tmp_path, ZJ, database_url=url) as province:
        add_agency(province.context.db, EDUCATION, "演示省教育厅", [DEGREE])
        add_agency(province.context.db, MARKET, "演示省市场监督管理局", [LICENCE])
        token = _client(province, [EDUCATION, MARKET])
        named = _post(province, token, issue_body(Holder.generate().did, agency=EDUCATION))
        assert named.status == 201, named.text
        left_out = _post(province, token, issue_body(Holder.generate().did, template=LICENCE))
        assert left_out.status == 201, left_out.text
        assert _agency_of(left_out.json()["credential"]) == MARKET
        retire_agency(province.context.db, MARKET)
        refused = _post(province, token, issue_body(Holder.generate().did, template=LICENCE))
        problem(refused, 422, ProblemCode.VALIDATION_FAILED)

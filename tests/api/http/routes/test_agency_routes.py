"""``/agencies`` and ``POST /clients/{id}/agencies`` (#16): agencies administered over HTTP."""

from __future__ import annotations

from typing import Any

from api.errors import ProblemCode
from api.province.clients import Role
from tests.helpers.agencies import TEST_AGENCY
from tests.helpers.routes import problem
from tests.helpers.server import Province, Reply

EDUCATION = "11330000TB0000001D"


def _op(province: Province, method: str, path: str, body: Any = None) -> Reply:
    kwargs: dict[str, Any] = {} if body is None else {"json_body": body}
    return province.request(method, path, Role.OPERATOR, **kwargs)


def _admin_actions(province: Province) -> list[str]:
    return [e.action for e in province.events() if e.action.startswith("api.agency")]


def test_an_operator_adds_lists_changes_and_retires_an_agency(province: Province) -> None:
    body = {"code": EDUCATION, "name": "演示省教育厅", "templates": ["degree-certificate"]}
    added = _op(province, "POST", "/agencies", body)
    assert added.status == 201, added.text
    assert added.header("Location") == f"/agencies/{EDUCATION}"
    assert added.json()["active"] is True
    listed = _op(province, "GET", "/agencies").json()["agencies"]
    assert [a["code"] for a in listed] == sorted([EDUCATION, TEST_AGENCY])
    changed = _op(
        province,
        "PUT",
        f"/agencies/{EDUCATION}/templates",
        {"templates": ["business-licence", "degree-certificate"]},
    )
    assert changed.status == 200, changed.text
    assert changed.json()["templates"] == ["business-licence", "degree-certificate"]
    retired = _op(province, "POST", f"/agencies/{EDUCATION}/retire")
    assert retired.status == 200, retired.text
    assert retired.json()["active"] is False
    assert retired.json()["retiredAt"] is not None
    assert _admin_actions(province) == [
        "api.agency_add",
        "api.agency_templates",
        "api.agency_retire",
    ]
    [event] = [e for e in province.events() if e.action == "api.agency_add"]
    assert event.resource == "record:issuing_agency"
    assert event.actor == "operator-app"


def test_refusals_name_the_field_and_never_echo_the_code(province: Province) -> None:
    wrong = EDUCATION[:17] + "0"
    bad = _op(
        province,
        "POST",
        "/agencies",
        {"code": wrong, "name": "机构", "templates": ["degree-certificate"]},
    )
    body = problem(bad, 422, ProblemCode.VALIDATION_FAILED)
    assert body["errors"][0]["field"] == "/code"
    assert wrong not in bad.text
    template = _op(
        province, "POST", "/agencies", {"code": EDUCATION, "name": "机构", "templates": ["x"]}
    )
    assert (
        problem(template, 422, ProblemCode.VALIDATION_FAILED)["errors"][0]["field"] == "/templates"
    )
    twice = {"code": TEST_AGENCY, "name": "机构", "templates": ["degree-certificate"]}
    problem(_op(province, "POST", "/agencies", twice), 409, ProblemCode.CONFLICT)
    problem(_op(province, "POST", f"/agencies/{EDUCATION}/retire"), 404, ProblemCode.NOT_FOUND)
    assert _admin_actions(province) == []


def test_an_operator_sets_the_agencies_a_client_may_issue_for(province: Province) -> None:
    created = _op(
        province,
        "POST",
        "/clients",
        {"name": "sys", "organisation": "330000", "roles": ["issuer"], "clientId": "sys-1"},
    )
    assert created.status == 201, created.text
    assert created.json()["agencies"] == []
    narrowed = _op(province, "POST", "/clients/sys-1/agencies", {"agencies": [TEST_AGENCY]})
    assert narrowed.status == 200, narrowed.text
    assert narrowed.json()["agencies"] == [TEST_AGENCY]
    opened = _op(province, "POST", "/clients/sys-1/agencies", {"agencies": None})
    assert opened.json()["agencies"] is None
    listed = {
        c["clientId"]: c["agencies"] for c in _op(province, "GET", "/clients").json()["clients"]
    }
    assert listed["sys-1"] is None
    unregistered = _op(province, "POST", "/clients/sys-1/agencies", {"agencies": [EDUCATION]})
    body = problem(unregistered, 422, ProblemCode.VALIDATION_FAILED)
    assert body["errors"][0]["field"] == "agencies"
    assert EDUCATION not in unregistered.text
    missing = _op(province, "POST", "/clients/nobody/agencies", {"agencies": []})
    problem(missing, 404, ProblemCode.NOT_FOUND)
    actions = [e.action for e in province.events() if e.action.startswith("api.client")]
    assert actions == ["api.client_create", "api.client_agencies", "api.client_agencies"]

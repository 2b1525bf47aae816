"""The registry of issuing agencies, on SQLite and PostgreSQL (tests/conftest.py ``any_db``)."""

from __future__ import annotations

import pickle

import pytest

from credentials.zhengzhao.agencies import (
    AgencyError,
    AgencyInputError,
    add_agency,
    agency_of_event_org,
    candidates,
    event_org,
    get_agency,
    list_agencies,
    resolve,
    retire_agency,
    set_templates,
)
from credentials.zhengzhao.check_characters import uscc_check_character
from credentials.zhengzhao.profile import Agency
from ledger.audit.events import Caller
from ledger.store.database import Database
from tests.credentials.zhengzhao.conftest import VECTORS

EDUCATION = "11330000TB0000001D"
MARKET = "11330000TB0000002G"
DEGREE = "degree-certificate"
LICENCE = "business-licence"


def _clock(values: list[int]) -> object:
    return lambda: values.pop(0)


def test_added_agency_is_listed_and_resolves_for_its_templates(any_db: Database) -> None:
    added = add_agency(any_db, EDUCATION, "示例省教育厅", [DEGREE], clock=lambda: 1_000)
    assert added.active
    assert added.templates == frozenset({DEGREE})
    assert get_agency(any_db, EDUCATION) == added
    assert list_agencies(any_db) == [added]
    assert resolve(any_db, DEGREE, EDUCATION) == Agency(EDUCATION, "示例省教育厅")


def test_agencies_are_listed_in_code_order_retired_ones_optional(any_db: Database) -> None:
    add_agency(any_db, MARKET, "示例省市场监督管理局", [LICENCE])
    add_agency(any_db, EDUCATION, "示例省教育厅", [DEGREE])
    retire_agency(any_db, MARKET)
    assert [a.code for a in list_agencies(any_db)] == [EDUCATION, MARKET]
    assert [a.code for a in list_agencies(any_db, include_retired=False)] == [EDUCATION]


def test_resolve_refuses_an_unknown_agency(any_db: Database) -> None:
    with pytest.raises(AgencyError) as caught:
        resolve(any_db, DEGREE, EDUCATION)
    assert caught.value.reason == "unknown"
    assert EDUCATION not in str(caught.value)


def test_resolve_refuses_a_retired_agency(any_db: Database) -> None:
    add_agency(any_db, EDUCATION, "示例省教育厅", [DEGREE])
    retired = retire_agency(any_db, EDUCATION, clock=lambda: 5_000)
    assert not retired.active
    assert retired.retired_at_ms == 5_000
    with pytest.raises(AgencyError) as caught:
        resolve(any_db, DEGREE, EDUCATION)
    assert caught.value.reason == "retired"


def test_retiring_twice_keeps_the_first_time(any_db: Database) -> None:
    add_agency(any_db, EDUCATION, "示例省教育厅", [DEGREE])
    retire_agency(any_db, EDUCATION, clock=lambda: 5_000)
    again = retire_agency(any_db, EDUCATION, clock=lambda: 9_000)
    assert again.retired_at_ms == 5_000


def test_resolve_refuses_a_template_the_agency_may_not_issue(any_db: Database) -> None:
    add_agency(any_db, EDUCATION, "示例省教育厅", [DEGREE])
    with pytest.raises(AgencyError) as caught:
        resolve(any_db, LICENCE, EDUCATION)
    assert caught.value.reason == "template_not_allowed"


def test_set_templates_replaces_what_the_agency_may_issue(any_db: Database) -> None:
    add_agency(any_db, EDUCATION, "示例省教育厅", [DEGREE])
    set_templates(any_db, EDUCATION, [LICENCE])
    assert resolve(any_db, LICENCE, EDUCATION).code == EDUCATION
    with pytest.raises(AgencyError):
        resolve(any_db, DEGREE, EDUCATION)


def test_adding_a_code_twice_is_refused(any_db: Database) -> None:
    add_agency(any_db, EDUCATION, "示例省教育厅", [DEGREE])
    with pytest.raises(AgencyError) as caught:
        add_agency(any_db, EDUCATION, "另一个名字", [LICENCE])
    assert caught.value.reason == "exists"
    assert get_agency(any_db, EDUCATION) is not None
    assert get_agency(any_db, EDUCATION).name == "示例省教育厅"  # type: ignore[union-attr]


@pytest.mark.parametrize("code", VECTORS["usccs"])
def test_published_codes_are_accepted(any_db: Database, code: str) -> None:
    assert add_agency(any_db, code, "机构", [DEGREE]).code == code


def _wrong_check(code: str) -> str:
    right = uscc_check_character(code[:17])
    return code[:17] + ("0" if right != "0" else "1")


@pytest.mark.parametrize(
    ("code", "rule_part"),
    [
        (_wrong_check(EDUCATION), "check character"),
        (EDUCATION[:17], "18 characters"),
        (EDUCATION.lower(), "position"),
        ("11330000TB000000IO", "position"),
    ],
    ids=["wrong-check-character", "too-short", "lower-case", "letter-outside-gb32100"],
)
def test_malformed_codes_are_refused_naming_the_field_never_the_value(
    any_db: Database, code: str, rule_part: str
) -> None:
    with pytest.raises(AgencyInputError) as caught:
        add_agency(any_db, code, "机构", [DEGREE])
    assert caught.value.field == "code"
    assert rule_part in caught.value.rule
    assert code not in str(caught.value)
    with pytest.raises(AgencyInputError) as resolved:
        resolve(any_db, DEGREE, code)
    assert resolved.value.field == "agency"
    assert list_agencies(any_db) == []


@pytest.mark.parametrize(
    ("name", "templates", "field"),
    [
        ("", [DEGREE], "name"),
        (" 教育厅", [DEGREE], "name"),
        ("教育厅\n", [DEGREE], "name"),
        ("教" * 101, [DEGREE], "name"),
        ("教育厅", [], "templates"),
        ("教育厅", ["no-such-template"], "templates"),
    ],
    ids=["empty-name", "outer-space", "control-char", "long-name", "no-template", "unknown"],
)
def test_bad_names_and_templates_are_refused(
    any_db: Database, name: str, templates: list[str], field: str
) -> None:
    with pytest.raises(AgencyInputError) as caught:
        add_agency(any_db, EDUCATION, name, templates)
    assert caught.value.field == field
    assert list_agencies(any_db) == []


def test_retiring_or_narrowing_an_unknown_agency_is_refused(any_db: Database) -> None:
    with pytest.raises(AgencyError):
        retire_agency(any_db, EDUCATION)
    with pytest.raises(AgencyError):
        set_templates(any_db, EDUCATION, [DEGREE])


@pytest.mark.parametrize("code", [*VECTORS["usccs"], EDUCATION, MARKET])
def test_event_org_is_a_valid_actor_org_and_reads_back(code: str) -> None:
    org = event_org(code)
    assert org.startswith("uscc:")
    Caller("demo-issuer", org)  # the audit log's own pattern: no run of nine digits
    assert agency_of_event_org(org) == code


@pytest.mark.parametrize(
    "org", ["330000", "uscc:11330000.tb000000.1", "uscc:11330000.tb000000.1e", "uscc:"]
)
def test_an_org_that_names_no_agency_reads_as_none(org: str) -> None:
    assert agency_of_event_org(org) is None


def test_errors_survive_a_process_boundary() -> None:
    error = pickle.loads(pickle.dumps(AgencyError("retired", "the agency is retired")))
    assert (error.reason, str(error)) == ("retired", "the agency is retired")
    bad = pickle.loads(pickle.dumps(AgencyInputError("agency", "must be a USCC")))
    assert (bad.field, bad.rule) == ("agency", "must be a USCC")


def test_candidates_are_the_active_agencies_of_a_template_among_the_codes(
    any_db: Database,
) -> None:
    add_agency(any_db, EDUCATION, "示例省教育厅", [DEGREE, LICENCE])
    add_agency(any_db, MARKET, "示例省市场监督管理局", [LICENCE])
    general = "11330000TB0000009X"[:17]
    general += uscc_check_character(general)
    add_agency(any_db, general, "示例省人民政府办公厅", ["birth-medical-certificate"])
    assert [a.code for a in candidates(any_db, LICENCE, None)] == [EDUCATION, MARKET]
    assert [a.code for a in candidates(any_db, LICENCE, frozenset({MARKET}))] == [MARKET]
    assert [a.code for a in candidates(any_db, DEGREE, None)] == [EDUCATION]
    assert candidates(any_db, DEGREE, frozenset()) == []
    # A template name that is a part of another's matches only itself.
    assert candidates(any_db, "licence", None) == []
    retire_agency(any_db, EDUCATION)
    assert [a.code for a in candidates(any_db, LICENCE, None)] == [MARKET]

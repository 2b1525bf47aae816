"""``check_declaration``'s per-worker memo: the same verdicts as the rule, bounded."""

from __future__ import annotations

import pytest

from api.http import auth
from api.http.auth import check_declaration
from api.http.problems import Problem
from api.province.access import Declaration


@pytest.fixture(autouse=True)
def _empty_memo() -> None:
    auth._ACCEPTED.clear()


def test_an_accepted_declaration_is_remembered_and_returned_again() -> None:
    first = check_declaration("audit.review", "prc.pipl.art13")
    assert first == Declaration("audit.review", "prc.pipl.art13")
    assert {("audit.review", "prc.pipl.art13", None): first} == auth._ACCEPTED
    assert check_declaration("audit.review", "prc.pipl.art13") is first


def test_a_refused_declaration_is_not_remembered_and_stays_refused() -> None:
    check_declaration("audit.review", "prc.pipl.art13")
    for _ in range(2):
        with pytest.raises(Problem) as refused:
            check_declaration("audit.review", "not a code")
        assert [f.field for f in refused.value.fields] == ["X-Legal-Basis"]
    assert list(auth._ACCEPTED) == [("audit.review", "prc.pipl.art13", None)]


def test_idempotency_keys_are_checked_every_time_and_not_remembered() -> None:
    assert check_declaration("audit.review", "prc.pipl.art13", "key-1") == Declaration(
        "audit.review", "prc.pipl.art13"
    )
    assert auth._ACCEPTED == {}
    with pytest.raises(Problem) as refused:
        check_declaration("audit.review", "prc.pipl.art13", "bad key!")
    assert [f.field for f in refused.value.fields] == ["Idempotency-Key"]


def test_the_memo_is_bounded() -> None:
    for n in range(auth._ACCEPTED_ENTRIES + 5):
        check_declaration(f"purpose.p{n}", "prc.pipl.art13")
    assert len(auth._ACCEPTED) <= auth._ACCEPTED_ENTRIES

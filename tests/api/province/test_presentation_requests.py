"""Asking a citizen to present (OpenID4VP direct_post, docs/oid4vp.md): the province side.

On both engines: a request is answered once, verified by the province's verifier, its
one access event's actor the clerk who asked; a replay, an expired request, a wrong
``state`` or a presentation over another nonce are refused; another sign-in session
cannot read the result; the request object is OpenID4VP's and names no person.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.province.access import AccessNotRecordedError, Declaration
from api.province.clients import Role
from api.province.presentation_requests import (
    RESULT_RETENTION_MS,
    UNDECIDED,
    AskedRequest,
    RequestRefusedError,
    answer,
    ask,
    request_object,
    requests_of,
    result_for,
)
from credentials.holder import Holder
from ledger.audit.events import Caller
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue
from tests.helpers.stores import StoreTarget

LICENCE = "business-licence"
CLERK = Caller("staff:window-three", "330000")
DECLARED = Declaration("audit.review", "prc.pipl.art13")
WANTED = ("registeredCapital", "legalRepresentative")


@pytest.fixture
def province(world: World, tmp_path: Path, store_target: StoreTarget) -> Iterator[ServedProvince]:
    url = None if store_target.engine == "sqlite" else str(store_target.where)
    with served_province(world, tmp_path, database_url=url) as served:
        yield served


def _credential(province: ServedProvince, holder: Holder) -> dict[str, Any]:
    claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
    digest = issue(province, holder.did, template=LICENCE, claims=claims)["digest"]
    province.anchor_all()
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    assert reply.status == 200, reply.text
    credential: dict[str, Any] = reply.json()["credential"]
    return credential


def _ask(province: ServedProvince, session: str = "session-a") -> AskedRequest:
    verifier = province.context.verifier
    assert verifier is not None
    return ask(province.context.db, verifier, session, CLERK, DECLARED, WANTED)


def _token(holder: Holder, credential: dict[str, Any], asked: AskedRequest) -> str:
    presentation = holder.present(
        [(credential, list(asked.claims))], challenge=asked.nonce, domain=asked.domain
    )
    return json.dumps({"credential": [presentation]}, ensure_ascii=False)


def _answer(province: ServedProvince, asked: AskedRequest, token: str, **kw: Any) -> Any:
    context = province.context
    assert context.verifier is not None
    return answer(
        context.db,
        context.audit_log,
        context.verifier,
        asked.request_id,
        token,
        kw.get("state", asked.state),
        "req-1",
        now_ms=kw.get("now_ms", context.clock()),
    )


def test_an_answer_is_verified_once_and_its_access_event_names_the_clerk(
    province: ServedProvince,
) -> None:
    holder = Holder.generate()
    credential = _credential(province, holder)
    asked = _ask(province)
    token = _token(holder, credential, asked)
    before = province.parts.audit_log.size()
    outcome = _answer(province, asked, token)
    assert outcome.verdict == "VALID"
    shown = dict(outcome.claims)
    assert shown["registeredCapital"] == "100万元人民币"
    assert shown["legalRepresentative"] == "李四"
    assert "businessScope" not in shown  # not asked for, not disclosed
    appended = events(province)[before:]
    assert [(e.action, e.actor, e.purpose) for e in appended] == [
        ("presentation.verify", CLERK.actor, DECLARED.purpose)
    ]
    with pytest.raises(RequestRefusedError) as replay:
        _answer(province, asked, token)
    assert replay.value.reason == "already_answered"
    assert province.parts.audit_log.size() == before + 1
    seen = result_for(province.context.db, asked.request_id, "session-a")
    assert seen.result is not None
    assert seen.result["verdict"] == "VALID"


def test_an_expired_request_or_a_wrong_state_is_refused_without_an_event(
    province: ServedProvince,
) -> None:
    holder = Holder.generate()
    credential = _credential(province, holder)
    asked = _ask(province)
    token = _token(holder, credential, asked)
    before = province.parts.audit_log.size()
    with pytest.raises(RequestRefusedError) as wrong_state:
        _answer(province, asked, token, state="another-state")
    assert wrong_state.value.reason == "state_mismatch"
    with pytest.raises(RequestRefusedError) as late:
        _answer(province, asked, token, now_ms=asked.expires_at_ms)
    assert late.value.reason == "expired"
    with pytest.raises(RequestRefusedError) as unknown:
        answer(
            province.context.db,
            province.context.audit_log,
            province.context.verifier,  # type: ignore[arg-type]
            "no-such-request",
            token,
            asked.state,
            "req-2",
            now_ms=0,
        )
    assert unknown.value.reason == "unknown"
    assert province.parts.audit_log.size() == before


def test_a_presentation_over_another_nonce_is_refused(province: ServedProvince) -> None:
    holder = Holder.generate()
    credential = _credential(province, holder)
    asked = _ask(province)
    other = _ask(province)
    with pytest.raises(RequestRefusedError) as refused:
        _answer(province, asked, _token(holder, credential, other))
    assert refused.value.reason == "nonce_mismatch"


def test_another_session_cannot_read_the_result(province: ServedProvince) -> None:
    asked = _ask(province, "session-a")
    assert result_for(province.context.db, asked.request_id, "session-a").result is None
    with pytest.raises(RequestRefusedError) as refused:
        result_for(province.context.db, asked.request_id, "session-b")
    assert refused.value.reason == "unknown"
    stored = requests_of(province.context.db).get(asked.request_id)
    assert stored is not None
    assert "session-a" not in stored.session_digest


def test_the_request_object_is_openid4vp_direct_post_and_names_no_person(
    province: ServedProvince,
) -> None:
    asked = _ask(province)
    shown = request_object(asked, "https://verifier.example")
    uri = f"https://verifier.example/oid4vp/responses/{asked.request_id}"
    assert shown["client_id"] == f"redirect_uri:{uri}"
    assert shown["response_uri"] == uri
    assert (shown["response_type"], shown["response_mode"]) == ("vp_token", "direct_post")
    assert (shown["nonce"], shown["state"]) == (asked.nonce, asked.state)
    paths = [c["path"] for c in shown["dcql_query"]["credentials"][0]["claims"]]
    assert paths == [["credentialSubject", n] for n in WANTED]
    text = json.dumps(shown)
    assert CLERK.actor not in text
    assert "session-a" not in text


def test_bad_claim_names_are_refused(province: ServedProvince) -> None:
    verifier = province.context.verifier
    assert verifier is not None
    for claims in ((), ("a b",), tuple(f"c{i}" for i in range(40))):
        with pytest.raises(RequestRefusedError):
            ask(province.context.db, verifier, "s", CLERK, DECLARED, claims)


def test_a_malformed_answer_is_refused_before_the_request_is_used_up(
    province: ServedProvince,
) -> None:
    holder = Holder.generate()
    credential = _credential(province, holder)
    asked = _ask(province)
    broken = {"proof": {"challenge": asked.nonce}, "type": ["VerifiablePresentation"]}
    for token, reason in (
        ("not json", "vp_token_not_json"),
        ('{"a": 1, "a": 2}', "vp_token_not_json"),  # I-JSON: no duplicate member
        ("[1]", "vp_token_shape"),
        (json.dumps({"credential": [broken]}), "vp_token_malformed"),
    ):
        with pytest.raises(RequestRefusedError) as refused:
            _answer(province, asked, token)
        assert refused.value.reason == reason
    assert _answer(province, asked, _token(holder, credential, asked)).verdict == "VALID"


def test_an_answer_whose_event_cannot_be_recorded_leaves_an_undecided_outcome(
    province: ServedProvince, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = Holder.generate()
    credential = _credential(province, holder)
    asked = _ask(province)
    token = _token(holder, credential, asked)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("the disk is full")

    monkeypatch.setattr(province.parts.audit_log, "submit", refuse)
    with pytest.raises(AccessNotRecordedError):
        _answer(province, asked, token)
    monkeypatch.undo()
    seen = result_for(province.context.db, asked.request_id, "session-a")
    assert seen.result == UNDECIDED.to_json()
    with pytest.raises(RequestRefusedError) as again:
        _answer(province, asked, token)
    assert again.value.reason == "already_answered"


def test_requests_long_expired_are_purged_with_their_outcomes_when_a_clerk_asks(
    province: ServedProvince,
) -> None:
    db = province.context.db
    now = province.context.clock()
    old = dataclasses.replace(
        _ask(province), request_id="old-request", expires_at_ms=now - RESULT_RETENTION_MS - 1
    )
    recent = dataclasses.replace(old, request_id="recent-request", expires_at_ms=now - 1000)
    requests_of(db).add(old)
    requests_of(db).add(recent)
    _ask(province)
    assert requests_of(db).get("old-request") is None
    assert requests_of(db).get("recent-request") is not None

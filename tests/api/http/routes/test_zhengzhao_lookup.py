"""``POST /zhengzhao/lookup`` (#16): a certificate by its 证照标识, without an oracle.

docs/dianzi-zhengzhao.md, "Lookup by 证照标识", states the rules checked here:
the answer's members (never a claim, never the holder DID), one 404 for an
unknown identifier and one the caller may not see (same status, headers and body
but the request id, and the same store statements: timing is measured by
scripts/bench_zhengzhao_lookup.py, not asserted here), claims only with the
holder's verified presentation, one access event per attempt, a rate limit.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.http.ratelimit import RateLimiter, RatePolicy
from api.province.clients import Role
from api.province.lookup import LOOKUP_ACTION, LOOKUP_RECORD
from credentials.credential import credential_digest
from credentials.disclosure import claim_name
from credentials.holder import Holder
from credentials.templates import get_template
from credentials.zhengzhao.agencies import add_agency
from credentials.zhengzhao.identifier import ZhengzhaoId, parse_zhengzhao_id
from ledger.audit.events import AccessEvent, Outcome
from ledger.store.database import Database
from tests.helpers.agencies import TEST_AGENCY
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import ORGS, PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue, problem
from tests.helpers.server import Reply
from tests.helpers.stores import StoreTarget

LOOKUP = "/zhengzhao/lookup"
OTHER_AGENCY = "11330000TB0000001D"
CHOSEN = ["degreeLevel", "awardingInstitution"]
ANSWER_MEMBERS = {
    "identifier",
    "typeCode",
    "typeName",
    "issuingAgency",
    "jurisdiction",
    "trustGrade",
    "issuer",
    "validFrom",
    "validUntil",
    "status",
    "anchoring",
    "authorization",
}


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang, with a second agency for a client that may not see the test agency's."""
    with served_province(world, tmp_path, ZJ) as province:
        add_agency(province.context.db, OTHER_AGENCY, "演示省教育厅", ["degree-certificate"])
        yield province


def _issued(province: ServedProvince, holder: Holder) -> tuple[str, dict[str, Any]]:
    """Issue a degree certificate to ``holder``, anchor it: its 证照标识 and credential."""
    digest = issue(province, holder.did)["digest"]
    province.anchor_all()
    assert province.context.issuer is not None
    credential = province.context.issuer.credential(bytes.fromhex(digest))
    identifier: str = credential["zhengzhao"]["identifier"]
    return identifier, credential


def _unknown(identifier: str) -> str:
    """A well-formed identifier (right check character) of a serial never issued."""
    parsed = parse_zhengzhao_id(identifier)
    return str(dataclasses.replace(parsed, serial_number="Z" * 20))


def _other_agency_client(province: ServedProvince) -> str:
    """An issuer client that may issue (hence look up) for the other agency only."""
    issued = province.context.clients.create(
        "other system", ORGS[ZJ], [Role.ISSUER], client_id="other-issuer", agencies=[OTHER_AGENCY]
    )
    return issued.token


def _lookup(
    province: ServedProvince,
    identifier: str,
    *,
    role: Role = Role.VERIFIER,
    token: str | None = None,
    presentation: Any = None,
) -> Reply:
    body: dict[str, Any] = {"identifier": identifier}
    if presentation is not None:
        body["verifiablePresentation"] = presentation
    if token is not None:
        return province.server.request(
            "POST", LOOKUP, json_body=body, headers=PERSONAL, token=token
        )
    return province.request("POST", LOOKUP, role, json_body=body, headers=PERSONAL)


def _lookup_events(province: ServedProvince) -> list[AccessEvent]:
    return [e for e in events(province) if e.action == LOOKUP_ACTION]


def _without_request_id(reply: Reply) -> bytes:
    document = reply.json()
    assert document.pop("requestId") == reply.header("X-Request-Id")
    assert document.pop("instance").endswith(str(reply.header("X-Request-Id")))
    return json.dumps(document, sort_keys=True, ensure_ascii=False).encode()


def test_a_found_certificate_answers_its_national_facts_and_no_claim(
    zhejiang: ServedProvince,
) -> None:
    holder = Holder.generate()
    identifier, credential = _issued(zhejiang, holder)
    reply = _lookup(zhejiang, identifier)
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert set(answer) == ANSWER_MEMBERS
    member = credential["zhengzhao"]
    assert answer["identifier"] == identifier
    assert answer["typeCode"] == member["typeCode"]
    assert answer["typeName"] == member["typeName"]
    assert answer["issuingAgency"] == member["issuingAgency"]
    assert answer["issuingAgency"]["code"] == TEST_AGENCY
    assert answer["jurisdiction"] == member["jurisdiction"]
    assert answer["trustGrade"] == member["trustGrade"]
    assert answer["issuer"] == zhejiang.did
    assert answer["validFrom"] == credential["validFrom"]
    assert answer["validUntil"] == credential.get("validUntil")
    assert answer["status"] == "valid"
    assert answer["anchoring"]["state"] == "anchored"
    assert isinstance(answer["anchoring"]["blockNumber"], int)
    assert answer["authorization"] == {
        "presented": False,
        "accepted": False,
        "reason": "not_presented",
    }
    # Neither the holder DID nor any claim value, anywhere in the body.
    assert holder.did not in reply.text
    for value in credential["credentialSubject"].values():
        if isinstance(value, str) and value != holder.did:
            assert value not in reply.text


def test_a_revoked_certificate_is_reported_revoked(zhejiang: ServedProvince) -> None:
    identifier, credential = _issued(zhejiang, Holder.generate())
    assert zhejiang.context.issuer is not None
    zhejiang.context.issuer.revoke([credential_digest(credential)])
    assert _lookup(zhejiang, identifier).json()["status"] == "revoked"


def test_unknown_and_not_visible_identifiers_get_the_same_answer(
    zhejiang: ServedProvince,
) -> None:
    identifier, _ = _issued(zhejiang, Holder.generate())
    other = _other_agency_client(zhejiang)
    not_visible = _lookup(zhejiang, identifier, token=other)
    unknown = _lookup(zhejiang, _unknown(identifier), token=other)
    problem(not_visible, 404, ProblemCode.NOT_FOUND)
    problem(unknown, 404, ProblemCode.NOT_FOUND)
    for header in ("Content-Type", "Content-Length", "Cache-Control", "Retry-After"):
        assert not_visible.header(header) == unknown.header(header), header
    assert sorted(k.lower() for k in not_visible.headers) == sorted(
        k.lower() for k in unknown.headers
    )
    assert _without_request_id(not_visible) == _without_request_id(unknown)
    # The same client may see a certificate of its own agency: the 404 was the scope.
    assert _lookup(zhejiang, identifier).status == 200


class _Counter:
    """Read transactions and statements on the stores a lookup reads, in order."""

    def __init__(self) -> None:
        self.reads: list[str] = []
        self.statements: list[str] = []


class _CountingDatabase:
    """A store, counting its read transactions and statements (engine-neutral)."""

    def __init__(self, inner: Database, counter: _Counter, name: str) -> None:
        self.inner = inner
        self.counter = counter
        self.name = name

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextmanager
    def read(self) -> Iterator[Any]:
        self.counter.reads.append(self.name)
        with self.inner.read() as tx:
            yield _CountingTransaction(tx, self.counter.statements)


class _CountingTransaction:
    def __init__(self, inner: Any, statements: list[str]) -> None:
        self.inner = inner
        self.statements = statements

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if name not in ("fetchone", "fetchall", "execute"):
            return method

        def counted(sql: str, *args: Any, **kwargs: Any) -> Any:
            self.statements.append(" ".join(sql.split()))
            return method(sql, *args, **kwargs)

        return counted


def _work(
    province: ServedProvince, identifier: str, token: str | None
) -> tuple[list[str], list[str]]:
    """The read transactions (credential store, chain index) and statements of one lookup."""
    issuer, index = province.context.issuer, province.parts.index
    assert issuer is not None
    counter = _Counter()
    stores, index_store = issuer.db, index.db
    issuer.db = _CountingDatabase(stores, counter, "credentials")
    index.db = _CountingDatabase(index_store, counter, "index")
    try:
        if token is None:
            _lookup(province, identifier)
        else:
            _lookup(province, identifier, token=token)
    finally:
        issuer.db, index.db = stores, index_store
    return counter.reads, counter.statements


def test_found_unknown_and_not_visible_run_the_same_store_statements(
    zhejiang: ServedProvince,
) -> None:
    identifier, _ = _issued(zhejiang, Holder.generate())
    other = _other_agency_client(zhejiang)
    found = _work(zhejiang, identifier, None)
    not_visible = _work(zhejiang, identifier, other)
    unknown = _work(zhejiang, _unknown(identifier), other)
    assert found[0] == ["credentials", "index"]
    assert len(found[1]) == 3
    assert not_visible == found
    assert unknown == found


def _presentation(
    province: ServedProvince, holder: Holder, credential: dict[str, Any], claims: list[str]
) -> dict[str, Any]:
    reply = province.request("POST", "/challenges", Role.VERIFIER)
    assert reply.status == 201, reply.text
    challenge = reply.json()["challenge"]
    return holder.present([(credential, claims)], challenge=challenge, domain=province.did)


def test_claims_only_with_the_holders_verified_presentation(zhejiang: ServedProvince) -> None:
    holder = Holder.generate()
    identifier, credential = _issued(zhejiang, holder)
    presentation = _presentation(zhejiang, holder, credential, CHOSEN)
    reply = _lookup(zhejiang, identifier, presentation=presentation)
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert answer["authorization"] == {"presented": True, "accepted": True}
    claims = answer["claims"]
    for name in CHOSEN:
        assert claims[name] == credential_claim(credential, name)
    assert "holderName" not in claims
    assert "id" not in claims
    assert holder.did not in json.dumps(claims)
    # Replaying the same presentation: its challenge is used up, no claims.
    replayed = _lookup(zhejiang, identifier, presentation=presentation).json()
    assert "claims" not in replayed
    assert replayed["authorization"]["reason"] == "presentation_invalid"
    assert replayed["authorization"]["checkReason"] == "challenge_used"


def credential_claim(credential: dict[str, Any], name: str) -> Any:
    """The value of claim ``name`` in an issued credential (in clear or disclosed)."""
    subject = credential["credentialSubject"]
    if name in subject:
        return subject[name]
    for _salt, pointer, value in credential["disclosures"]:
        if claim_name(str(pointer)) == name:
            return value
    raise AssertionError(f"no claim {name}")


def test_no_claims_from_another_holder_or_a_tampered_presentation(
    zhejiang: ServedProvince,
) -> None:
    holder, other = Holder.generate(), Holder.generate()
    identifier, credential = _issued(zhejiang, holder)
    _, others_credential = _issued(zhejiang, other)
    # Another holder presenting their own certificate: valid, but not this one.
    theirs = _lookup(
        zhejiang,
        identifier,
        presentation=_presentation(zhejiang, other, others_credential, CHOSEN),
    ).json()
    assert "claims" not in theirs
    assert theirs["authorization"]["reason"] == "credential_not_presented"
    # Another holder presenting this holder's certificate: holder binding fails.
    stolen = _lookup(
        zhejiang, identifier, presentation=_presentation(zhejiang, other, credential, CHOSEN)
    ).json()
    assert "claims" not in stolen
    assert stolen["authorization"]["reason"] == "presentation_invalid"
    # The holder's own presentation, a disclosed value changed after signing.
    tampered = _presentation(zhejiang, holder, credential, CHOSEN)
    tampered["verifiableCredential"][0]["disclosures"][0][2] = "doctor"
    answer = _lookup(zhejiang, identifier, presentation=tampered).json()
    assert "claims" not in answer
    assert answer["authorization"]["reason"] == "presentation_invalid"


def test_a_presentation_bound_to_another_purpose_gives_no_claims(
    zhejiang: ServedProvince,
) -> None:
    holder = Holder.generate()
    identifier, credential = _issued(zhejiang, holder)

    def bound(purpose: str) -> dict[str, Any]:
        challenge = zhejiang.request("POST", "/challenges", Role.VERIFIER).json()["challenge"]
        return holder.present(
            [(credential, CHOSEN)], challenge=challenge, domain=zhejiang.did, purpose=purpose
        )

    # The request declares cross-province.enrolment (X-Purpose): the holder's binding
    # to it is accepted, a binding to another purpose is not.
    same = _lookup(zhejiang, identifier, presentation=bound(PERSONAL["X-Purpose"])).json()
    assert same["authorization"]["accepted"] is True
    other = _lookup(zhejiang, identifier, presentation=bound("licensing.application")).json()
    assert "claims" not in other
    assert other["authorization"]["checkReason"] == "purpose_mismatch"


def test_an_unknown_identifier_with_a_presentation_is_the_same_404(
    zhejiang: ServedProvince,
) -> None:
    holder = Holder.generate()
    identifier, credential = _issued(zhejiang, holder)
    reply = _lookup(
        zhejiang,
        _unknown(identifier),
        presentation=_presentation(zhejiang, holder, credential, CHOSEN),
    )
    body = problem(reply, 404, ProblemCode.NOT_FOUND)
    assert "claims" not in body


def test_every_attempt_is_an_access_event_naming_no_identifier(zhejiang: ServedProvince) -> None:
    holder = Holder.generate()
    identifier, _ = _issued(zhejiang, holder)
    other = _other_agency_client(zhejiang)
    assert _lookup(zhejiang, identifier).status == 200
    assert _lookup(zhejiang, identifier, token=other).status == 404
    assert _lookup(zhejiang, _unknown(identifier)).status == 404
    malformed = identifier[:-1] + ("0" if identifier[-1] != "0" else "1")
    assert _lookup(zhejiang, malformed).status == 422
    recorded = _lookup_events(zhejiang)
    assert [e.outcome for e in recorded] == [
        Outcome.SUCCESS,
        Outcome.DENIED,
        Outcome.NOT_FOUND,
        Outcome.INVALID,
    ]
    assert recorded[0].resource.startswith("credential:")
    assert recorded[0].subject is not None
    # Every attempt answered 404 or 422 is recorded alike: the route's record, no subject.
    assert [e.resource for e in recorded[1:]] == [LOOKUP_RECORD] * 3
    assert [e.subject for e in recorded[1:]] == [None] * 3
    assert all(e.purpose == PERSONAL["X-Purpose"] for e in recorded)
    serial = parse_zhengzhao_id(identifier).serial_number
    for event in recorded:
        assert identifier not in repr(event)
        assert serial not in repr(event)


def test_a_malformed_identifier_is_a_422_naming_the_field_never_the_value(
    zhejiang: ServedProvince,
) -> None:
    national = get_template("degree-certificate").national
    assert national is not None
    good = str(ZhengzhaoId(national.type_code, TEST_AGENCY, "2026000000042", 1))
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    reply = _lookup(zhejiang, bad)
    body = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert body["errors"] == [{"field": "/identifier", "rule": "checkCharacter: check_character"}]
    assert bad not in reply.text
    assert "2026000000042" not in reply.text


def test_without_purpose_headers_no_lookup(zhejiang: ServedProvince) -> None:
    reply = zhejiang.request(
        "POST", LOOKUP, Role.VERIFIER, json_body={"identifier": "1.2.156.3005.2"}
    )
    problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert _lookup_events(zhejiang) == []


def test_lookups_have_a_rate_limit_of_their_own(zhejiang: ServedProvince) -> None:
    identifier, _ = _issued(zhejiang, Holder.generate())
    zhejiang.context.rate_limits.lookups = RateLimiter(RatePolicy(0.001, 2))
    assert _lookup(zhejiang, identifier).status == 200
    assert _lookup(zhejiang, _unknown(identifier)).status == 404
    refused = _lookup(zhejiang, identifier)
    problem(refused, 429, ProblemCode.RATE_LIMITED)
    assert int(str(refused.header("Retry-After"))) >= 1
    # Refused before the attempt: not an access event (a flood must not flood the log).
    assert len(_lookup_events(zhejiang)) == 2
    # The bucket is per client: another client still looks up, and other routes still answer.
    assert _lookup(zhejiang, identifier, role=Role.ISSUER).status == 200
    assert zhejiang.request("GET", "/templates", Role.VERIFIER).status == 200


def test_lookup_on_both_store_engines(
    world: World, tmp_path: Path, store_target: StoreTarget
) -> None:
    url = None if store_target.engine == "sqlite" else str(store_target.where)
    with served_province(world, tmp_path, ZJ, database_url=url) as province:
        add_agency(province.context.db, OTHER_AGENCY, "演示省教育厅", ["degree-certificate"])
        holder = Holder.generate()
        identifier, credential = _issued(province, holder)
        other = _other_agency_client(province)
        assert _lookup(province, identifier).json()["identifier"] == identifier
        not_visible = _lookup(province, identifier, token=other)
        unknown = _lookup(province, _unknown(identifier), token=other)
        assert _without_request_id(not_visible) == _without_request_id(unknown)
        assert _work(province, identifier, other) == _work(province, _unknown(identifier), other)
        authorized = _lookup(
            province, identifier, presentation=_presentation(province, holder, credential, CHOSEN)
        )
        assert set(authorized.json()["claims"]) >= set(CHOSEN)

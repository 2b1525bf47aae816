"""Issuing a certificate of a national template for a named agency gives it a 证照标识.

``CredentialIssuer`` allocates the identifiers of one issue call in one
transaction (``credentials.issuance.zhengzhao_ids``), writes the ``zhengzhao``
member into each credential before signing (so the signature and the digest
cover it), and stores identifier and digest together. A template without
national metadata, or a request without an agency, issues as before. The
template here is test-local (the degree schema with national metadata), so these
tests do not depend on which shipped templates carry it. Every test runs on
SQLite, then on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from credentials.credential import (
    IssueRequest,
    build_credential,
    credential_digest,
    secured_form,
)
from credentials.cryptosuite import verify_proof
from credentials.did import issuer_did
from credentials.errors import ConfigurationError, UnknownCredentialError
from credentials.holder import Holder
from credentials.issuance import CredentialIssuer, Idempotency, IssuerConfig, Replay, request_hash
from credentials.signing import SigningPool
from credentials.submitted import SubmittedCredential
from credentials.templates import TEMPLATES, get_template
from credentials.zhengzhao.identifier import parse_zhengzhao_id
from credentials.zhengzhao.profile import Agency, NationalMetadata
from ledger.crypto import sm4
from ledger.crypto.errors import InvalidSignature
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.database import Database
from tests.helpers.contracts import ZJ
from tests.helpers.credentials import DEGREE_CLAIMS, ZJ_KEY

CHAIN_ID = 31337
NOW_MS = 1_782_000_000_000
"""2026-06-21T00:00:00Z."""
TEMPLATE = "zz-test-degree"
PLAIN = "zz-test-plain-degree"
"""The same schema without national metadata."""
NATIONAL = NationalMetadata(
    type_code="11100000000013338W011",
    type_name="学位证书",
    defining_authority="教育部",
    trust_grade="B",
)
AGENCY = Agency(code="11430000006122244L", name="测试颁证机构甲")
OTHER = Agency(code="11330105002500287C", name="测试颁证机构乙")


@pytest.fixture
def db(any_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The issuer's store, once per engine, with the test-local national template."""
    template = dataclasses.replace(
        get_template("degree-certificate"), name=TEMPLATE, national=NATIONAL
    )
    monkeypatch.setitem(TEMPLATES, TEMPLATE, template)
    monkeypatch.setitem(TEMPLATES, PLAIN, dataclasses.replace(template, name=PLAIN, national=None))
    return any_db


def _issuer(db: Database, jurisdiction: str | None = "330000") -> CredentialIssuer:
    config = IssuerConfig(CHAIN_ID, ZJ, "0x" + "11" * 20, jurisdiction=jurisdiction)
    signer = LocalSigner(f"{issuer_did(CHAIN_ID, ZJ)}#key-1", ZJ_KEY)
    return CredentialIssuer(db, config, signer, data_key=sm4.generate_key(), clock=lambda: NOW_MS)


def _request(agency: Agency | None = AGENCY, template: str = TEMPLATE) -> IssueRequest:
    return IssueRequest(template, Holder.generate().did, dict(DEGREE_CLAIMS), agency=agency)


def _member(document: dict[str, Any]) -> dict[str, Any]:
    member: dict[str, Any] = document["zhengzhao"]
    return member


def test_the_member_is_signed_into_the_credential(db: Database) -> None:
    issued = _issuer(db).issue(_request())
    document = issued.document
    assert _member(document) == {
        "identifier": _member(document)["identifier"],
        "typeCode": NATIONAL.type_code,
        "typeName": "学位证书",
        "issuingAgency": {"name": AGENCY.name, "code": AGENCY.code},
        "jurisdiction": "330000",
        "trustGrade": "B",
    }
    identifier = parse_zhengzhao_id(_member(document)["identifier"])
    assert (identifier.type_code, identifier.issuing_agency_code) == (
        NATIONAL.type_code,
        AGENCY.code,
    )
    assert identifier.serial_number == "20260000001"
    # The digest and the issuer's proof cover the member.
    assert credential_digest(document) == issued.digest
    verify_proof(secured_form(document), document["proof"], ZJ_KEY.public_key)
    tampered = {**document, "zhengzhao": {**_member(document), "trustGrade": "A"}}
    assert credential_digest(tampered) != issued.digest
    with pytest.raises(InvalidSignature):
        verify_proof(secured_form(tampered), tampered["proof"], ZJ_KEY.public_key)


def test_one_call_numbers_each_type_and_agency_pair_in_request_order(db: Database) -> None:
    issuer = _issuer(db)
    requests = [_request(), _request(OTHER), _request(None), _request(), _request(OTHER)]
    issued = issuer.issue_many(requests)
    serial = [
        parse_zhengzhao_id(_member(c.document)["identifier"]).serial_number
        if "zhengzhao" in c.document
        else None
        for c in issued
    ]
    assert serial == ["20260000001", "20260000001", None, "20260000002", "20260000002"]
    more = issuer.issue_many([_request()])
    assert _member(more[0].document)["identifier"].split(".")[-3] == "20260000003"


def test_an_identifier_finds_its_credential(db: Database) -> None:
    issuer = _issuer(db)
    issued = issuer.issue_many([_request(), _request(OTHER)])
    for credential in issued:
        identifier = _member(credential.document)["identifier"]
        assert issuer.digest_by_zhengzhao_id(identifier) == credential.digest
    with pytest.raises(UnknownCredentialError):
        issuer.digest_by_zhengzhao_id(identifier.replace(".001.", ".002."))


def test_without_agency_or_national_metadata_no_member_and_no_serial(db: Database) -> None:
    issuer = _issuer(db)
    plain = issuer.issue_many([_request(None), _request(AGENCY, PLAIN)])
    assert ["zhengzhao" in c.document for c in plain] == [False, False]
    with db.read() as tx:
        assert tx.fetchall("SELECT last_counter FROM zhengzhao_serials") == []
        assert tx.fetchall("SELECT identifier FROM cred_zhengzhao") == []


def test_a_retried_key_answers_the_same_identifiers_and_allocates_none(db: Database) -> None:
    issuer = _issuer(db)
    requests = [_request(), _request()]
    key = Idempotency("client-1", "key-1", request_hash("issue", requests))
    first = issuer.issue_once(requests, key)
    again = issuer.issue_once(requests, key)
    assert (first.replay, again.replay) == (Replay.NEW, Replay.REPLAYED)
    ids = [_member(c.document)["identifier"] for c in first.credentials]
    assert [_member(c.document)["identifier"] for c in again.credentials] == ids
    following = issuer.issue(_request())
    assert _member(following.document)["identifier"].split(".")[-3] == "20260000003"


def test_an_issuer_without_jurisdiction_refuses_national_certificates(db: Database) -> None:
    issuer = _issuer(db, jurisdiction=None)
    with pytest.raises(ConfigurationError, match="jurisdiction"):
        issuer.issue(_request())
    assert "zhengzhao" not in issuer.issue(_request(None)).document


@pytest.mark.parametrize("jurisdiction", ["33000", "990000", "33000A", "330001"])
def test_a_jurisdiction_that_is_no_division_code_is_a_configuration_error(
    jurisdiction: str,
) -> None:
    with pytest.raises(ConfigurationError, match="GB/T 2260"):
        IssuerConfig(CHAIN_ID, ZJ, "0x" + "11" * 20, jurisdiction=jurisdiction)


def test_a_failed_issuance_leaves_a_gap_and_stores_no_identifier(db: Database) -> None:
    issuer = _issuer(db)
    bad = dataclasses.replace(_request(), holder="did:example:not-a-key")
    with pytest.raises(Exception, match="holder"):
        issuer.issue_many([_request(), bad])
    with db.read() as tx:
        assert tx.fetchall("SELECT identifier FROM cred_zhengzhao") == []
    after = issuer.issue(_request())
    assert _member(after.document)["identifier"].split(".")[-3] == "20260000003"


def test_key_compromise_reissues_with_a_new_identifier_for_the_same_agency(db: Database) -> None:
    issuer = _issuer(db)
    old = issuer.issue(_request(OTHER))
    new_signer = LocalSigner(f"{issuer_did(CHAIN_ID, ZJ)}#key-2", Sm2PrivateKey.generate())
    report = issuer.respond_to_compromise("key-1", 0, new_signer)
    new = report.reissued[old.digest]
    member, old_member = _member(new.document), _member(old.document)
    assert member["issuingAgency"] == old_member["issuingAgency"]
    assert member["identifier"] != old_member["identifier"]
    assert issuer.digest_by_zhengzhao_id(member["identifier"]) == new.digest
    assert issuer.digest_by_zhengzhao_id(old_member["identifier"]) == old.digest


def test_the_agency_is_part_of_what_an_idempotency_key_stands_for() -> None:
    requests = [_request()]
    other = [dataclasses.replace(requests[0], agency=OTHER)]
    plain = [dataclasses.replace(requests[0], agency=None)]
    hashes = {request_hash("issue", r) for r in (requests, other, plain)}
    assert len(hashes) == 3


def test_a_member_for_a_template_without_national_metadata_is_refused(db: Database) -> None:
    issued = _issuer(db).issue(_request())
    request = dataclasses.replace(_request(None, PLAIN), zhengzhao=_member(issued.document))
    with pytest.raises(ConfigurationError, match="national"):
        build_credential(request, chain_id=CHAIN_ID, issuer_id=ZJ, now_ms=NOW_MS)


def test_a_member_naming_another_type_or_agency_is_refused(db: Database) -> None:
    member = _member(_issuer(db).issue(_request()).document)
    other_agency = {**member, "issuingAgency": {"name": OTHER.name, "code": OTHER.code}}
    other_type = {**member, "typeCode": "11100000000013338W012"}
    for wrong in (other_agency, other_type):
        request = dataclasses.replace(_request(None), zhengzhao=wrong)
        with pytest.raises(ConfigurationError, match=r"type code|agency"):
            build_credential(request, chain_id=CHAIN_ID, issuer_id=ZJ, now_ms=NOW_MS)


def test_the_issuer_refuses_a_member_it_did_not_allocate(db: Database) -> None:
    member = _member(_issuer(db).issue(_request()).document)
    for agency in (AGENCY, None):
        request = dataclasses.replace(_request(agency), zhengzhao=member)
        with pytest.raises(ConfigurationError, match="builds the zhengzhao member"):
            _issuer(db).issue(request)
    with db.read() as tx:
        assert len(tx.fetchall("SELECT identifier FROM cred_zhengzhao")) == 1


def test_the_signing_pool_writes_the_member_as_in_process_signing_does(db: Database) -> None:
    signer = LocalSigner(f"{issuer_did(CHAIN_ID, ZJ)}#key-1", ZJ_KEY)
    config = IssuerConfig(CHAIN_ID, ZJ, "0x" + "11" * 20, jurisdiction="330000")
    # The workers import the shipped templates only: the pool's requests cross as pickles,
    # so this template must be one they know.
    national = get_template("degree-certificate").national
    assert national is not None, "the shipped degree template declares its national metadata"
    with SigningPool(signer.key_id, ZJ_KEY, workers=1, chunk=2) as pool:
        issuer = CredentialIssuer(db, config, signer, data_key=sm4.generate_key(), pool=pool)
        issued = issuer.issue_many([_request(AGENCY, "degree-certificate") for _ in range(3)])
    members = [_member(c.document) for c in issued]
    assert [m["typeCode"] for m in members] == [national.type_code] * 3
    assert len({m["identifier"] for m in members}) == 3
    for credential in issued:
        assert credential_digest(credential.document) == credential.digest


def test_a_submitted_certificate_of_a_national_template_gets_an_identifier(db: Database) -> None:
    national = get_template("degree-certificate").national
    assert national is not None, "the shipped degree template declares its national metadata"
    credential = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://w3id.org/tongban/credentials/v1",
        ],
        "type": ["VerifiableCredential", "DegreeCertificate"],
        "issuer": issuer_did(CHAIN_ID, ZJ),
        "credentialSubject": {"id": Holder.generate().did, **DEGREE_CLAIMS},
    }
    issuer = _issuer(db)
    issued = issuer.issue_many(
        [SubmittedCredential(credential, agency=AGENCY), SubmittedCredential(credential)]
    )
    member = _member(issued[0].document)
    assert (member["typeCode"], member["issuingAgency"]["code"]) == (
        national.type_code,
        AGENCY.code,
    )
    assert issuer.digest_by_zhengzhao_id(member["identifier"]) == issued[0].digest
    assert "zhengzhao" not in issued[1].document
    brought = SubmittedCredential(credential, agency=AGENCY, zhengzhao=member)
    with pytest.raises(ConfigurationError, match="builds the zhengzhao member"):
        issuer.issue(brought)

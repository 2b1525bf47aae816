"""``GET /templates``: the certificate catalogue, and its example requests issue as they are."""

from __future__ import annotations

from pathlib import Path

from api.errors import ProblemCode
from api.http.schemas.templates import TemplatesOut
from api.province.clients import Role
from credentials.catalogue import EXAMPLE_HOLDER, describe, describe_national, example_claims
from credentials.holder import Holder
from credentials.schema import validate
from credentials.templates import TEMPLATES
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import PERSONAL, served_province
from tests.helpers.routes import problem


def test_the_example_holder_is_an_sm2_did_key() -> None:
    # A fixed key (scalar 7): the example DID resolves like any wallet's.
    assert Holder(Sm2PrivateKey.from_bytes((7).to_bytes(32, "big"))).did == EXAMPLE_HOLDER


def test_every_claim_of_every_template_has_a_valid_example() -> None:
    for template in TEMPLATES.values():
        claims = example_claims(template)
        assert set(claims) == set(template.claims), template.name
        subject = {"id": describe(template)["exampleRequest"]["holder"], **claims}
        validate(template.subject_schema, subject)


def test_the_catalogue_lists_claims_with_their_rules(world: World, tmp_path: Path) -> None:
    with served_province(world, tmp_path, ZJ) as zhejiang:
        reply = zhejiang.request("GET", "/templates", Role.ISSUER)
        assert reply.status == 200, reply.text
        catalogue = TemplatesOut.model_validate(reply.json())
        assert [t.name for t in catalogue.templates] == sorted(TEMPLATES)
        degree = next(t for t in reply.json()["templates"] if t["name"] == "degree-certificate")
        assert degree["type"] == ["VerifiableCredential", "DegreeCertificate"]
        assert degree["schemaId"] == TEMPLATES["degree-certificate"].schema_id
        level = next(c for c in degree["claims"] if c["name"] == "degreeLevel")
        assert level["enum"] == ["bachelor", "master", "doctor"]
        assert level["required"] is True
        assert level["disclosable"] is True
        born = next(c for c in degree["claims"] if c["name"] == "dateOfBirth")
        assert born["format"] == "date"
        number = next(c for c in degree["claims"] if c["name"] == "certificateNumber")
        assert number["pattern"] == "^[0-9A-Za-z-]{1,32}$"
        licence = next(t for t in reply.json()["templates"] if t["name"] == "business-licence")
        code = next(c for c in licence["claims"] if c["name"] == "unifiedSocialCreditCode")
        assert code["disclosable"] is False

        one = zhejiang.request("GET", "/templates/marriage-certificate", Role.VERIFIER)
        assert one.status == 200, one.text
        assert one.json() == next(
            t for t in reply.json()["templates"] if t["name"] == "marriage-certificate"
        )
        problem(
            zhejiang.request("GET", "/templates/nosuch", Role.ISSUER), 404, ProblemCode.NOT_FOUND
        )
        problem(zhejiang.request("GET", "/templates"), 401, ProblemCode.UNAUTHENTICATED)


def test_each_example_request_issues_as_it_is(world: World, tmp_path: Path) -> None:
    with served_province(world, tmp_path, ZJ) as zhejiang:
        templates = zhejiang.request("GET", "/templates", Role.ISSUER).json()["templates"]
        for template in templates:
            reply = zhejiang.request(
                "POST",
                "/credentials/issue",
                Role.ISSUER,
                json_body=template["exampleRequest"],
                headers=PERSONAL,
            )
            assert reply.status == 201, (template["name"], reply.text)
            credential = reply.json()["credential"]
            assert credential["type"] == template["type"]


def test_the_catalogue_shows_each_templates_national_metadata(world: World, tmp_path: Path) -> None:
    with served_province(world, tmp_path, ZJ) as zhejiang:
        reply = zhejiang.request("GET", "/templates", Role.VERIFIER)
        assert reply.status == 200, reply.text
        by_name = {t["name"]: t for t in reply.json()["templates"]}
    assert set(by_name) == set(TEMPLATES)
    for name, template in TEMPLATES.items():
        assert by_name[name]["national"] == describe_national(template), name
    resident = by_name["resident-certificate"]["national"]
    assert resident["typeName"] == "居民身份证明"
    assert resident["holderIdType"] == {"code": "111", "name": "公民身份号码"}
    # The citizen's identity number is a claim shown only when the holder discloses it.
    assert resident["holderIdClaim"] == "citizenIdNumber"
    assert "citizenIdNumber" in resident["disclosable"]
    assert "citizenIdNumber" not in resident["alwaysShown"] + resident["printed"]
    licence = by_name["business-licence"]["national"]
    assert licence["holderIdType"]["code"] == "001"
    assert licence["alwaysShown"] == ["unifiedSocialCreditCode", "enterpriseName"]
    assert licence["trustGrade"] == "A"
    assert licence["usageNote"]

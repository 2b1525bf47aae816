"""Tongban's profile of a credential submitted for issuance (``credentials.submitted``).

The issuer issues only as itself, from packaged contexts, an unsecured credential
with no member a verifier would refuse; certificate types are built by their
template; ``disclosable``/``mandatory`` pointers make subject claims selectively
disclosable. Everything issued signs and verifies offline with the issuer's key.
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials.contexts import CREDENTIALS_V2, TONGBAN_V1
from credentials.credential import CONTEXT
from credentials.disclosure import disclosure_digest
from credentials.errors import SchemaViolationError
from credentials.templates import get_template
from tests.credentials.vcdm.conftest import (
    HOLDER,
    ISSUER,
    SECRET,
    credential,
    issued,
    issuer_refuses,
    submit,
    v1_credential,
    verifier_accepts,
)
from tests.helpers.credentials import DEGREE_CLAIMS

CLAIMS = {"memberOf": "浙江省数据局", "role": "审核员", "since": "2020-01-01"}
DEGREE = get_template("degree-certificate")


def _member(**members: Any) -> dict[str, Any]:
    return credential(credentialSubject={"id": HOLDER, **CLAIMS}, **members)


def _degree(**members: Any) -> dict[str, Any]:
    return credential(
        **{
            "@context": list(CONTEXT),
            "id": None,
            "type": ["VerifiableCredential", "DegreeCertificate"],
            "credentialSubject": {"id": HOLDER, **DEGREE_CLAIMS},
            **members,
        }
    )


def _no_id(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if v is not None}


@pytest.mark.parametrize(
    ("issuer", "at"),
    [
        ("did:tongban:31337:2", "/issuer"),
        ({"id": "did:tongban:1:1"}, "/issuer"),
        (SECRET, "/issuer"),
    ],
)
def test_profile_the_issuer_must_be_this_province(issuer: Any, at: str) -> None:
    issuer_refuses(credential(issuer=issuer), at)


@pytest.mark.parametrize(
    "issuer",
    [
        {"id": ISSUER, "name": {"@value": "浙江省", "@language": "zh"}},
        {"id": ISSUER, "description": [{"@value": "Zhejiang", "@language": "en"}, "浙江"]},
    ],
)
def test_profile_an_issuer_object_with_language_values_is_issued(issuer: Any) -> None:
    assert verifier_accepts(issued(credential(issuer=issuer)).document).issuer == ISSUER


@pytest.mark.parametrize("extra", ["https://example.org/ctx/v1", {"x": "https://example.org/x"}])
def test_profile_contexts_come_from_the_packaged_allow_list(extra: Any) -> None:
    issuer_refuses(credential(**{"@context": [CREDENTIALS_V2, extra]}), "/@context/1")


@pytest.mark.parametrize("member", ["proof", "disclosures", "anchor"])
def test_profile_a_submitted_credential_carries_nothing_the_issuer_adds(member: str) -> None:
    issuer_refuses(credential(**{member: {"type": "X"}}), f"/{member}")


def test_profile_no_member_that_verifiers_refuse() -> None:
    issuer_refuses(credential(referenceNumber=83294847), "/referenceNumber")
    error = issuer_refuses(credential(**{SECRET: 1}), "")
    assert "member" in error.rule


def test_profile_the_tongban_context_is_appended_once() -> None:
    assert issued(credential()).document["@context"] == [CREDENTIALS_V2, TONGBAN_V1]
    both = credential(**{"@context": [CREDENTIALS_V2, TONGBAN_V1]})
    assert issued(both).document["@context"] == [CREDENTIALS_V2, TONGBAN_V1]


def test_profile_a_certificate_type_is_built_by_its_template() -> None:
    name, secured, disclosures = submit(_no_id(_degree()))
    assert name == DEGREE.name
    assert secured["credentialSchema"] == {"id": DEGREE.schema_id, "type": "JsonSchema"}
    assert len(secured["credentialSubject"]["_sd"]) == DEGREE.sd_slots
    assert {d[1] for d in disclosures} == {f"/credentialSubject/{c}" for c in DEGREE_CLAIMS}
    parsed = verifier_accepts(issued(_no_id(_degree())).document)
    assert parsed.template is DEGREE


@pytest.mark.parametrize(
    ("members", "at"),
    [
        ({"type": ["DegreeCertificate", "VerifiableCredential"]}, "/type"),
        (
            {"@context": [CREDENTIALS_V2, TONGBAN_V1, "https://w3id.org/security/multikey/v1"]},
            "/@context",
        ),
        ({"id": "urn:uuid:2f1e7c3a-8b4d-4e5f-9a6b-7c8d9e0f1a2b"}, "/id"),
        (
            {"credentialSchema": {"id": "https://example.org/s", "type": "JsonSchema"}},
            "/credentialSchema",
        ),
        ({"credentialSubject": {"memberOf": "x"}}, "/credentialSubject"),
    ],
)
def test_profile_a_certificate_follows_its_template(members: dict[str, Any], at: str) -> None:
    issuer_refuses(_no_id(_degree(**members)), at)


def test_profile_a_certificate_takes_no_disclosure_options_and_its_schema_applies() -> None:
    issuer_refuses(_no_id(_degree()), "/options", disclosable=("/credentialSubject/gender",))
    bad = _no_id(_degree(credentialSubject={"id": HOLDER, **DEGREE_CLAIMS, "gender": SECRET}))
    with pytest.raises(SchemaViolationError) as caught:
        submit(bad)
    assert caught.value.pointer == "/credentialSubject/gender"
    assert SECRET not in str(caught.value)


def _revealed(secured: dict[str, Any], disclosures: list[list[Any]]) -> set[str]:
    assert {disclosure_digest(d) for d in disclosures} <= set(secured["credentialSubject"]["_sd"])
    return {d[1].rsplit("/", 1)[1] for d in disclosures}


def test_profile_disclosable_pointers_make_those_claims_disclosable() -> None:
    pointers = ("/credentialSubject/role", "/credentialSubject/since")
    _, secured, disclosures = submit(_member(), disclosable=pointers)
    assert _revealed(secured, disclosures) == {"role", "since"}
    assert secured["credentialSubject"]["memberOf"] == CLAIMS["memberOf"]
    verifier_accepts(issued(_member(), disclosable=pointers).document)


def test_profile_mandatory_pointers_keep_those_claims_and_hide_the_rest() -> None:
    mandatory = ("/credentialSubject/memberOf", "/issuer")
    _, secured, disclosures = submit(_member(), mandatory=mandatory)
    assert _revealed(secured, disclosures) == {"role", "since"}
    assert set(secured["credentialSubject"]) == {"id", "memberOf", "_sd"}
    _, whole, none = submit(_member(), mandatory=("/credentialSubject",))
    assert (whole["credentialSubject"], none) == ({"id": HOLDER, **CLAIMS}, [])
    verifier_accepts(issued(_member(), mandatory=()).document)


@pytest.mark.parametrize(
    ("pointers", "at"),
    [
        (("role",), "/options/disclosablePointers/0"),
        (("/credentialSubject/role/x",), "/options/disclosablePointers/0"),
        (("/credentialSubject/id",), "/options/disclosablePointers/0"),
        (("/credentialSubject/unknown",), "/options/disclosablePointers/0"),
        (("/credentialSubject/role", "/credentialSubject/role"), "/options/disclosablePointers/1"),
    ],
)
def test_profile_disclosable_pointers_must_name_claims_once(
    pointers: tuple[str, ...], at: str
) -> None:
    issuer_refuses(_member(), at, disclosable=pointers)


def test_profile_disclosure_option_errors() -> None:
    issuer_refuses(_member(), "/options/mandatoryPointers/0", mandatory=("no-slash",))
    issuer_refuses(_member(), "/options", disclosable=("/credentialSubject/role",), mandatory=())
    issuer_refuses(v1_credential(), "/options", mandatory=())
    subjects = [{"id": HOLDER, "a": 1}, {"b": 2}]
    issuer_refuses(credential(credentialSubject=subjects), "/options", mandatory=())
    sd = {"id": HOLDER, "_sd": ["0" * 64]}
    issuer_refuses(credential(credentialSubject=sd), "/credentialSubject/_sd")

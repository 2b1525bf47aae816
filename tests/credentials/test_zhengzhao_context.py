"""The Tongban context defines the zhengzhao member and fileSize: JSON-LD keeps every term.

A JSON-LD processor (pyld, with the packaged contexts only and safe mode: a dropped
term fails) expands a credential carrying the member and a ``relatedResource`` with
``fileSize`` into the Tongban vocabulary; the RDFC-1.0 suite of ``credentials.suites``
signs and verifies such a credential (eddsa-rdfc-2022, a fresh key).
"""

from __future__ import annotations

import json
from typing import Any

from credentials.contexts import TONGBAN_VOCAB, defined_terms
from credentials.suites import verify_proofs
from credentials.suites.rdfc import canonize_rdfc, expand_safely
from credentials.zhengzhao.profile import MEMBER
from tests.credentials.verify.test_zhengzhao_member import member_for, signed
from tests.helpers.foreign import ForeignKey, sign

FILE = {
    "id": "urn:uuid:0b6c9ad2-3f0e-4f43-9a55-0b5d0f1c2a11",
    "digestMultibase": "uEiBxkR3e7WbWmS0n2Yw2n0b9h0Q1v6yYbYx0Tq1w8hS3kA",
    "mediaType": "application/ofd",
    "fileSize": 48213,
}


def _credential(template: str = "resident-certificate") -> dict[str, Any]:
    document = signed(template, member_for(template))
    # The secured form: the safe mode of credentials.suites refuses the @json-typed
    # ``disclosures`` (it takes "@json" for a relative IRI), which is not the member's case.
    document.pop("proof")
    document.pop("disclosures")
    document["relatedResource"] = [FILE]
    return document


def _values(expanded: Any, iri: str) -> list[Any]:
    found: list[Any] = []
    stack = [expanded]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, member in item.items():
                if key == iri:
                    found.extend(member)
                stack.append(member)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def test_expansion_keeps_every_member_of_zhengzhao_in_the_tongban_vocabulary() -> None:
    credential = _credential()
    expanded = expand_safely(credential)  # safe mode: a dropped term would raise
    (member,) = _values(expanded, TONGBAN_VOCAB + "zhengzhao")
    source = credential[MEMBER]
    for term, iri in (
        ("identifier", "zhengzhaoIdentifier"),
        ("typeCode", "zhengzhaoTypeCode"),
        ("typeName", "zhengzhaoTypeName"),
        ("jurisdiction", "jurisdiction"),
        ("trustGrade", "trustGrade"),
        ("usageNote", "usageNote"),
    ):
        assert member[TONGBAN_VOCAB + iri] == [{"@value": source[term]}], term
    (agency,) = member[TONGBAN_VOCAB + "issuingAgency"]
    assert agency[TONGBAN_VOCAB + "agencyCode"] == [{"@value": source["issuingAgency"]["code"]}]
    assert agency["https://schema.org/name"] == [{"@value": source["issuingAgency"]["name"]}]


def test_expansion_types_file_size_as_a_non_negative_integer() -> None:
    expanded = expand_safely(_credential())
    (size,) = _values(expanded, TONGBAN_VOCAB + "fileSize")
    assert size == {
        "@type": "http://www.w3.org/2001/XMLSchema#nonNegativeInteger",
        "@value": FILE["fileSize"],
    }


def test_no_term_falls_back_to_the_issuer_dependent_vocabulary() -> None:
    # VC 2.0's @vocab would catch an undefined term without dropping it: none may land there.
    nquads = canonize_rdfc(_credential())
    assert "issuer-dependent#" not in nquads
    assert f"<{TONGBAN_VOCAB}zhengzhaoIdentifier>" in nquads
    assert f"<{TONGBAN_VOCAB}fileSize>" in nquads


def test_an_rdfc_suite_signs_and_verifies_a_credential_with_the_member() -> None:
    key = ForeignKey.generate("Ed25519")
    credential = {**_credential(), "issuer": key.did}
    secured = sign(credential, key, "eddsa-rdfc-2022")
    (result,) = verify_proofs(secured, purpose="assertionMethod")
    assert result.verified, result
    # The member is covered: changing the grade breaks the proof.
    tampered = json.loads(json.dumps(secured))
    tampered[MEMBER]["trustGrade"] = "B"
    (broken,) = verify_proofs(tampered, purpose="assertionMethod")
    assert not broken.verified


def test_every_key_of_the_member_and_of_a_file_entry_is_a_defined_term() -> None:
    credential = _credential()
    keys = set(credential[MEMBER]) | set(credential[MEMBER]["issuingAgency"]) | set(FILE)
    assert keys - defined_terms() == set()
    assert {MEMBER, "relatedResource"} <= defined_terms()

"""An issued credential is JSON-LD 1.1 that expands in safe mode and RDFC-canonicalizes.

The credential here is the real thing: issued by Zhejiang's ``CredentialIssuer`` for a
named agency (so it carries the ``zhengzhao`` member), with a certificate file
(``relatedResource``), anchored on the test chain (the ``anchor`` member) and with its
``disclosures``. ``disclosures`` and ``anchor`` are typed ``@json`` in the Tongban
context: JSON-LD 1.1 (section 4.2.2, JSON literals) expands them to value objects whose
``@type`` is the keyword ``@json``, which safe mode once took for a relative IRI.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from credentials.anchor_proof import ANCHOR_MEMBER
from credentials.contexts import TONGBAN_VOCAB
from credentials.credential import IssueRequest
from credentials.file_binding import describe_file
from credentials.holder import Holder
from credentials.issuance import CredentialIssuer
from credentials.suites import verify_proofs
from credentials.suites.rdfc import CanonicalizationError, canonize_rdfc, expand_safely
from credentials.zhengzhao.profile import MEMBER, Agency
from ledger.crypto import sm4
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE, IssuingProvince
from tests.helpers.foreign import ForeignKey, sign

AGENCY = Agency(code="11330100TB000001XA", name="杭州市西湖区公安分局")
PDF = b"%PDF-1.7\n% a certificate file for this test\n%%EOF\n"
RDF_JSON = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"


@pytest.fixture
def issued(zhejiang: IssuingProvince) -> dict[str, Any]:
    """A resident certificate issued for ``AGENCY`` with a PDF, anchored, as the holder gets it."""
    request = IssueRequest(
        "resident-certificate",
        Holder.generate().did,
        CLAIMS_BY_TEMPLATE["resident-certificate"],
        agency=AGENCY,
        related_file=describe_file(PDF),
    )
    # Zhejiang's issuer with a jurisdiction (GB/T 2260), which the zhengzhao member needs.
    issuer = CredentialIssuer(
        zhejiang.db,
        dataclasses.replace(zhejiang.config, jurisdiction="330106"),
        zhejiang.issuer.signer,
        data_key=sm4.generate_key(),
    )
    signed = issuer.issue(request)
    zhejiang.anchor_all()
    return issuer.credential(signed.digest)


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


def test_the_issued_credential_carries_every_member_under_test(issued: dict[str, Any]) -> None:
    assert {"disclosures", ANCHOR_MEMBER, MEMBER, "relatedResource", "proof"} <= set(issued)
    assert issued["disclosures"]
    assert issued[MEMBER]["issuingAgency"]["code"] == AGENCY.code


def test_an_issued_credential_expands_in_safe_mode_with_json_literals(
    issued: dict[str, Any],
) -> None:
    expanded = expand_safely(issued)
    for term in ("disclosures", ANCHOR_MEMBER):
        (literal,) = _values(expanded, TONGBAN_VOCAB + term)
        assert literal == {"@type": "@json", "@value": issued[term]}, term
    (member,) = _values(expanded, TONGBAN_VOCAB + MEMBER)
    assert member[TONGBAN_VOCAB + "zhengzhaoIdentifier"] == [
        {"@value": issued[MEMBER]["identifier"]}
    ]
    (size,) = _values(expanded, TONGBAN_VOCAB + "fileSize")
    assert size["@value"] == len(PDF)


def test_an_issued_credential_canonicalizes_with_rdfc(issued: dict[str, Any]) -> None:
    nquads = canonize_rdfc(issued)
    lines = nquads.splitlines()
    for term in ("disclosures", ANCHOR_MEMBER):
        (line,) = [q for q in lines if f"<{TONGBAN_VOCAB}{term}>" in q]
        assert f"^^<{RDF_JSON}>" in line, term
    assert "issuer-dependent#" not in nquads
    assert f"<{TONGBAN_VOCAB}zhengzhaoIdentifier>" in nquads
    # Canonical: the same credential with its members in another order gives the same bytes.
    shuffled = json.loads(json.dumps(dict(reversed(list(issued.items())))))
    assert canonize_rdfc(shuffled) == nquads


def test_a_json_literal_changes_the_canonical_form(issued: dict[str, Any]) -> None:
    # The literal is covered: an RDFC proof over the credential covers the disclosures.
    tampered = json.loads(json.dumps(issued))
    tampered["disclosures"] = tampered["disclosures"][1:]
    assert canonize_rdfc(tampered) != canonize_rdfc(issued)


def test_a_relative_iri_is_still_refused_beside_json_literals(issued: dict[str, Any]) -> None:
    document = {**issued, "id": "relative/credential"}
    with pytest.raises(CanonicalizationError) as refused:
        expand_safely(document)
    assert refused.value.reason == "jsonld_relative_iri"


def test_an_rdfc_suite_signs_an_issued_credential_and_covers_its_disclosures(
    issued: dict[str, Any],
) -> None:
    key = ForeignKey.generate("Ed25519")
    unsecured = {k: v for k, v in issued.items() if k != "proof"}
    secured = sign({**unsecured, "issuer": key.did}, key, "eddsa-rdfc-2022")
    (result,) = verify_proofs(secured, purpose="assertionMethod")
    assert result.verified, result
    tampered = json.loads(json.dumps(secured))
    tampered["disclosures"] = tampered["disclosures"][1:]
    (broken,) = verify_proofs(tampered, purpose="assertionMethod")
    assert not broken.verified

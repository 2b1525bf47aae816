"""Selective disclosure: salted digests, decoys, derived credentials, what a presentation leaks."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

from credentials.credential import IssueRequest, issue_credential
from credentials.did import issuer_did
from credentials.disclosure import (
    claim_name,
    claim_pointer,
    disclosure_digest,
    escape_token,
    parse_pointer,
    salt_bytes,
    secure_subject,
)
from credentials.errors import DisclosureError
from credentials.holder import Holder, derive_credential
from credentials.jcs import canonicalize
from credentials.templates import get_template
from ledger.crypto.signer import LocalSigner
from tests.helpers.credentials import DEGREE_CLAIMS, ZJ_KEY

SIGNER = LocalSigner(f"{issuer_did(31337, 1)}#key-1", ZJ_KEY)


def _issue(holder: Holder) -> dict[str, Any]:
    return issue_credential(
        IssueRequest("degree-certificate", holder.did, DEGREE_CLAIMS),
        SIGNER,
        chain_id=31337,
        issuer_id=1,
        now_ms=int(time.time() * 1000),
    ).document


def test_rfc6901_pointers() -> None:
    assert parse_pointer("") == []
    assert parse_pointer("/a~1b/c~0d/") == ["a/b", "c~d", ""]
    with pytest.raises(ValueError):
        parse_pointer("a")
    with pytest.raises(ValueError):
        parse_pointer("/a~2")
    assert escape_token("a/~b") == "a~1~0b"
    assert claim_pointer("degreeName") == "/credentialSubject/degreeName"
    assert claim_name("/credentialSubject/degreeName") == "degreeName"
    for bad in ("/credentialSubject", "/credentialSubject/a/b", "/other/a", "/credentialSubject/"):
        with pytest.raises(ValueError):
            claim_name(bad)


def test_secured_subject_has_sorted_salted_digests_and_decoys() -> None:
    template = get_template("degree-certificate")
    subject = {"id": "did:key:zX", **DEGREE_CLAIMS}
    secured, disclosures = secure_subject(template, subject)
    assert set(secured) == {"id", "_sd"}
    assert len(secured["_sd"]) == template.sd_slots == 12
    assert secured["_sd"] == sorted(secured["_sd"])
    assert len(set(secured["_sd"])) == 12
    digests = {disclosure_digest(d) for d in disclosures}
    assert digests < set(secured["_sd"])  # plus 2 decoys
    assert [d[1] for d in disclosures] == sorted(d[1] for d in disclosures)
    assert {d[2] for d in disclosures} == set(DEGREE_CLAIMS.values())
    for salt, pointer, value in disclosures:
        assert len(salt_bytes(salt)) == 16
        assert disclosure_digest([salt, pointer, value]) in secured["_sd"]
    # Fresh salts every time: the same claims never give the same digests.
    again, _ = secure_subject(template, subject)
    assert set(again["_sd"]).isdisjoint(secured["_sd"])


def test_clear_claims_stay_in_clear() -> None:
    template = get_template("business-licence")
    subject = {"id": "did:key:zX", "enterpriseName": "某公司", "enterpriseType": "有限责任公司"}
    secured, disclosures = secure_subject(template, subject)
    assert secured["enterpriseName"] == "某公司"
    assert "enterpriseType" not in secured
    assert [d[1] for d in disclosures] == ["/credentialSubject/enterpriseType"]


def test_deriving_keeps_only_the_chosen_disclosures() -> None:
    credential = _issue(Holder.generate())
    derived = derive_credential(credential, ["studyMode", "degreeName"])
    assert [d[1] for d in derived["disclosures"]] == [
        "/credentialSubject/degreeName",
        "/credentialSubject/studyMode",
    ]
    assert {k: v for k, v in derived.items() if k != "disclosures"} == {
        k: v for k, v in credential.items() if k != "disclosures"
    }
    assert "disclosures" not in derive_credential(credential, [])
    with pytest.raises(DisclosureError):
        derive_credential(credential, ["passportNumber"])


def _forms(value: Any) -> list[bytes]:
    """Every way ``value`` could appear in JSON bytes."""
    text = value if isinstance(value, str) else json.dumps(value)
    return [
        text.encode(),
        json.dumps(text).encode()[1:-1],
        json.dumps(text, ensure_ascii=False).encode()[1:-1],
    ]


def test_a_presentation_contains_nothing_of_the_undisclosed_claims() -> None:
    holder = Holder.generate()
    credential = _issue(holder)
    by_claim = {d[1].rsplit("/", 1)[1]: d for d in credential["disclosures"]}
    rng = random.Random(7)
    names = sorted(DEGREE_CLAIMS)
    for size in [0, 1, 2, 2, 2, 5, 9, *[rng.randrange(10) for _ in range(20)]]:
        chosen = rng.sample(names, size)
        presentation = holder.present(
            [(credential, chosen)], challenge="chal", domain="did:tongban:31337:2"
        )
        wire = [
            canonicalize(presentation),
            json.dumps(presentation).encode(),
            json.dumps(presentation, ensure_ascii=False, indent=2).encode(),
        ]
        for name in names:
            salt, pointer, value = by_claim[name]
            present = name in chosen
            for blob in wire:
                forms = [*_forms(value), salt.encode(), pointer.encode()]
                if present:
                    assert salt.encode() in blob
                    assert any(form in blob for form in _forms(value))
                else:
                    assert not any(form in blob for form in forms), name

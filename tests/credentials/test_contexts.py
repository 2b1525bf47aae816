"""Every term a Tongban document uses is defined by a packaged JSON-LD context."""

from __future__ import annotations

import time
from typing import Any

import pytest

from credentials.anchor_proof import AnchorProof
from credentials.contexts import (
    CONTEXT_FILES,
    CREDENTIALS_V2,
    DID_V1_1,
    TONGBAN_V1,
    TONGBAN_VOCAB,
    defined_terms,
    load_context,
)
from credentials.credential import IssueRequest, issue_credential, with_anchor_proof
from credentials.did import did_key_document, issuer_did, issuer_document
from credentials.holder import Holder
from credentials.templates import TEMPLATES
from ledger.chain.contracts.registry import KeyRecord
from ledger.crypto.signer import LocalSigner
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE, ZJ_KEY

SIGNER = LocalSigner(f"{issuer_did(31337, 1)}#key-1", ZJ_KEY)


def _keys(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, member in value.items():
            found.add(key)
            if key not in ("disclosures", "@context"):  # @json literal / context URLs
                found |= _keys(member)
    elif isinstance(value, list):
        for member in value:
            found |= _keys(member)
    return found


def _types(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        kind = value.get("type")
        found |= set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()
        for key, member in value.items():
            if key != "disclosures":
                found |= _types(member)
    elif isinstance(value, list):
        for member in value:
            found |= _types(member)
    return found


def _anchored(template: str, holder: Holder) -> dict[str, Any]:
    issued = issue_credential(
        IssueRequest(template, holder.did, CLAIMS_BY_TEMPLATE[template]),
        SIGNER,
        chain_id=31337,
        issuer_id=1,
        now_ms=int(time.time() * 1000),
    )
    proof = AnchorProof(31337, "0x" + "ab" * 20, 1, b"\x01" * 32, 0, 2, (b"\x02" * 32,), 9)
    return with_anchor_proof(issued.document, proof.to_json())


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_key_and_type_in_credentials_and_presentations_is_defined(template: str) -> None:
    holder = Holder.generate()
    credential = _anchored(template, holder)
    claims = [d[1].rsplit("/", 1)[1] for d in credential["disclosures"]]
    presentation = holder.present([(credential, claims)], challenge="c", domain="did:x")
    terms = defined_terms()
    for document in (credential, presentation):
        assert _keys(document) - terms == set()
        assert _types(document) - terms == set()
    for claim in TEMPLATES[template].claims:
        assert claim in terms


def test_did_documents_use_defined_terms_only() -> None:
    holder = Holder.generate()
    record = KeyRecord(
        1, "key-1", ZJ_KEY.public_key.compressed(), 1_700_000_000, 1_800_000_000, 1_750_000_000
    )
    for document in (issuer_document(31337, 1, [record]), did_key_document(holder.did)):
        assert _keys(document) - defined_terms() == set()
        assert _types(document) - defined_terms() == set()


def test_the_tongban_context_does_not_redefine_w3c_terms() -> None:
    ours = set(load_context(TONGBAN_V1)["@context"]) - {"@protected"}
    w3c_top = set(load_context(CREDENTIALS_V2)["@context"]) | set(
        load_context(DID_V1_1)["@context"]
    )
    assert ours & w3c_top == set()
    for term, definition in load_context(TONGBAN_V1)["@context"].items():
        if term.startswith("@"):
            continue
        iri = definition if isinstance(definition, str) else definition["@id"]
        assert iri.startswith(TONGBAN_VOCAB)


def test_contexts_are_served_from_the_package_only() -> None:
    assert {CREDENTIALS_V2, DID_V1_1, TONGBAN_V1} <= set(CONTEXT_FILES)
    for url in CONTEXT_FILES:
        assert "@context" in load_context(url)
    with pytest.raises(KeyError):
        load_context("https://example.org/evil-context")

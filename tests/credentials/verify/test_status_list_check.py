"""The Bitstring Status List check, reported beside check (4) (``statusList``).

Sections of W3C Bitstring Status List v1.0: 3.2 (validate algorithm), 3.5 (errors:
STATUS_RETRIEVAL_ERROR, STATUS_VERIFICATION_ERROR). For a Tongban credential the chain
decides check (4) and the list is reported, with whether it agrees; for a credential of
an issuer outside the consortium the list is its check (4).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from credentials.did import issuer_did
from credentials.holder import Holder
from credentials.reasons import CheckStatus, Reason, Verdict
from credentials.status_list import (
    LIST_SIZE,
    StatusListError,
    bitstring,
    sign_list_credential,
    status_entries,
    unsigned_list_credential,
)
from credentials.verify import Verifier
from credentials.verify.result import VerificationResult
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.helpers.contracts import GD, ZJ
from tests.helpers.credentials import (
    ZJ_KEY,
    IssuingProvince,
    VerifyingProvince,
    degree_request,
)
from tests.helpers.foreign import ForeignKey, foreign_credential, sign

BASE = "https://zj.example.gov.cn"
CREATED = "2026-01-01T00:00:00Z"


def _url(purpose: str, number: int = 1) -> str:
    return f"{BASE}/status-lists/{number}/{purpose}"


def _verifier(guangdong: VerifyingProvince, lists: Mapping[str, dict[str, Any] | None]) -> Verifier:
    def fetch(url: str) -> bytes | None:
        found = lists.get(url)
        return None if found is None else json.dumps(found).encode()

    return Verifier(
        guangdong.config, guangdong.index, guangdong.challenges, guangdong.audit, fetch_list=fetch
    )


def _entry_index(credential: dict[str, Any]) -> int:
    return int(credential["credentialStatus"][0]["statusListIndex"])


def _tongban_list(
    chain_id: int, purpose: str, set_at: list[int], *, key: Sm2PrivateKey = ZJ_KEY, who: int = ZJ
) -> dict[str, Any]:
    did = issuer_did(chain_id, who)
    unsigned = unsigned_list_credential(
        list_url=_url(purpose),
        issuer_did=did,
        purpose=purpose,
        bits=bitstring(set_at),
        valid_from=CREATED,
        block_number=7,
    )
    return sign_list_credential(unsigned, LocalSigner(f"{did}#key-1", key), created=CREATED)


@pytest.fixture
def carried(zhejiang: IssuingProvince, guangdong: VerifyingProvince) -> dict[str, Any]:
    """An anchored Zhejiang credential with entries in both lists (issued with a base URL)."""
    zhejiang.issuer.status_base = lambda: BASE
    issued = zhejiang.issuer.issue(degree_request(Holder.generate()))
    zhejiang.anchor_all()
    guangdong.sync()
    credential: dict[str, Any] = zhejiang.issuer.credential(issued.digest)
    assert [e["statusListCredential"] for e in credential["credentialStatus"]] == [
        _url("revocation"),
        _url("suspension"),
    ]
    return credential


def _findings(result: VerificationResult) -> list[tuple[str | None, str, str, bool | None]]:
    return [(f.purpose, f.status.value, f.reason_code, f.chain_agrees) for f in result.status_lists]


def test_section_3_2_clear_bits_agree_with_the_chain(
    carried: dict[str, Any], guangdong: VerifyingProvince
) -> None:
    chain_id = guangdong.config.chain_id
    lists = {
        _url("revocation"): _tongban_list(chain_id, "revocation", []),
        _url("suspension"): _tongban_list(chain_id, "suspension", []),
    }
    result = _verifier(guangdong, lists).evaluate_credential(carried)
    assert result.verdict is CheckStatus.VALID
    assert _findings(result) == [
        ("revocation", "VALID", "ok", True),
        ("suspension", "VALID", "ok", True),
    ]
    document = result.to_json()["statusList"][0]
    assert document["index"] == _entry_index(carried)
    assert document["statusBlock"] == 7
    assert (document["credential"], document["entry"]) == (0, 0)


def test_section_3_2_a_set_bit_the_chain_does_not_confirm_is_reported_the_verdict_follows_the_chain(
    carried: dict[str, Any], guangdong: VerifyingProvince
) -> None:
    chain_id, index = guangdong.config.chain_id, _entry_index(carried)
    lists = {
        _url("revocation"): _tongban_list(chain_id, "revocation", [index]),
        _url("suspension"): _tongban_list(chain_id, "suspension", [index]),
    }
    result = _verifier(guangdong, lists).evaluate_credential(carried)
    assert result.verdict is CheckStatus.VALID
    assert result.check(4).status is CheckStatus.VALID
    assert _findings(result) == [
        ("revocation", "INVALID", "revoked", False),
        ("suspension", "INVALID", "suspended", False),
    ]
    assert "the verdict follows the chain" in result.status_lists[0].message


def test_section_3_2_the_chain_revoked_what_the_list_does_not_show_yet(
    carried: dict[str, Any], zhejiang: IssuingProvince, guangdong: VerifyingProvince
) -> None:
    chain_id = guangdong.config.chain_id
    lists = {
        _url("revocation"): _tongban_list(chain_id, "revocation", []),
        _url("suspension"): _tongban_list(chain_id, "suspension", []),
    }
    verifier = _verifier(guangdong, lists)
    zhejiang.issuer.revoke([bytes.fromhex(verifier.evaluate_credential(carried).digests[0])])
    zhejiang.processor.run_until_final(timeout=60, poll=0.01)
    guangdong.sync()
    result = verifier.evaluate_credential(carried)
    assert result.verdict is CheckStatus.INVALID
    assert result.check(4).reason_code == Reason.REVOKED
    assert _findings(result)[0] == ("revocation", "VALID", "ok", False)
    assert _findings(result)[1] == ("suspension", "VALID", "ok", True)


def test_section_3_5_an_unreachable_list_is_skipped_with_status_retrieval_error(
    carried: dict[str, Any], guangdong: VerifyingProvince
) -> None:
    result = _verifier(guangdong, {}).evaluate_credential(carried)
    assert result.verdict is CheckStatus.VALID
    assert [(f.status, f.reason_code, f.error_type) for f in result.status_lists] == [
        (
            CheckStatus.SKIPPED,
            Reason.STATUS_RETRIEVAL_ERROR,
            StatusListError.STATUS_RETRIEVAL_ERROR.type_url,
        )
    ] * 2
    unfetched = guangdong.verifier.evaluate_credential(carried)
    assert {f.reason_code for f in unfetched.status_lists} == {Reason.STATUS_LIST_NOT_FETCHED}


@pytest.mark.parametrize(
    "make",
    [
        lambda chain_id: _tongban_list(chain_id, "revocation", [], key=Sm2PrivateKey.generate()),
        lambda chain_id: _tongban_list(chain_id, "revocation", [], who=GD),
        lambda chain_id: {**_tongban_list(chain_id, "revocation", []), "proof": None},
    ],
    ids=["key-not-in-registry", "another-issuers-list", "no-proof"],
)
def test_section_3_5_a_list_whose_proof_is_not_the_issuers_is_status_verification_error(
    carried: dict[str, Any], guangdong: VerifyingProvince, make: Callable[[int], Any]
) -> None:
    lists = {_url("revocation"): make(guangdong.config.chain_id)}
    result = _verifier(guangdong, lists).evaluate_credential(carried)
    assert result.verdict is CheckStatus.VALID
    first = result.status_lists[0]
    assert (first.status, first.reason_code) == (
        CheckStatus.INVALID,
        Reason.STATUS_VERIFICATION_ERROR,
    )


# -- a credential of an issuer outside the consortium: the list is its status ----------------


def _foreign_list(issuer: ForeignKey, url: str, purpose: str, set_at: list[int]) -> dict[str, Any]:
    unsigned = unsigned_list_credential(
        list_url=url,
        issuer_did=issuer.did,
        purpose=purpose,
        bits=bitstring(set_at),
        valid_from=CREDENTIAL_FROM,
        block_number=0,
    )
    return sign(
        unsigned, issuer, "eddsa-jcs-2022" if issuer.curve == "Ed25519" else "ecdsa-jcs-2019"
    )


CREDENTIAL_FROM = "2023-01-01T00:00:00Z"
FOREIGN_BASE = "https://issuer.example"


def _foreign_carried(issuer: ForeignKey, index: int) -> dict[str, Any]:
    entries = status_entries(lambda p: f"{FOREIGN_BASE}/lists/{p}", index)
    return sign(foreign_credential(issuer, credentialStatus=entries), issuer, "ecdsa-jcs-2019")


def test_section_3_2_a_foreign_credentials_list_decides_its_check_4(
    guangdong: VerifyingProvince,
) -> None:
    issuer = ForeignKey.generate("P-256")
    signer = ForeignKey.generate("Ed25519")
    index = LIST_SIZE - 1
    credential = _foreign_carried(issuer, index)

    def lists(revoked: list[int]) -> dict[str, dict[str, Any] | None]:
        return {
            f"{FOREIGN_BASE}/lists/revocation": _foreign_list(
                issuer_key, f"{FOREIGN_BASE}/lists/revocation", "revocation", revoked
            ),
            f"{FOREIGN_BASE}/lists/suspension": _foreign_list(
                issuer_key, f"{FOREIGN_BASE}/lists/suspension", "suspension", []
            ),
        }

    issuer_key = issuer
    result = _verifier(guangdong, lists([])).evaluate_credential(credential)
    assert result.verdict is Verdict.UNREGISTERED_ISSUER
    assert (result.check(4).status, result.check(4).reason_code) == (CheckStatus.VALID, "ok")
    assert [f.chain_agrees for f in result.status_lists] == [None, None]
    revoked = _verifier(guangdong, lists([index])).evaluate_credential(credential)
    assert revoked.verdict is CheckStatus.INVALID
    assert (revoked.check(4).reason_code, revoked.check(4).at) == (
        Reason.REVOKED,
        "/credentialStatus/0",
    )
    unreachable = _verifier(guangdong, {}).evaluate_credential(credential)
    assert unreachable.verdict is CheckStatus.INVALID
    assert (unreachable.check(4).status, unreachable.check(4).reason_code) == (
        CheckStatus.SKIPPED,
        Reason.STATUS_RETRIEVAL_ERROR,
    )
    issuer_key = signer  # a list signed by someone else than the issuer
    forged = _verifier(guangdong, lists([])).evaluate_credential(credential)
    assert forged.check(4).reason_code == Reason.STATUS_VERIFICATION_ERROR

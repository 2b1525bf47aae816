"""The consortium directory (api/province/directory.py): form, window, signers, threshold."""

from __future__ import annotations

import copy

import pytest

from api.province.directory import DirectoryError, sign_directory, verify_directory
from tests.api.province.directory_fixtures import (
    GD_KEY,
    NOW_MS,
    OUTSIDER_KEY,
    ZJ_KEY,
    registered,
    signed,
    signer,
    unsigned,
)


def _reason(document: object, now_ms: int = NOW_MS) -> str:
    with pytest.raises(DirectoryError) as caught:
        verify_directory(document, registered, now_ms)
    return caught.value.reason


def test_a_directory_signed_by_both_provinces_verifies_and_lists_them() -> None:
    directory = verify_directory(signed(), registered, NOW_MS)
    assert [(p.issuer_id, p.api_base_url) for p in directory.provinces] == [
        (1, "https://zj.tongban.example"),
        (2, "https://gd.tongban.example/api"),
    ]
    assert directory.wallet_origins() == ("https://wallet.zj.tongban.example",)
    assert directory.version == 3


def test_an_edited_directory_no_longer_verifies() -> None:
    document = signed()
    document["provinces"][1]["apiBaseUrl"] = "https://attacker.example"
    assert _reason(document) == "bad_signature"


def test_a_signature_by_an_unregistered_key_is_refused() -> None:
    document = sign_directory(unsigned(), 1, signer(1, ZJ_KEY))
    document = sign_directory(document, 2, signer(2, OUTSIDER_KEY, "key-9"))
    assert _reason(document) == "unknown_signer"


def test_a_wrong_key_under_a_registered_key_id_is_a_bad_signature() -> None:
    document = sign_directory(unsigned(), 1, signer(1, ZJ_KEY))
    document = sign_directory(document, 2, signer(2, OUTSIDER_KEY))
    assert _reason(document) == "bad_signature"


def test_a_province_that_is_not_listed_cannot_sign() -> None:
    with pytest.raises(DirectoryError, match="unknown_signer"):
        sign_directory(unsigned(), 3, signer(3, GD_KEY))
    document = signed()
    document["signatures"][1]["issuerId"] = 3
    assert _reason(document) == "unknown_signer"


def test_one_signature_is_too_few_for_a_threshold_of_two() -> None:
    document = sign_directory(unsigned(), 1, signer(1, ZJ_KEY))
    assert _reason(document) == "too_few_signatures"


def test_a_threshold_of_one_still_needs_a_majority_of_the_listed_provinces() -> None:
    document = sign_directory(unsigned(threshold=1), 1, signer(1, ZJ_KEY))
    assert _reason(document) == "too_few_signatures"


def test_the_same_province_signing_twice_counts_once() -> None:
    document = sign_directory(unsigned(), 1, signer(1, ZJ_KEY))
    document["signatures"].append(copy.deepcopy(document["signatures"][0]))
    assert _reason(document) == "too_few_signatures"


def test_an_expired_or_future_directory_is_refused() -> None:
    document = signed()
    assert _reason(document, now_ms=NOW_MS + 40 * 86_400_000) == "expired"
    assert _reason(document, now_ms=NOW_MS - 30 * 86_400_000) == "not_yet_valid"


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("type", "TongbanConsortiumDirectory/v2"),
        ("threshold", 3),
        ("threshold", 0),
        ("validUntil", "2026-11-01T00:00:00.000Z"),
        ("validFrom", "yesterday"),
        ("provinces", []),
        ("chainId", True),
    ],
)
def test_malformed_directories_are_refused(change: str, value: object) -> None:
    document = signed()
    document[change] = value
    assert _reason(document) == "malformed"


def test_unknown_members_and_bad_urls_are_malformed() -> None:
    document = signed()
    document["extra"] = 1
    assert _reason(document) == "malformed"
    document = signed()
    document["provinces"][0]["apiBaseUrl"] = "javascript:alert(1)"
    assert _reason(document) == "malformed"
    document = signed()
    document["provinces"][1]["issuerId"] = 1
    assert _reason(document) == "malformed"

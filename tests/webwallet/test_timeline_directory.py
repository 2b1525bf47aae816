"""timeline.js checks the consortium directory exactly as api/province/directory.py does.

One list of directories (good, edited, wrong signer, expired, malformed), each checked by both
sides with the same keys: the verdicts and reason words must be identical. The JS side is
given the keys pinned (a wallet without a chain node); the chain-read path is exercised in
test_timeline_provinces.py.
"""

from __future__ import annotations

import copy
from typing import Any

from api.province.directory import DirectoryError, sign_directory, signing_payload, verify_directory
from tests.api.province.directory_fixtures import (
    NOW_MS,
    OUTSIDER_KEY,
    ZJ_KEY,
    pinned_hex,
    registered,
    signed,
    signer,
    unsigned,
)
from tests.webwallet.timeline_side import run_timeline


def _cases() -> dict[str, tuple[dict[str, Any], int]]:
    day = 86_400_000
    edited = signed()
    edited["provinces"][0]["name"] = "浙江"
    wrong_key = sign_directory(unsigned(), 1, signer(1, ZJ_KEY))
    wrong_key = sign_directory(wrong_key, 2, signer(2, OUTSIDER_KEY))
    twice = sign_directory(unsigned(), 1, signer(1, ZJ_KEY))
    twice["signatures"].append(copy.deepcopy(twice["signatures"][0]))
    extra = signed()
    extra["provinces"][1]["fax"] = "none"
    bad_time = signed()
    bad_time["validFrom"] = "2026-12-01T00:00:00Z"
    bad_url = signed()
    bad_url["provinces"][0]["apiBaseUrl"] = "https://zj.example/?q=1"
    return {
        "good": (signed(), NOW_MS),
        "edited": (edited, NOW_MS),
        "wrong key": (wrong_key, NOW_MS),
        "one signer": (sign_directory(unsigned(), 1, signer(1, ZJ_KEY)), NOW_MS),
        "same signer twice": (twice, NOW_MS),
        "majority floor": (sign_directory(unsigned(threshold=1), 1, signer(1, ZJ_KEY)), NOW_MS),
        "expired": (signed(), NOW_MS + 40 * day),
        "not yet valid": (signed(), NOW_MS - 30 * day),
        "unknown member": (extra, NOW_MS),
        "time without milliseconds": (bad_time, NOW_MS),
        "url with a query": (bad_url, NOW_MS),
        "unsigned": (unsigned(), NOW_MS),
    }


def _python(document: dict[str, Any], now_ms: int) -> str:
    try:
        verify_directory(document, registered, now_ms)
    except DirectoryError as exc:
        return exc.reason
    return "ok"


def test_python_and_the_browser_give_the_same_verdict_on_every_directory() -> None:
    cases = _cases()
    calls = [
        ["verifyDirectory", document, {"keys": pinned_hex(), "nowMs": now}]
        for document, now in cases.values()
    ]
    browser = [result["reason"] for result in run_timeline(calls)]
    python = [_python(document, now) for document, now in cases.values()]
    assert dict(zip(cases, browser, strict=True)) == dict(zip(cases, python, strict=True))
    assert python[0] == "ok"
    assert len(set(python)) >= 6  # the cases reach most of the rules, not one


def test_the_browser_signs_over_the_same_bytes_as_python() -> None:
    document = signed()
    (browser,) = run_timeline([["signingBytes", document]])
    assert browser == signing_payload(document).encode().hex()

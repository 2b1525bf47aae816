"""The 用证事由 catalogue (docs/purposes.md): complete for the codes in use, well formed.

Completeness is read from the project's own text: every ``X-Purpose`` value the
README, the docs, the scripts and the tests send, every ``--purpose`` a command
shows or defaults to, and every purpose Tongban records by itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.province.audited import ACCESS_CONTROL_PURPOSE, ADMINISTRATION_PURPOSE
from credentials.purposes import CATEGORIES, PURPOSES, catalogue_json, label
from credentials.verify.purpose_binding import is_purpose_code

ROOT = Path(__file__).resolve().parents[2]
_CODE = r"([a-z][a-z0-9_.\-]{0,63})"
_SENT = (
    # headers in Python dicts: "X-Purpose": "code"
    re.compile(r"""["']X-Purpose["']\s*:\s*["']""" + _CODE + r"""["']"""),
    # headers on curl lines: -H 'X-Purpose: code'
    re.compile(r"X-Purpose: " + _CODE + r"""["']"""),
    # command lines in the docs: --purpose code
    re.compile(r"--purpose[ =]" + _CODE),
    # a command's default: purpose: Annotated[str, typer.Option(...)] = "code"
    re.compile(r"""purpose: Annotated\[str, [^\n]*\] = ["']""" + _CODE),
)


def _texts() -> list[Path]:
    found = [ROOT / "README.md"]
    for folder, suffixes in (
        ("docs", {".md"}),
        ("scripts", {".py", ".sh"}),
        ("tests", {".py"}),
        ("api/cli", {".py"}),
    ):
        found += [p for p in (ROOT / folder).rglob("*") if p.suffix in suffixes]
    return [p for p in found if p.is_file() and p != Path(__file__).resolve()]


def codes_in_use() -> dict[str, str]:
    """Every purpose code the project sends, with one file that sends it."""
    used: dict[str, str] = {}
    for path in _texts():
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in _SENT:
            for match in pattern.finditer(text):
                used.setdefault(match.group(1), str(path.relative_to(ROOT)))
    return used


def test_every_purpose_code_in_use_is_in_the_catalogue() -> None:
    used = codes_in_use()
    # The grep must find the codes known to be in use, or it finds nothing at all.
    assert {"credential.issuance", "cross-province.enrolment", "audit.review"} <= set(used)
    assert "credential.verification" in used  # `tongban verify`'s default
    missing = {code: where for code, where in used.items() if code not in PURPOSES}
    assert missing == {}, "purpose codes in use but not in credentials/purposes.py"


def test_the_purposes_tongban_records_itself_are_listed_as_its_own() -> None:
    for code in (ACCESS_CONTROL_PURPOSE, ADMINISTRATION_PURPOSE, "data-subject.access"):
        assert PURPOSES[code].issued_by_tongban, code


@pytest.mark.parametrize("code", sorted(PURPOSES))
def test_each_entry_is_a_valid_code_with_both_labels_and_a_known_category(code: str) -> None:
    entry = PURPOSES[code]
    assert is_purpose_code(code)
    assert entry.category in CATEGORIES
    assert re.search(r"[\u4e00-\u9fff]", entry.zh), "the Chinese label has Chinese"
    assert entry.en.isascii()
    assert entry.en
    assert entry.en[0].isupper()


def test_labels_are_unique_so_a_citizen_can_tell_purposes_apart() -> None:
    assert len({p.zh for p in PURPOSES.values()}) == len(PURPOSES)
    assert len({p.en for p in PURPOSES.values()}) == len(PURPOSES)


def test_every_category_is_used() -> None:
    assert {p.category for p in PURPOSES.values()} == set(CATEGORIES)


def test_an_unlisted_code_is_shown_as_unlisted_not_refused() -> None:
    shown = label("crash-test")
    assert (shown.listed, shown.category) == (False, None)
    assert shown.text() == "crash-test (未列入用证事由目录 / not in the purpose catalogue)"
    listed = label("audit.review")
    assert listed.to_json() == {
        "code": "audit.review",
        "zh": "审计核查",
        "en": "Audit review",
        "category": "oversight",
        "listed": True,
    }


def test_the_catalogue_json_keeps_catalogue_order() -> None:
    answer = catalogue_json()
    assert [p["code"] for p in answer["purposes"]] == list(PURPOSES)
    assert [c["code"] for c in answer["categories"]] == list(CATEGORIES)


def test_docs_purposes_lists_every_code_and_category() -> None:
    text = (ROOT / "docs" / "purposes.md").read_text(encoding="utf-8")
    for purpose in PURPOSES.values():
        assert f"| `{purpose.code}` | {purpose.zh} | {purpose.en} |" in text, purpose.code
    for category in CATEGORIES.values():
        assert f"| `{category.code}` | {category.zh} | {category.en} |" in text, category.code

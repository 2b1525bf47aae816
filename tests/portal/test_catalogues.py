"""The portal's words: every reason code, check, claim and page text in Chinese and English."""

from __future__ import annotations

from api.portal.labels import CHECK_TITLES, CLAIM_LABELS, PAGE_TEXT, pick_language
from api.portal.reasons_i18n import REASON_WORDS, reason_words
from credentials.reasons import Check, Reason
from credentials.templates import TEMPLATES

CJK = range(0x4E00, 0xA000)


def _has_chinese(text: str) -> bool:
    return any(ord(c) in CJK for c in text)


def test_every_reason_code_has_chinese_and_english_words() -> None:
    assert set(REASON_WORDS) == set(Reason)
    for reason, (zh, en) in REASON_WORDS.items():
        assert _has_chinese(zh), reason
        assert en.strip(), reason
        assert not _has_chinese(en), reason
    assert reason_words("revoked", "zh") == "证照已被撤销"
    assert reason_words("revoked", "en") == "the credential is revoked"
    assert reason_words("no_such_code", "zh") == "no_such_code"


def test_every_numbered_check_has_a_title_in_both_languages() -> None:
    assert set(CHECK_TITLES) == set(Check)
    assert all(_has_chinese(zh) and en for zh, en in CHECK_TITLES.values())


def test_every_claim_of_every_template_has_a_face_label_in_both_languages() -> None:
    for template in TEMPLATES.values():
        for claim in template.claims:
            zh, en = CLAIM_LABELS[claim]
            assert _has_chinese(zh), (template.name, claim)
            assert en, (template.name, claim)


def test_both_languages_have_the_same_page_text_keys() -> None:
    assert set(PAGE_TEXT["zh"]) == set(PAGE_TEXT["en"])
    assert all(PAGE_TEXT["zh"].values())
    assert all(PAGE_TEXT["en"].values())


def test_the_query_wins_over_the_cookie_and_chinese_is_the_default() -> None:
    assert pick_language(None, None) == "zh"
    assert pick_language("en", "zh") == "en"
    assert pick_language(None, "en") == "en"
    assert pick_language("fr", None) == "zh"

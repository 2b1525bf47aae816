"""TB1 (docs/paper-certificate.md): exact round trip, print disclosures only, strict decoding."""

from __future__ import annotations

import contextlib
import json
import zlib
from typing import Any

import cbor2
import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.credential import credential_digest
from credentials.jcs import canonicalize
from credentials.paper import codec
from credentials.paper.base45 import Base45Error, b45decode, b45encode
from credentials.paper.codec import MAX_CBOR_BYTES, PREFIX, PaperCodecError, decode, encode
from credentials.paper.envelope import envelope, scanned_text
from credentials.paper.printing import print_claims, printed_credential, template_of
from credentials.templates import TEMPLATES, get_template
from credentials.verify.offline import TrustedChain, check_offline
from credentials.verify.outcome import Passed
from tests.credentials.paper.samples import CHAIN_ID, CONTRACT, ISSUER_KEY, sample

LARGEST = "business-licence"
"""The template whose printed credential is the largest (most undisclosed _sd digests)."""


def _deflated(body: bytes) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return PREFIX + b45encode(compressor.compress(body) + compressor.flush())


def _body(text: str) -> bytes:
    return zlib.decompress(b45decode(text[len(PREFIX) :]), -15)


# ------------------------------------------------------------------ base45 (RFC 9285)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"AB", "BB8"),  # RFC 9285 section 4.3
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),  # section 4.4
        (b"", ""),
    ],
)
def test_base45_matches_the_rfc_9285_examples(raw: bytes, text: str) -> None:
    assert b45encode(raw) == text
    assert b45decode(text) == raw


@pytest.mark.parametrize("text", ["GGW", "A", "AB=", "ab", ":::"])
def test_base45_refuses_what_rfc_9285_says_is_invalid(text: str) -> None:
    # GGW = 65535 + 1; a lone character; outside the alphabet; ":::" = 44+44*45+44*2025.
    with pytest.raises(Base45Error):
        b45decode(text)


# ------------------------------------------------------------------ round trip


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_decode_gives_back_the_printed_credential_exactly(template: str) -> None:
    issued = sample(template)
    printed = printed_credential(issued)
    text = encode(printed)
    decoded = decode(text)
    assert decoded == printed
    # The signature and the digest cover JCS, so JCS is what must be equal.
    assert canonicalize(decoded) == canonicalize(printed)
    assert credential_digest(decoded) == credential_digest(issued)
    offline = check_offline(
        decoded, trusted=TrustedChain(CHAIN_ID, CONTRACT), issuer_key=ISSUER_KEY.public_key
    )
    assert isinstance(offline, Passed), offline


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_the_qr_carries_exactly_the_print_disclosures(template: str) -> None:
    issued = sample(template)
    decoded = decode(encode(printed_credential(issued)))
    printed = set(print_claims(get_template(template)))
    shown = {d[1].rsplit("/", 1)[1] for d in decoded.get("disclosures", [])}
    assert shown == printed & set(get_template(template).disclosable)
    dumped = json.dumps(decoded, ensure_ascii=False)
    for salt, pointer, value in issued["disclosures"]:
        if pointer.rsplit("/", 1)[1] in shown:
            continue
        assert salt not in dumped
        assert pointer not in dumped
        assert json.dumps(value, ensure_ascii=False) not in dumped


def test_a_credential_tb1_cannot_carry_exactly_is_refused() -> None:
    printed = printed_credential(sample("degree-certificate"))
    # An unsorted _sd would come back sorted: the encoder refuses instead of changing it.
    printed["credentialSubject"]["_sd"].reverse()
    with pytest.raises(PaperCodecError, match="exactly"):
        encode(printed)


def test_a_credential_without_zhengzhao_member_or_file_round_trips() -> None:
    printed = printed_credential(sample("marriage-certificate", with_file=False, with_agency=False))
    assert "zhengzhao" not in printed
    assert "relatedResource" not in printed
    assert decode(encode(printed)) == printed


def test_a_legacy_anchor_in_the_proof_array_is_printed_from_the_anchor_member() -> None:
    issued = sample("degree-certificate", levels=3)
    legacy = {k: v for k, v in issued.items() if k != "anchor"}
    legacy["proof"] = [issued["proof"], issued["anchor"]]
    printed = printed_credential(legacy)
    assert printed["anchor"] == issued["anchor"]
    assert printed["proof"] == issued["proof"]
    assert decode(encode(printed)) == printed == printed_credential(issued)


def test_an_unanchored_credential_is_not_printed() -> None:
    issued = sample("degree-certificate")
    del issued["anchor"]
    with pytest.raises(Exception, match="not anchored"):
        printed_credential(issued)


# ------------------------------------------------------------------ size: the QR version


def _version(text: str) -> int:
    return int(segno.make(text, error="m", boost_error=False).version)


@pytest.mark.parametrize(
    ("template", "levels", "most"),
    [
        (LARGEST, 20, 34),
        ("degree-certificate", 20, 33),
        ("resident-certificate", 20, 33),
        (LARGEST, 10, 31),
        (LARGEST, 0, 26),
    ],
)
def test_qr_version_at_ecc_m(template: str, levels: int, most: int) -> None:
    # Measured: the largest template with a 2^20-leaf path, a 证照标识 and a certificate
    # file is 2,451-2,457 characters (QR 34-M holds 2,506); the issue's target of 25-M
    # is out of reach by 1,043 random bytes (docs/paper-certificate.md).
    for _ in range(3):
        assert _version(encode(printed_credential(sample(template, levels=levels)))) <= most


def test_the_largest_template_does_not_fit_version_25() -> None:
    # Honest figure, kept as a test: if a change made it fit, the docs must say so.
    assert _version(encode(printed_credential(sample(LARGEST)))) > 25


# ------------------------------------------------------------------ strict decoding


def _valid() -> tuple[dict[str, Any], str]:
    printed = printed_credential(sample("degree-certificate", levels=2))
    return printed, encode(printed)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "is text"),
        ("", "must start with 'TB1:'"),
        ("HC1:NCFOXN", "must start with 'TB1:'"),
        ("TB2:ABC", "TB version"),
        ("TB1:abc", "outside base45"),
        ("TB1:A", "not base45"),
        ("TB1:GGW", "not base45"),
        ("TB1:" + "0" * 4293, "at most 4296"),
        ("TB1:", "not exactly one complete DEFLATE stream"),
    ],
)
def test_decode_refuses_malformed_text(text: object, message: str) -> None:
    with pytest.raises(PaperCodecError, match=message):
        decode(text)


def test_decode_refuses_a_truncated_or_extended_stream() -> None:
    _, text = _valid()
    raw = b45decode(text[4:])
    with pytest.raises(PaperCodecError, match="DEFLATE"):
        decode(PREFIX + b45encode(raw[:-10]))
    with pytest.raises(PaperCodecError, match="DEFLATE"):
        decode(PREFIX + b45encode(raw + b"\x00"))


def test_decode_caps_what_the_stream_inflates_to() -> None:
    # 16 KiB + 1 of zeros deflates to a few dozen bytes: a bomb in miniature.
    with pytest.raises(PaperCodecError, match=f"more than {MAX_CBOR_BYTES}"):
        decode(_deflated(b"\x00" * (MAX_CBOR_BYTES + 1)))


def test_decode_refuses_trailing_bytes_after_the_cbor_item() -> None:
    _, text = _valid()
    with pytest.raises(PaperCodecError, match="after its CBOR item"):
        decode(_deflated(_body(text) + b"\x00"))


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ([1, 2], "not a credential object"),
        ({999: 1}, "unknown member code"),
        ({1: cbor2.CBORTag(1580 + 9, b"x")}, "unknown CBOR tag"),
        ({1: cbor2.CBORTag(0, "2026-01-01T00:00:00Z")}, "type TB1 does not use"),
        ({1: float("nan")}, "not finite"),
        ({1: 2**60}, "outside I-JSON"),
        ({1: cbor2.CBORSimpleValue(100)}, "unknown constant"),
        ({1: {2: [[[[[[[[[[[[[[1]]]]]]]]]]]]]]}}, "nests too deeply"),
        ({1.5: 1}, "not a string or code"),
    ],
)
def test_decode_accepts_only_the_cbor_items_tb1_writes(item: object, message: str) -> None:
    with pytest.raises(PaperCodecError, match=message):
        decode(_deflated(cbor2.dumps(item)))


def test_decode_refuses_a_second_spelling_of_the_same_credential() -> None:
    _, text = _valid()
    item = cbor2.loads(_body(text))
    item[0] = [cbor2.CBORSimpleValue(0), cbor2.CBORSimpleValue(1)]  # @context spelled out
    with pytest.raises(PaperCodecError, match="not written as TB1 writes"):
        decode(_deflated(cbor2.dumps(item)))


def test_decode_refuses_repeated_members() -> None:
    _, text = _valid()
    body = _body(text)
    # CBOR map of the same key twice: {1: 0, "id": 0} names member "id" twice.
    with pytest.raises(PaperCodecError, match="repeats a member"):
        decode(_deflated(cbor2.dumps({1: 0, "id": 0})))
    assert decode(_deflated(body))  # the untouched body still decodes


def test_a_tampered_payload_decodes_to_a_credential_whose_proof_fails() -> None:
    printed, text = _valid()
    item = cbor2.loads(_body(text))
    subject = item[codec.KEYS.index("credentialSubject")]
    subject[codec.KEYS.index("_sd")] = bytes(32) + subject[codec.KEYS.index("_sd")][32:]
    decoded = decode(_deflated(cbor2.dumps(item)))
    assert credential_digest(decoded) != credential_digest(printed)


def test_the_envelope_carries_the_text_through_a_data_url() -> None:
    _, text = _valid()
    wrapped = envelope(text)
    assert wrapped["type"] == "EnvelopedVerifiableCredential"
    assert " " not in wrapped["id"]
    assert scanned_text(wrapped) == text
    assert scanned_text({"type": "VerifiableCredential", "id": "data:x"}) is None
    with pytest.raises(PaperCodecError, match="UTF-8"):
        scanned_text({**wrapped, "id": "data:application/vnd.tongban.tb1,%ff"})


def test_print_claims_follow_the_templates_national_metadata() -> None:
    for template in TEMPLATES.values():
        national = template.national
        claims = print_claims(template)
        assert claims
        if national is not None and national.printed:
            assert set(claims) == set(national.printed) & set(template.disclosable)
        assert template_of({"type": ["VerifiableCredential", template.credential_type]}) == template


# ------------------------------------------------------------------ untrusted input


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_deflated_bytes_end_in_a_credential_or_a_codec_error(raw: bytes) -> None:
    try:
        decoded = decode(_deflated(raw))
    except PaperCodecError:
        return
    assert isinstance(decoded, dict)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=900))
def test_any_base45_text_ends_in_a_credential_or_a_codec_error(text: str) -> None:
    with contextlib.suppress(PaperCodecError):
        decode(PREFIX + text)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.integers(0, 90) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_any_cbor_item_ends_in_a_credential_or_a_codec_error(item: object) -> None:
    with contextlib.suppress(PaperCodecError):
        decode(_deflated(cbor2.dumps(item)))


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=4), st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"))
def test_one_changed_character_of_a_real_payload_ends_in_a_credential_or_a_codec_error(
    position: int, character: str
) -> None:
    text = _REAL
    at = 4 + position % (len(text) - 4)
    changed = text[:at] + character + text[at + 1 :]
    try:
        decoded = decode(changed)
    except PaperCodecError:
        return
    # It decoded: a credential the verifier then judges. A change inside the proof or
    # the anchor keeps the digest (the signature or check 3 then fails); DEFLATE may also
    # spell the same bytes twice, so the very same credential may come back.
    assert isinstance(decoded, dict)


_REAL = encode(printed_credential(sample("degree-certificate", levels=4)))

"""Bitstring Status List v1.0 (W3C Recommendation 2025-05-15): encoding, entries, validation.

Tests are named after the section they check. The spec's own examples (Appendix A.1
and A.2) are pinned in ``tests/vectors/bitstring-status-list``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from credentials.contexts import defined_terms
from credentials.did import issuer_did
from credentials.status_list import (
    LIST_BYTES,
    LIST_SIZE,
    ListStatus,
    StatusListError,
    StatusListFormatError,
    bit_at,
    bitstring,
    decode_list,
    encode_list,
    list_proof_verifier,
    list_status,
    list_url,
    sign_list_credential,
    status_entries,
    unsigned_list_credential,
)
from ledger.crypto.signer import LocalSigner
from tests.helpers.credentials import ZJ_KEY

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "bitstring-status-list"
ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|.*\| `(?P<sha256>[0-9a-f]{64})` \|$")
DID = issuer_did(31337, 1)
SIGNER = LocalSigner(f"{DID}#key-1", ZJ_KEY)
BASE = "https://zj.example.gov.cn/tongban"


def _vector(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VECTORS / name).read_bytes())
    return loaded


def _accept_all(document: Any) -> bool:
    # The examples carry ecdsa-rdfc-2019 proofs, which Tongban cannot check (no RDF canon).
    return True


def _reject_all(document: Any) -> bool:
    return False


def _signed(
    bits: bytes, purpose: str = "revocation", number: int = 1, block: int = 7
) -> dict[str, Any]:
    unsigned = unsigned_list_credential(
        list_url=list_url(BASE, number, purpose),
        issuer_did=DID,
        purpose=purpose,
        bits=bits,
        valid_from="2026-05-01T00:00:00Z",
        block_number=block,
        ttl_ms=30_000,
    )
    return sign_list_credential(unsigned, SIGNER, created="2026-05-01T00:00:00Z")


def _zj_key(method: str) -> Any:
    return ZJ_KEY.public_key if method == SIGNER.key_id else None


VERIFY = list_proof_verifier(_zj_key)


def _entry(index: int, purpose: str = "revocation", number: int = 1) -> dict[str, Any]:
    entries = status_entries(lambda p: list_url(BASE, number, p), index)
    return next(e for e in entries if e["statusPurpose"] == purpose)


# ---------------------------------------------------------------- pinned examples


def test_pinned_examples_match_their_provenance_rows() -> None:
    rows = [
        ROW.match(line)
        for line in (VECTORS / "PROVENANCE.md").read_text(encoding="utf-8").splitlines()
    ]
    found = {m["file"]: m["sha256"] for m in rows if m is not None}
    assert len(found) == 2
    for name, digest in found.items():
        assert hashlib.sha256((VECTORS / name).read_bytes()).hexdigest() == digest


def test_bitstring_status_list_a_2_example_encoded_list_expands_to_16_kib_of_zeros() -> None:
    example = _vector("example-5-status-list-credential-ecdsa.json")
    bits = decode_list(example["credentialSubject"]["encodedList"], max_bytes=LIST_BYTES)
    assert len(bits) == 16_384
    assert bits == bytes(16_384)


def test_bitstring_status_list_3_2_the_spec_example_entry_is_valid_in_the_example_list() -> None:
    credential = _vector("example-4-revocable-credential-ecdsa.json")
    example_list = _vector("example-5-status-list-credential-ecdsa.json")
    result = list_status(credential["credentialStatus"], example_list, verify_proof=_accept_all)
    assert result == ListStatus("revocation", 94567, 0, True, None, "ok", None)


def test_bitstring_status_list_3_3_our_encoding_of_zeros_expands_like_the_example() -> None:
    ours = decode_list(encode_list(bytes(LIST_BYTES)), max_bytes=LIST_BYTES)
    example = _vector("example-5-status-list-credential-ecdsa.json")
    theirs = decode_list(example["credentialSubject"]["encodedList"], max_bytes=LIST_BYTES)
    assert ours == theirs


# ---------------------------------------------------------------- encoding (2.2, 3.3, 3.4, 7.1)


def test_bitstring_status_list_2_2_encoded_list_is_multibase_base64url_without_padding() -> None:
    encoded = encode_list(bitstring([1, 5, 131_071]))
    assert encoded.startswith("u")
    assert re.fullmatch(r"u[A-Za-z0-9_-]+", encoded)
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert raw[:2] == b"\x1f\x8b"  # the RFC 1952 member header
    assert gzip.decompress(raw) == bitstring([1, 5, 131_071])


def test_bitstring_status_list_2_2_index_zero_is_the_left_most_bit() -> None:
    bits = bitstring([0])
    assert bits[0] == 0b1000_0000
    assert bit_at(bits, 0)
    assert not bit_at(bits, 7)
    assert bitstring([7])[0] == 0b0000_0001
    assert bitstring([8])[1] == 0b1000_0000


def test_bitstring_status_list_7_1_the_last_index_is_the_right_most_bit() -> None:
    bits = bitstring([LIST_SIZE - 1])
    assert bits[-1] == 0b0000_0001
    assert bit_at(bits, 131_071)
    with pytest.raises(IndexError):
        bit_at(bits, 131_072)
    with pytest.raises(IndexError):
        bit_at(bits, -1)


def test_bitstring_status_list_3_3_round_trip_of_random_bits() -> None:
    indexes = {secrets.randbelow(LIST_SIZE) for _ in range(500)}
    bits = bitstring(indexes)
    decoded = decode_list(encode_list(bits), max_bytes=LIST_BYTES)
    assert decoded == bits
    assert {i for i in range(LIST_SIZE) if bit_at(decoded, i)} == indexes


def test_bitstring_status_list_3_3_encoding_is_deterministic() -> None:
    bits = bitstring([3, 99_999])
    assert encode_list(bits) == encode_list(bytes(bits))


def test_bitstring_status_list_2_2_the_uncompressed_bitstring_is_at_least_16_kib() -> None:
    with pytest.raises(StatusListFormatError) as caught:
        encode_list(bytes(LIST_BYTES - 1))
    assert caught.value.error is StatusListError.STATUS_LIST_LENGTH_ERROR
    assert LIST_SIZE == 131_072
    assert LIST_BYTES == 16 * 1024


def test_bitstring_status_list_3_4_decompression_is_capped() -> None:
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(64 * 1024 * 1024))).rstrip(
        b"="
    ).decode("ascii")
    assert len(bomb) < 100_000  # 64 MiB of zeros fit in a small text
    with pytest.raises(StatusListFormatError) as caught:
        decode_list(bomb, max_bytes=1024 * 1024)
    assert caught.value.error is StatusListError.MALFORMED_VALUE_ERROR
    assert decode_list(encode_list(bytes(LIST_BYTES)), max_bytes=LIST_BYTES) == bytes(LIST_BYTES)
    with pytest.raises(StatusListFormatError):
        decode_list(encode_list(bytes(LIST_BYTES)), max_bytes=LIST_BYTES - 1)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "H4sIAAAA",  # no Multibase prefix
        "zH4sIAAAA",  # base58btc prefix
        "uH4sI+AAA",  # standard base64, not base64url
        "uH4sIAA==",  # padding
        "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAA",  # truncated
        "u" + base64.urlsafe_b64encode(b"not gzip at all").rstrip(b"=").decode(),
    ],
)
def test_bitstring_status_list_3_4_malformed_encoded_lists_are_refused(bad: str) -> None:
    with pytest.raises(StatusListFormatError) as caught:
        decode_list(bad, max_bytes=LIST_BYTES)
    assert caught.value.error is StatusListError.MALFORMED_VALUE_ERROR


def test_bitstring_status_list_3_4_several_gzip_members_are_one_bitstring() -> None:
    raw = gzip.compress(bytes(8192), mtime=0) + gzip.compress(b"\x80" + bytes(8191), mtime=0)
    encoded = "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    bits = decode_list(encoded, max_bytes=LIST_BYTES)
    assert len(bits) == LIST_BYTES
    assert bit_at(bits, 8192 * 8)


# ---------------------------------------------------------------- entries (2.1)


def test_bitstring_status_list_2_1_entry_index_is_a_string() -> None:
    entries = status_entries(lambda p: list_url(BASE, 3, p), 94_567)
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    for entry in entries:
        assert entry["statusListIndex"] == "94567"
        assert entry["type"] == "BitstringStatusListEntry"
        assert set(entry) == {
            "id",
            "type",
            "statusPurpose",
            "statusListIndex",
            "statusListCredential",
        }
        assert entry["statusListCredential"] == f"{BASE}/status-lists/3/{entry['statusPurpose']}"
        # section 2.1: the entry id must not be the list's URL
        assert entry["id"] != entry["statusListCredential"]
    with pytest.raises(ValueError):
        status_entries(lambda p: list_url(BASE, 1, p), LIST_SIZE)


def test_list_url_is_absolute_and_refuses_a_relative_base() -> None:
    assert list_url(BASE + "/", 2, "suspension") == f"{BASE}/status-lists/2/suspension"
    for base in ("zj.example.gov.cn", "/status", "ftp://x", "https://x/?q=1"):
        with pytest.raises(ValueError):
            list_url(base, 1, "revocation")
    with pytest.raises(ValueError):
        list_url(BASE, 0, "revocation")
    with pytest.raises(ValueError):
        list_url(BASE, 1, "message")


# ---------------------------------------------------------------- the list credential (2.2)


def test_bitstring_status_list_2_2_list_credential_members_and_single_proof() -> None:
    signed = _signed(bitstring([42]), "suspension", number=2, block=123)
    assert signed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert signed["id"] == f"{BASE}/status-lists/2/suspension"
    subject = signed["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "suspension"
    assert subject["ttl"] == 30_000
    assert subject["statusBlock"] == 123
    assert isinstance(signed["proof"], dict)  # one proof: an object, not an array
    assert signed["proof"]["cryptosuite"] == "sm2-jcs-2026"
    assert VERIFY(signed)


def test_every_term_of_the_list_credential_is_defined_by_its_contexts() -> None:
    signed = _signed(bitstring([]))
    terms = defined_terms()
    members = set(signed) | set(signed["credentialSubject"]) | set(signed["proof"])
    assert members - terms - {"@context"} == set()
    assert {"BitstringStatusListCredential", "BitstringStatusList"} <= terms


def test_a_tampered_list_credential_does_not_verify() -> None:
    signed = _signed(bitstring([42]))
    forged = json.loads(json.dumps(signed))
    forged["credentialSubject"]["encodedList"] = encode_list(bitstring([]))
    assert not VERIFY(forged)
    other_key = list_proof_verifier(lambda method: None)
    assert not other_key(signed)


# ---------------------------------------------------------------- validation (3.2, 3.5)


def test_bitstring_status_list_3_2_a_set_bit_is_not_valid() -> None:
    signed = _signed(bitstring([42, 77]), block=99)
    revoked = list_status(_entry(42), signed, verify_proof=VERIFY)
    assert (revoked.status, revoked.valid, revoked.error, revoked.is_set) == (1, False, None, True)
    assert revoked.status_block == 99
    assert revoked.purpose == "revocation"
    fine = list_status(_entry(43), signed, verify_proof=VERIFY)
    assert (fine.status, fine.valid, fine.error, fine.is_set) == (0, True, None, False)


def test_bitstring_status_list_3_5_status_retrieval_error() -> None:
    result = list_status(_entry(1), None, verify_proof=VERIFY)
    assert result.error is StatusListError.STATUS_RETRIEVAL_ERROR
    assert result.status is None
    assert result.valid is None
    assert result.error.type_url == (
        "https://www.w3.org/ns/credentials/status-list#STATUS_RETRIEVAL_ERROR"
    )


def test_bitstring_status_list_3_5_status_verification_error_for_a_bad_proof() -> None:
    signed = _signed(bitstring([]))
    assert list_status(_entry(1), signed, verify_proof=_reject_all).error is (
        StatusListError.STATUS_VERIFICATION_ERROR
    )
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert list_status(_entry(1), unsigned, verify_proof=_accept_all).error is (
        StatusListError.STATUS_VERIFICATION_ERROR
    )


def test_bitstring_status_list_3_2_step_5_purpose_mismatch_is_a_verification_error() -> None:
    suspension_list = _signed(bitstring([5]), "suspension")
    entry = _entry(5, "revocation")
    entry["statusListCredential"] = suspension_list["id"]
    result = list_status(entry, suspension_list, verify_proof=VERIFY)
    assert result.error is StatusListError.STATUS_VERIFICATION_ERROR
    assert "statusPurpose" in result.message


def test_a_stapled_list_of_another_number_is_a_verification_error() -> None:
    other = _signed(bitstring([]), number=2)
    result = list_status(_entry(5, number=1), other, verify_proof=VERIFY)
    assert result.error is StatusListError.STATUS_VERIFICATION_ERROR


def test_bitstring_status_list_3_5_status_list_length_error() -> None:
    short = _signed(bitstring([]))
    short["credentialSubject"]["encodedList"] = "u" + base64.urlsafe_b64encode(
        gzip.compress(bytes(LIST_BYTES - 1))
    ).rstrip(b"=").decode("ascii")
    result = list_status(_entry(3), short, verify_proof=_accept_all)
    assert result.error is StatusListError.STATUS_LIST_LENGTH_ERROR
    lowered = list_status(_entry(3), short, verify_proof=_accept_all, minimum_entries=8)
    assert lowered.error is None
    assert lowered.valid is True


def test_bitstring_status_list_3_2_step_10_index_outside_the_list_is_a_range_error() -> None:
    signed = _signed(bitstring([]))
    entry = _entry(0)
    for index in ("131072", "9" * 40):
        entry["statusListIndex"] = index
        result = list_status(entry, signed, verify_proof=VERIFY)
        assert result.error is StatusListError.RANGE_ERROR
        assert result.error.type_url == "https://www.w3.org/TR/vc-data-model#RANGE_ERROR"
        assert index not in result.message


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("type", "StatusList2021Entry"),
        ("statusPurpose", 1),
        ("statusListIndex", 94567),
        ("statusListIndex", "-1"),
        ("statusListIndex", "+5"),
        ("statusListIndex", " 5"),
        ("statusListIndex", "0x10"),
        ("statusListIndex", "١٢"),  # Arabic-Indic digits: int() would take them
        ("statusListCredential", "not a url"),
        ("statusSize", 0),
        ("statusSize", "1"),
    ],
)
def test_bitstring_status_list_3_malformed_entry_is_a_malformed_value_error(
    member: str, value: object
) -> None:
    entry: dict[str, Any] = _entry(7)
    entry[member] = value
    result = list_status(entry, _signed(bitstring([7])), verify_proof=VERIFY)
    assert result.error is StatusListError.MALFORMED_VALUE_ERROR
    assert member in result.message
    if len(str(value)) > 2:  # messages name members, never values
        assert str(value) not in result.message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(type=["VerifiableCredential"]), "MALFORMED_VALUE_ERROR"),
        (lambda d: d["credentialSubject"].update(type="StatusList2021"), "MALFORMED_VALUE_ERROR"),
        (lambda d: d["credentialSubject"].update(statusPurpose=[]), "MALFORMED_VALUE_ERROR"),
        (lambda d: d["credentialSubject"].update(encodedList=12), "MALFORMED_VALUE_ERROR"),
        (lambda d: d["credentialSubject"].update(encodedList="uAAAA"), "MALFORMED_VALUE_ERROR"),
        (lambda d: d["credentialSubject"].update(ttl=-1), "MALFORMED_VALUE_ERROR"),
        (
            lambda d: d["credentialSubject"].update(statusPurpose=["suspension"]),
            "STATUS_VERIFICATION_ERROR",
        ),
    ],
)
def test_bitstring_status_list_2_2_malformed_list_credential(change: Any, expected: str) -> None:
    document = _signed(bitstring([]))
    change(document)
    result = list_status(_entry(1), document, verify_proof=_accept_all)
    assert result.error is StatusListError(expected)


def test_bitstring_status_list_2_2_status_purpose_may_be_several_strings() -> None:
    document = _signed(bitstring([9]))
    document["credentialSubject"]["statusPurpose"] = ["suspension", "revocation"]
    result = list_status(_entry(9), document, verify_proof=_accept_all)
    assert (result.error, result.status) == (None, 1)


def test_a_bomb_in_the_list_is_a_malformed_value_error_not_a_crash() -> None:
    document = _signed(bitstring([]))
    document["credentialSubject"]["encodedList"] = "u" + base64.urlsafe_b64encode(
        gzip.compress(bytes(32 * 1024 * 1024))
    ).rstrip(b"=").decode("ascii")
    result = list_status(_entry(1), document, verify_proof=_accept_all)
    assert result.error is StatusListError.MALFORMED_VALUE_ERROR

"""VCDM 2.0 §4.9 Validity Period (and §5.8 Representing Time); VCDM 1.1 §4.6, §4.7.

MUSTs (2.0): ``validFrom`` and ``validUntil``, if present, are XML Schema
dateTimeStamps (a time zone is required); ``validFrom`` is temporally the same as or
earlier than ``validUntil``. MUSTs (1.1): ``issuanceDate`` is present and
``expirationDate`` optional, both XML Schema dateTimes (a time without an offset
is UTC, §5.8). The order of the 1.1 dates is no 1.1 MUST; it is applied anyway.
"""

from __future__ import annotations

import pytest

from credentials.reasons import Reason
from credentials.vcdm import DataModel, check_credential, parse_date_time_stamp
from tests.credentials.vcdm.conftest import (
    NOW_MS,
    REMOVE,
    SECRET,
    credential,
    issued,
    issuer_refuses,
    model_refuses,
    submit,
    v1_credential,
    verifier_accepts,
    verifier_refuses,
)

JAN_1_2026_MS = 1_767_225_600_000


@pytest.mark.parametrize(
    ("stamp", "ms"),
    [
        ("2026-01-01T00:00:00Z", JAN_1_2026_MS),
        ("2026-01-01T08:00:00+08:00", JAN_1_2026_MS),
        ("2025-12-31T16:00:00-08:00", JAN_1_2026_MS),
        ("2026-01-01T00:00:00.123456Z", JAN_1_2026_MS + 123),
        ("2025-12-31T24:00:00Z", JAN_1_2026_MS),
        ("2026-01-01T14:00:00+14:00", JAN_1_2026_MS),
    ],
)
def test_4_9_date_time_stamps_in_any_zone_are_accepted_and_compared_temporally(
    stamp: str, ms: int
) -> None:
    assert parse_date_time_stamp(stamp) == ms
    model = check_credential(credential(validFrom=stamp, validUntil="2027-01-01T00:00:00Z"))
    assert model.valid_from_ms == ms
    verifier_accepts(issued(credential(validFrom=stamp)).document)


@pytest.mark.parametrize(
    "value",
    [
        SECRET,
        "2026-01-01T00:00:00",
        "2026-01-01",
        "2026-02-30T00:00:00Z",
        "2026-01-01T25:00:00Z",
        "2026-01-01T24:00:01Z",
        "2026-01-01T00:00:00+15:00",
        "2026-01-01 00:00:00Z",
        1767225600,
        None,
    ],
)
@pytest.mark.parametrize("member", ["validFrom", "validUntil"])
def test_4_9_valid_from_and_valid_until_must_be_date_time_stamps(
    member: str, value: object
) -> None:
    model_refuses(credential(**{member: value}), Reason.DATES_INVALID, f"/{member}")
    issuer_refuses(credential(**{member: value}), f"/{member}")
    verifier_refuses({member: value}, Reason.DATES_INVALID, f"/{member}")


def test_4_9_valid_from_may_equal_valid_until() -> None:
    same = credential(validFrom="2026-01-01T08:00:00+08:00", validUntil="2026-01-01T00:00:00Z")
    model = check_credential(same)
    assert model.valid_from_ms == model.valid_until_ms == JAN_1_2026_MS
    verifier_accepts(issued(same).document)


def test_4_9_valid_from_must_not_be_after_valid_until() -> None:
    # Temporally later, though the string sorts earlier.
    later = credential(validFrom="2026-01-01T00:00:00-01:00", validUntil="2026-01-01T00:30:00Z")
    model_refuses(later, Reason.DATES_INVALID, "/validUntil")
    issuer_refuses(later, "/validUntil")
    verifier_refuses(
        {"validFrom": "2026-01-01T00:00:00-01:00", "validUntil": "2026-01-01T00:30:00Z"},
        Reason.DATES_INVALID,
        "/validUntil",
    )


def test_4_9_valid_from_is_optional_and_the_issuer_defaults_it_to_the_issuance_time() -> None:
    assert check_credential(credential(validFrom=REMOVE)).valid_from_ms is None
    _, secured, _ = submit(credential(validFrom=REMOVE))
    assert parse_date_time_stamp(secured["validFrom"]) == NOW_MS // 1000 * 1000


@pytest.mark.parametrize("member", ["issuanceDate", "expirationDate"])
def test_4_9_tongban_a_2_0_credential_does_not_carry_1_1_dates(member: str) -> None:
    document = credential(**{member: "2026-01-01T00:00:00Z"})
    model_refuses(document, Reason.DATES_INVALID, f"/{member}")
    issuer_refuses(document, f"/{member}")
    verifier_refuses({member: "2026-01-01T00:00:00Z"}, Reason.DATES_INVALID, f"/{member}")


def test_1_1_4_6_issuance_date_and_4_7_expiration_date_are_accepted() -> None:
    document = v1_credential(
        issuanceDate="2026-01-01T00:00:00", expirationDate="2030-01-01T00:00:00Z"
    )
    model = check_credential(document)
    assert model.version is DataModel.V1_1
    # Without an offset the time is UTC (VCDM 2.0 §5.8).
    assert model.valid_from_ms == JAN_1_2026_MS
    signed = issued(document).document
    assert signed["issuanceDate"] == "2026-01-01T00:00:00"
    assert verifier_accepts(signed).valid_from == JAN_1_2026_MS


def test_1_1_4_6_a_credential_must_have_an_issuance_date() -> None:
    model_refuses(v1_credential(issuanceDate=REMOVE), Reason.DATES_INVALID, "/issuanceDate")
    # The issuer supplies the issuance time when it is missing.
    _, secured, _ = submit(v1_credential(issuanceDate=REMOVE))
    assert parse_date_time_stamp(secured["issuanceDate"]) == NOW_MS // 1000 * 1000
    verifier_refuses(
        {"issuanceDate": REMOVE}, Reason.DATES_INVALID, "/issuanceDate", base=v1_credential()
    )


@pytest.mark.parametrize("member", ["issuanceDate", "expirationDate"])
@pytest.mark.parametrize("value", [SECRET, "2026-02-30T00:00:00", "2026-01-01", 0])
def test_1_1_dates_must_be_date_times(member: str, value: object) -> None:
    model_refuses(v1_credential(**{member: value}), Reason.DATES_INVALID, f"/{member}")
    issuer_refuses(v1_credential(**{member: value}), f"/{member}")
    verifier_refuses({member: value}, Reason.DATES_INVALID, f"/{member}", base=v1_credential())


def test_1_1_expiration_date_must_not_be_before_issuance_date() -> None:
    early = v1_credential(expirationDate="2025-12-31T23:59:59Z")
    model_refuses(early, Reason.DATES_INVALID, "/expirationDate")
    issuer_refuses(early, "/expirationDate")


@pytest.mark.parametrize("member", ["validFrom", "validUntil"])
def test_1_1_a_1_1_credential_does_not_carry_2_0_dates(member: str) -> None:
    document = v1_credential(**{member: "2026-01-01T00:00:00Z"})
    model_refuses(document, Reason.DATES_INVALID, f"/{member}")
    issuer_refuses(document, f"/{member}")

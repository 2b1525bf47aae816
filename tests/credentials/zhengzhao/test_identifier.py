"""证照标识 parsing, formatting and validation on published identifiers."""

from __future__ import annotations

import dataclasses

import pytest

from credentials.zhengzhao.check_characters import ALPHANUMERIC
from credentials.zhengzhao.errors import IdentifierError
from credentials.zhengzhao.identifier import (
    ROOT_ARC,
    SERIAL_MAX_LENGTH,
    ZhengzhaoId,
    parse_zhengzhao_id,
    validate_type_code,
)

from .conftest import VECTORS

PUBLISHED: list[str] = VECTORS["zhengzhaoIds"]
EXAMPLE = PUBLISHED[0]
# Field of every character position of the example: the root, then the fields.
_FIELDS_OF_PARTS = ("typeCode", "issuingAgencyCode", "serialNumber", "version", "checkCharacter")


def _field_at(identifier: str, index: int) -> str | None:
    """The field a character position belongs to (None for the root and the dots)."""
    if index <= len(ROOT_ARC):
        return None
    start = len(ROOT_ARC) + 1
    for name, part in zip(_FIELDS_OF_PARTS, identifier[start:].split("."), strict=True):
        if start <= index < start + len(part):
            return name
        start += len(part) + 1
    return None


def test_the_issue_example_parses_into_its_fields() -> None:
    parsed = parse_zhengzhao_id(EXAMPLE)
    assert parsed == ZhengzhaoId(
        type_code="11100000000013338W011",
        issuing_agency_code="11430000006122244L",
        serial_number="20230000403",
        version=1,
    )
    assert parsed.check_character == "U"
    assert parsed.version_text == "001"


@pytest.mark.parametrize("identifier", PUBLISHED)
def test_published_identifiers_round_trip(identifier: str) -> None:
    parsed = parse_zhengzhao_id(identifier)
    assert str(parsed) == identifier
    assert parse_zhengzhao_id(str(parsed)) == parsed


def test_formatting_computes_the_check_character() -> None:
    made = ZhengzhaoId("11100000000013338W009", "11330105002500287C", "2025052201", 2)
    assert str(made) == PUBLISHED[1]


def test_the_dataclass_is_frozen() -> None:
    parsed = parse_zhengzhao_id(EXAMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.serial_number = "1"  # type: ignore[misc]


@pytest.mark.parametrize("identifier", PUBLISHED)
def test_every_single_character_substitution_is_refused(identifier: str) -> None:
    for i, original in enumerate(identifier):
        for char in ALPHANUMERIC + ".a ":
            if char == original:
                continue
            mutated = identifier[:i] + char + identifier[i + 1 :]
            with pytest.raises(IdentifierError) as caught:
                parse_zhengzhao_id(mutated)
            field = _field_at(identifier, i)
            if field is None or char == "." or original == ".":
                assert caught.value.field in {"rootArc", "zhengzhaoId", *_FIELDS_OF_PARTS}
            else:
                # The field itself, or the check character that no longer matches.
                assert caught.value.field in {field, "checkCharacter"}, (i, char)


@pytest.mark.parametrize("identifier", PUBLISHED)
def test_every_adjacent_transposition_is_refused(identifier: str) -> None:
    # MOD 37,36 does not promise this in general (test_check_characters shows a
    # miss); for these identifiers every swap is caught, by it or by GB 32100.
    for i in range(len(identifier) - 1):
        if identifier[i] == identifier[i + 1]:
            continue
        swapped = identifier[:i] + identifier[i + 1] + identifier[i] + identifier[i + 2 :]
        with pytest.raises(IdentifierError):
            parse_zhengzhao_id(swapped)


def test_a_published_sample_with_a_wrong_check_character_is_refused() -> None:
    (sample,) = VECTORS["zhengzhaoIdsPublishedNotVerifying"]
    with pytest.raises(IdentifierError) as caught:
        parse_zhengzhao_id(sample)
    assert (caught.value.field, caught.value.reason) == ("checkCharacter", "check_character")


def _replace_field(index: int, value: str) -> str:
    parts = EXAMPLE[len(ROOT_ARC) + 1 :].split(".")
    parts[index] = value
    return ".".join((ROOT_ARC, *parts))


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (EXAMPLE.lower(), "typeCode", "character"),
        (EXAMPLE.replace("1.2.156.3005.2", "1.2.156.3005.1"), "rootArc", "structure"),
        (EXAMPLE[len(ROOT_ARC) + 1 :], "rootArc", "structure"),
        (EXAMPLE.rsplit(".", 1)[0], "zhengzhaoId", "structure"),
        (EXAMPLE + ".1", "zhengzhaoId", "structure"),
        (" " + EXAMPLE, "rootArc", "structure"),
        (EXAMPLE + " ", "checkCharacter", "length"),
        (_replace_field(0, "11100000000013338w011"), "typeCode", "character"),
        (_replace_field(0, "11100000000013338W01"), "typeCode", "length"),
        (_replace_field(0, "11100000000013338W0A1"), "typeCode", "character"),
        (_replace_field(0, "11100000000013338X011"), "typeCode", "check_character"),
        (_replace_field(1, "11430000006122244"), "issuingAgencyCode", "length"),
        (_replace_field(1, "1143000000612224OL"), "issuingAgencyCode", "character"),
        (_replace_field(1, "11430000006122244M"), "issuingAgencyCode", "check_character"),
        (_replace_field(2, ""), "serialNumber", "length"),
        (_replace_field(2, "2023000040a"), "serialNumber", "character"),
        (_replace_field(2, "9" * (SERIAL_MAX_LENGTH + 1)), "serialNumber", "length"),
        (_replace_field(2, "2023-0000403"), "serialNumber", "character"),
        (_replace_field(3, "01"), "version", "length"),
        (_replace_field(3, "0001"), "version", "length"),
        (_replace_field(3, "00A"), "version", "character"),
        (_replace_field(4, ""), "checkCharacter", "length"),
        (_replace_field(4, "UU"), "checkCharacter", "length"),
        (_replace_field(4, "u"), "checkCharacter", "character"),
        (_replace_field(4, "V"), "checkCharacter", "check_character"),
        ("x" * 300, "zhengzhaoId", "length"),
    ],
)
def test_malformed_identifiers_are_refused_naming_the_field(
    text: str, field: str, reason: str
) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_zhengzhao_id(text)
    assert (caught.value.field, caught.value.reason) == (field, reason)


def test_errors_never_echo_the_value() -> None:
    for text in (_replace_field(4, "V"), _replace_field(2, "SECRET0ID00"), "1.2.156.3005.2.X"):
        with pytest.raises(IdentifierError) as caught:
            parse_zhengzhao_id(text)
        message = str(caught.value)
        assert "SECRET" not in message
        assert "11100000000013338W" not in message
        assert "1.2.156.3005.2.X" not in message


def test_a_non_string_is_refused() -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_zhengzhao_id(b"1.2.156.3005.2")
    assert (caught.value.field, caught.value.reason) == ("zhengzhaoId", "type")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"version": 1000}, "version"),
        ({"version": -1}, "version"),
        ({"version": True}, "version"),
        ({"version": "001"}, "version"),
        ({"serial_number": "abc"}, "serialNumber"),
        ({"serial_number": 42}, "serialNumber"),
        ({"type_code": "11100000000013338W"}, "typeCode"),
        ({"issuing_agency_code": "11430000006122244"}, "issuingAgencyCode"),
    ],
)
def test_construction_validates_every_field(kwargs: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {
        "type_code": "11100000000013338W011",
        "issuing_agency_code": "11430000006122244L",
        "serial_number": "20230000403",
        "version": 1,
        **kwargs,
    }
    with pytest.raises(IdentifierError) as caught:
        ZhengzhaoId(**fields)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_versions_are_written_with_three_digits() -> None:
    made = ZhengzhaoId("11100000000013338W011", "11430000006122244L", "1", 999)
    assert str(made).split(".")[-2] == "999"
    assert parse_zhengzhao_id(str(made)).version == 999


def test_validate_type_code_accepts_the_published_type_codes() -> None:
    for identifier in PUBLISHED:
        type_code = identifier.split(".")[5]
        assert validate_type_code(type_code) == type_code

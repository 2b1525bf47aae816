"""The small JSON Schema validator and the packaged schemas."""

from __future__ import annotations

from typing import Any

import pytest

from credentials.errors import SchemaDefinitionError, SchemaViolationError
from credentials.schema import _check_definition, load_schema, validate, validate_format
from credentials.templates import TEMPLATES


def rule(schema: dict[str, Any], value: Any) -> str | None:
    try:
        validate(schema, value)
    except SchemaViolationError as exc:
        return exc.pointer
    return None


def test_assertions() -> None:
    schema = {
        "type": "object",
        "required": ["a"],
        "additionalProperties": False,
        "properties": {
            "a": {"type": "string", "pattern": "^[a-z]{2,3}$"},
            "n": {"type": "integer", "minimum": 1, "maximum": 3},
            "e": {"enum": ["x", 1]},
            "c": {"const": [1, {"k": True}]},
            "l": {"type": "array", "items": {"type": "number"}, "maxItems": 2},
            "d": {"type": "string", "format": "date"},
        },
    }
    assert rule(schema, {"a": "ab"}) is None
    assert rule(schema, {}) == "/a"
    assert rule(schema, {"a": "ab\n"}) == "/a"  # "$" is the very end, as in ECMA-262
    assert rule(schema, {"a": "ab", "z": 1}) == "/z"
    assert rule(schema, {"a": "ab", "n": 4}) == "/n"
    assert rule(schema, {"a": "ab", "n": True}) == "/n"
    assert rule(schema, {"a": "ab", "n": 2.0}) is None
    assert rule(schema, {"a": "ab", "e": True}) == "/e"
    assert rule(schema, {"a": "ab", "e": 1.0}) is None
    assert rule(schema, {"a": "ab", "c": [1, {"k": 1}]}) == "/c"
    assert rule(schema, {"a": "ab", "l": [1, "x"]}) == "/l/1"
    assert rule(schema, {"a": "ab", "l": [1, 2, 3]}) == "/l"
    assert rule(schema, {"a": "ab", "d": "2024-02-30"}) == "/d"


def test_required_can_be_waived_per_pointer() -> None:
    schema = {"type": "object", "required": ["a", "b"], "properties": {}}
    with pytest.raises(SchemaViolationError):
        validate(schema, {"a": 1})
    validate(schema, {"a": 1}, not_required={"": frozenset({"b"})})


def test_formats() -> None:
    assert validate_format("date", "2024-02-29")
    assert not validate_format("date", "2023-02-29")
    assert validate_format("date-time", "2026-05-01T08:30:00Z")
    assert validate_format("date-time", "2026-05-01T08:30:00.125Z")
    for bad in ("2026-05-01T08:30:00+08:00", "2026-05-01 08:30:00Z", "2026-05-01T24:00:00Z"):
        assert not validate_format("date-time", bad)


def test_unknown_keywords_are_refused_at_load() -> None:
    with pytest.raises(SchemaDefinitionError):
        _check_definition({"type": "string", "oneOf": []}, "")
    with pytest.raises(SchemaDefinitionError):
        _check_definition({"properties": {"a": {"format": "email"}}}, "")


def test_every_template_schema_loads_and_matches_its_template() -> None:
    assert len(TEMPLATES) >= 4
    for template in TEMPLATES.values():
        schema = load_schema(template.schema_file)
        assert schema["$id"] == template.schema_id
        assert schema["properties"]["credentialSchema"]["const"]["id"] == template.schema_id
        assert template.disclosable
        assert set(template.disclosable) | set(template.clear) == set(template.claims)
        assert template.sd_slots >= len(template.disclosable) + 2
        assert template.sd_slots % 4 == 0

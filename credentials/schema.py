"""A small, strict JSON Schema (draft 2020-12) validator for the packaged certificate schemas.

Only the keywords the packaged schemas use are implemented, and a schema that
uses any other keyword is refused when it is loaded (``SchemaDefinitionError``),
so no constraint is ever silently ignored:

- assertions: ``type``, ``enum``, ``const``, ``pattern``, ``minLength``,
  ``maxLength``, ``minimum``, ``maximum``, ``minItems``, ``maxItems``,
  ``required``, ``format`` (``date``: ``YYYY-MM-DD``, a real calendar date;
  ``date-time``: UTC ``YYYY-MM-DDTHH:MM:SS[.fff]Z``; both asserted, not annotations);
- applicators: ``properties``, ``additionalProperties``, ``items``;
- annotations (ignored): ``$schema``, ``$id``, ``title``, ``description``,
  ``examples``, ``$comment``.

Errors name the JSON pointer and the rule, never the offending value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from credentials.errors import SchemaDefinitionError, SchemaViolationError

__all__ = ["load_schema", "validate", "validate_format"]

_ASSERTIONS = {
    "type",
    "enum",
    "const",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "required",
    "format",
}
_APPLICATORS = {"properties", "additionalProperties", "items"}
_ANNOTATIONS = {"$schema", "$id", "title", "description", "examples", "$comment"}
_KNOWN = _ASSERTIONS | _APPLICATORS | _ANNOTATIONS
_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])"
    r"(\.[0-9]{1,3})?Z",
    re.ASCII,
)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _check_definition(schema: Any, where: str) -> None:
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise SchemaDefinitionError(f"schema at {where or '/'} is not an object")
    unknown = set(schema) - _KNOWN
    if unknown:
        raise SchemaDefinitionError(
            f"schema at {where or '/'} uses unsupported keywords: {sorted(unknown)}"
        )
    kinds = schema.get("type")
    if kinds is not None:
        listed = kinds if isinstance(kinds, list) else [kinds]
        if not listed or any(k not in _TYPES for k in listed):
            raise SchemaDefinitionError(f"schema at {where or '/'} has an unknown type")
    if "format" in schema and schema["format"] not in ("date", "date-time"):
        raise SchemaDefinitionError(f"schema at {where or '/'} has an unsupported format")
    if "pattern" in schema:
        _pattern(schema["pattern"])
    for name, sub in schema.get("properties", {}).items():
        _check_definition(sub, f"{where}/properties/{_escape(name)}")
    if "additionalProperties" in schema:
        _check_definition(schema["additionalProperties"], f"{where}/additionalProperties")
    if "items" in schema:
        _check_definition(schema["items"], f"{where}/items")


@cache
def load_schema(filename: str) -> dict[str, Any]:
    """Load and check a schema shipped in ``credentials/schemas/`` (cached)."""
    text = resources.files("credentials").joinpath("schemas", filename).read_text("utf-8")
    schema = json.loads(text)
    _check_definition(schema, "")
    if not isinstance(schema, dict):
        raise SchemaDefinitionError(f"{filename} is not a JSON Schema object")
    return schema


def validate_format(kind: str, value: str) -> bool:
    """Whether ``value`` is a ``date`` or a UTC ``date-time`` as this package defines them."""
    pattern = _DATE if kind == "date" else _DATE_TIME
    match = pattern.fullmatch(value)
    if match is None:
        return False
    try:
        date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return False
    return True


@cache
def _pattern(source: str) -> re.Pattern[str]:
    """ECMA-262 semantics for a final ``$``: the very end, not before a trailing newline."""
    if source.endswith("$") and not source.endswith("\\$"):
        source = source[:-1] + r"\Z"
    return re.compile(source)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True != 1 and key order does not matter."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


_Validator = Callable[[Any, str, Mapping[str, frozenset[str]]], None]
_MISSING = object()
_COMPILED: dict[int, tuple[Any, _Validator]] = {}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "integer": (int, float),
    "number": (int, float),
}


def validate(
    schema: Mapping[str, Any] | bool,
    instance: Any,
    *,
    not_required: Mapping[str, frozenset[str]] | None = None,
    at: str = "",
) -> None:
    """Check ``instance`` against ``schema``; raise ``SchemaViolationError`` at the first failure.

    ``not_required`` maps a JSON pointer to property names whose ``required`` is waived
    there (claims a presentation may leave undisclosed). ``at`` is the pointer of
    ``instance`` inside a larger document (for messages and ``not_required``).
    The schema is compiled to closures on first use (and the compiled form cached).
    """
    _compiled(schema)(instance, at, not_required or {})


def _compiled(schema: Mapping[str, Any] | bool) -> _Validator:
    if isinstance(schema, bool):
        return _compile(schema)
    cached = _COMPILED.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    _check_definition(schema, "")
    compiled = _compile(schema)
    _COMPILED[id(schema)] = (schema, compiled)  # keeps ``schema`` alive: ids stay unique
    return compiled


def _accept(value: Any, pointer: str, waived: Mapping[str, frozenset[str]]) -> None:
    return None


def _refuse(value: Any, pointer: str, waived: Mapping[str, frozenset[str]]) -> None:
    raise SchemaViolationError(pointer, "is not allowed here")


def _compile(schema: Mapping[str, Any] | bool) -> _Validator:
    """One closure per schema node, with every keyword's parameters looked up once."""
    if schema is True:
        return _accept
    if schema is False or not isinstance(schema, Mapping):
        return _refuse
    kinds: list[str] | None = None
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    allowed = tuple({t for k in kinds for t in _PY_TYPES[k]}) if kinds else ()
    whole = kinds is not None and "integer" in kinds and "number" not in kinds
    type_rule = f"must be of type {'/'.join(kinds)}" if kinds else ""
    const = schema.get("const", _MISSING)
    enum = schema.get("enum")
    enum_strings = (
        frozenset(enum) if enum is not None and all(isinstance(e, str) for e in enum) else None
    )
    min_length, max_length = schema.get("minLength"), schema.get("maxLength")
    pattern = _pattern(schema["pattern"]) if "pattern" in schema else None
    fmt = schema.get("format")
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    min_items, max_items = schema.get("minItems"), schema.get("maxItems")
    items = _compile(schema["items"]) if "items" in schema else None
    required = tuple(schema.get("required", ()))
    properties = {k: _compile(v) for k, v in schema.get("properties", {}).items()}
    extra = _compile(schema.get("additionalProperties", True))
    escaped = {k: _escape(k) for k in [*properties, *required]}

    def run(value: Any, pointer: str, waived: Mapping[str, frozenset[str]]) -> None:
        kind = type(value)
        if kinds is not None and (
            kind not in allowed
            or (whole and kind is float and not value.is_integer())
            or (kind is bool and "boolean" not in kinds)
        ):
            raise SchemaViolationError(pointer, type_rule)
        if const is not _MISSING and not _same(const, value):
            raise SchemaViolationError(pointer, "must equal the schema's constant")
        if enum is not None:
            listed = (
                value in enum_strings
                if enum_strings is not None and kind is str
                else enum_strings is None and any(_same(o, value) for o in enum)
            )
            if not listed:
                raise SchemaViolationError(pointer, "must be one of the schema's listed values")
        if kind is str:
            if min_length is not None and len(value) < min_length:
                raise SchemaViolationError(pointer, f"must be at least {min_length} chars")
            if max_length is not None and len(value) > max_length:
                raise SchemaViolationError(pointer, f"must be at most {max_length} chars")
            if pattern is not None and pattern.search(value) is None:
                raise SchemaViolationError(pointer, "does not match the schema's pattern")
            if fmt is not None and not validate_format(fmt, value):
                raise SchemaViolationError(pointer, f"must be a valid {fmt}")
        elif kind is int or kind is float:
            if minimum is not None and value < minimum:
                raise SchemaViolationError(pointer, f"must be at least {minimum}")
            if maximum is not None and value > maximum:
                raise SchemaViolationError(pointer, f"must be at most {maximum}")
        elif kind is list:
            if min_items is not None and len(value) < min_items:
                raise SchemaViolationError(pointer, f"must have at least {min_items} items")
            if max_items is not None and len(value) > max_items:
                raise SchemaViolationError(pointer, f"must have at most {max_items} items")
            if items is not None:
                for index, item in enumerate(value):
                    items(item, f"{pointer}/{index}", waived)
        elif kind is dict:
            skip = waived.get(pointer) if waived else None
            for name in required:
                if name not in value and (skip is None or name not in skip):
                    raise SchemaViolationError(f"{pointer}/{escaped[name]}", "is required")
            for name, member in value.items():
                check = properties.get(name)
                where = f"{pointer}/{escaped.get(name) or _escape(name)}"
                (check or extra)(member, where, waived)

    return run

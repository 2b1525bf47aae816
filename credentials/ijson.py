"""Strict JSON input: I-JSON (RFC 7493) with size, depth and array-length caps.

Everything a caller hands to ``credentials`` passes through here first, as bytes
(``parse``) or as an already-decoded value (``check``):

- UTF-8 only, no byte-order mark; no duplicate object keys; no lone surrogates
  in strings or keys (RFC 7493 s2.1, s2.3);
- numbers must be finite with magnitude at most 2^53 - 1 (RFC 7493 s2.2), and
  ``NaN``/``Infinity`` literals are refused;
- at most ``max_bytes`` bytes, ``max_depth`` nested arrays/objects (the top
  level counts as 1), ``max_array`` items per array.

Every failure raises ``InputRejectedError`` with a reason code from
``credentials.reasons`` and a message that never quotes the input.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credentials.errors import InputRejectedError
from credentials.reasons import Reason

__all__ = [
    "CREDENTIAL_LIMITS",
    "MAX_SAFE_INTEGER",
    "PRESENTATION_LIMITS",
    "Limits",
    "check",
    "parse",
]

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer magnitude accepted (the IEEE 754 double's exact range)."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_BRACKET = re.compile(r"[\[\]{}]")
_MAX_DEPTH_CAP = 256  # the C decoder recurses per level: keep far below the C stack


@dataclass(frozen=True)
class Limits:
    """Caps on one input document."""

    max_bytes: int = 64 * 1024
    max_depth: int = 16
    max_array: int = 1000

    def __post_init__(self) -> None:
        """Keep the depth cap where the decoder cannot exhaust the C stack."""
        if not 1 <= self.max_depth <= _MAX_DEPTH_CAP:
            raise ValueError(f"max_depth must be 1..{_MAX_DEPTH_CAP}")


CREDENTIAL_LIMITS = Limits()
"""Caps for one credential: 64 KiB, depth 16, 1,000 items per array."""

PRESENTATION_LIMITS = Limits(max_bytes=1024 * 1024, max_depth=16, max_array=1000)
"""Caps for one presentation: 1 MiB in all (each embedded credential is also held to
``CREDENTIAL_LIMITS``), depth 16, 1,000 items per array."""


def _reject(reason: Reason, message: str) -> InputRejectedError:
    return InputRejectedError(reason.value, message)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _reject(Reason.INPUT_DUPLICATE_KEY, "an object has a duplicate key")
    return result


def _integer(text: str) -> int:
    # Python refuses int() of more than 4,300 digits by itself; the length test is cheaper.
    if len(text) > 17:
        raise _reject(Reason.INPUT_NUMBER_OUT_OF_RANGE, "a number is outside +-(2^53 - 1)")
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise _reject(Reason.INPUT_NUMBER_OUT_OF_RANGE, "a number is outside +-(2^53 - 1)")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or abs(value) > MAX_SAFE_INTEGER:
        raise _reject(Reason.INPUT_NUMBER_OUT_OF_RANGE, "a number is outside +-(2^53 - 1)")
    return value


def _constant(_: str) -> Any:
    raise _reject(Reason.INPUT_NOT_JSON, "NaN and Infinity are not JSON")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_int=_integer, parse_float=_float, parse_constant=_constant
)


def parse(data: bytes | bytearray | memoryview | str, limits: Limits = CREDENTIAL_LIMITS) -> Any:
    """Decode one I-JSON document within ``limits``; raise ``InputRejectedError`` otherwise."""
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:
            raise _reject(Reason.INPUT_INVALID_STRING, "the text has a lone surrogate") from None
    elif isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
    else:
        raise TypeError("parse() takes bytes or str")
    if len(raw) > limits.max_bytes:
        raise _reject(
            Reason.INPUT_TOO_LARGE, f"the document is larger than {limits.max_bytes} bytes"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _reject(Reason.INPUT_NOT_UTF8, "the document is not valid UTF-8") from None
    if text.count("[") + text.count("{") > limits.max_depth:
        _check_nesting(text, limits.max_depth)
    try:
        value = _DECODER.decode(text)
    except InputRejectedError:
        raise
    except RecursionError:
        raise _reject(
            Reason.INPUT_TOO_DEEP, f"the document nests deeper than {limits.max_depth}"
        ) from None
    except ValueError as exc:
        position = getattr(exc, "pos", None)
        where = f" at byte offset {position}" if isinstance(position, int) else ""
        raise _reject(Reason.INPUT_NOT_JSON, f"the document is not JSON{where}") from None
    # Numbers were checked while decoding, and strict UTF-8 carries no surrogates: only a
    # \uD800-\uDFFF escape can bring a lone one in, so strings are walked only then.
    _check_containers(value, limits, strings=_SURROGATE_ESCAPE.search(text) is not None)
    return value


def _check_containers(value: Any, limits: Limits, *, strings: bool) -> None:
    """Depth and array caps over freshly decoded JSON (only ``dict``/``list`` containers)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        kind = type(item)
        if kind is dict:
            members = item.values()
            if strings and any(_SURROGATE.search(key) for key in item):
                raise _reject(Reason.INPUT_INVALID_STRING, "a key has a lone surrogate")
        elif kind is list:
            if len(item) > limits.max_array:
                raise _reject(
                    Reason.INPUT_ARRAY_TOO_LONG,
                    f"an array has more than {limits.max_array} items",
                )
            members = item
        else:
            if strings and kind is str and _SURROGATE.search(item):
                raise _reject(Reason.INPUT_INVALID_STRING, "a string has a lone surrogate")
            continue
        if depth > limits.max_depth:
            raise _reject(
                Reason.INPUT_TOO_DEEP, f"the document nests deeper than {limits.max_depth}"
            )
        for member in members:
            if strings or type(member) in (dict, list):
                push((member, depth + 1))


def _check_nesting(text: str, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` before the recursive decoder sees it."""
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > max_depth:
                raise _reject(Reason.INPUT_TOO_DEEP, f"the document nests deeper than {max_depth}")
        else:
            depth -= 1


def check(value: Any, limits: Limits = CREDENTIAL_LIMITS) -> None:
    """Check an already-decoded value: JSON types only, and the I-JSON rules and caps.

    Accepts ``dict`` (string keys), ``list``, ``str``, ``int``, ``float``, ``bool`` and
    ``None``; anything else (tuples, bytes, sets, NaN) is refused.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise _reject(Reason.INPUT_INVALID_STRING, "a string has a lone surrogate")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_SAFE_INTEGER:
                raise _reject(Reason.INPUT_NUMBER_OUT_OF_RANGE, "a number is outside +-(2^53 - 1)")
        elif isinstance(item, float):
            if not math.isfinite(item) or abs(item) > MAX_SAFE_INTEGER:
                raise _reject(Reason.INPUT_NUMBER_OUT_OF_RANGE, "a number is outside +-(2^53 - 1)")
        elif isinstance(item, Mapping):
            if depth > limits.max_depth:
                raise _reject(
                    Reason.INPUT_TOO_DEEP, f"the document nests deeper than {limits.max_depth}"
                )
            for key, member in item.items():
                if not isinstance(key, str):
                    raise _reject(Reason.INPUT_INVALID_TYPE, "an object key is not a string")
                if _SURROGATE.search(key):
                    raise _reject(Reason.INPUT_INVALID_STRING, "a key has a lone surrogate")
                stack.append((member, depth + 1))
        elif isinstance(item, list):
            if depth > limits.max_depth:
                raise _reject(
                    Reason.INPUT_TOO_DEEP, f"the document nests deeper than {limits.max_depth}"
                )
            if len(item) > limits.max_array:
                raise _reject(
                    Reason.INPUT_ARRAY_TOO_LONG,
                    f"an array has more than {limits.max_array} items",
                )
            stack.extend((member, depth + 1) for member in item)
        else:
            raise _reject(Reason.INPUT_INVALID_TYPE, "a value is not a JSON type")

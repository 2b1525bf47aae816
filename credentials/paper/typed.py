"""TB1's value layer: JSON values as compact CBOR items and back (strict on the way back).

``compact`` turns member names into codes and strings with one canonical
spelling into binary (``credentials.paper.vocabulary``); ``expand`` reverses it
and refuses every CBOR item TB1 does not write.
"""

from __future__ import annotations

import calendar
import re
import time
import uuid
from typing import Any, Final

import base58
import cbor2

from credentials.paper.errors import PaperCodecError
from credentials.paper.vocabulary import (
    CONSTANT_CODE,
    CONSTANT_OF,
    KEY_CODE,
    KEYS,
    TAG_DID_KEY,
    TAG_MULTIBASE,
    TAG_TIME,
    TAG_UUID,
)

__all__ = ["MAX_DEPTH", "compact", "expand"]

MAX_DEPTH: Final = 12
"""Deepest nesting a payload may have."""

_HEX = re.compile(r"(?:[0-9a-f]{2}){16,}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_MAX_SAFE_INT = 2**53


def _b58(text: str) -> bytes | None:
    try:
        raw: bytes = base58.b58decode(text)
    except ValueError:
        return None
    return raw if base58.b58encode(raw).decode("ascii") == text else None


def _seconds(text: str) -> int | None:
    try:
        seconds = calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None
    return seconds if _format_seconds(seconds) == text else None


def _format_seconds(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _typed(value: str) -> Any:
    """The binary form of a string with one canonical spelling, else the string."""
    if value in CONSTANT_CODE:
        return cbor2.CBORSimpleValue(CONSTANT_CODE[value])
    if _HEX.fullmatch(value):
        return bytes.fromhex(value)
    if value.startswith("did:key:z") and (raw := _b58(value[9:])) is not None:
        return cbor2.CBORTag(TAG_DID_KEY, raw)
    if value.startswith("z") and len(value) > 40 and (raw := _b58(value[1:])) is not None:
        return cbor2.CBORTag(TAG_MULTIBASE, raw)
    if value.startswith("urn:uuid:"):
        try:
            parsed = uuid.UUID(value[9:])
        except ValueError:
            return value
        if f"urn:uuid:{parsed}" == value:
            return cbor2.CBORTag(TAG_UUID, parsed.bytes)
    if _TIME.fullmatch(value) and (seconds := _seconds(value)) is not None:
        return cbor2.CBORTag(TAG_TIME, seconds)
    return value


def compact(value: Any) -> Any:
    """The CBOR data model of JSON ``value`` (codes, simple values, tags, bytes)."""
    if isinstance(value, dict):
        return {KEY_CODE.get(k, k): compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compact(v) for v in value]
    if isinstance(value, str):
        return _typed(value)
    return value


def expand(value: Any, depth: int = 0) -> Any:
    """The JSON value of a decoded CBOR item; ``PaperCodecError`` for any other type."""
    if depth > MAX_DEPTH:
        raise PaperCodecError("the payload nests too deeply")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = _key_name(key)
            if name in out:
                raise PaperCodecError("the payload repeats a member")
            out[name] = expand(item, depth + 1)
        return out
    if isinstance(value, list):
        return [expand(v, depth + 1) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise PaperCodecError("the payload holds an integer outside I-JSON's range")
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise PaperCodecError("the payload holds a number that is not finite")
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, cbor2.CBORSimpleValue):
        if value.value not in CONSTANT_OF:
            raise PaperCodecError("the payload holds an unknown constant")
        return CONSTANT_OF[value.value]
    if isinstance(value, cbor2.CBORTag):
        return _untag(value)
    raise PaperCodecError("the payload holds a CBOR item of a type TB1 does not use")


def _key_name(key: object) -> str:
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise PaperCodecError("the payload holds a member name that is not a string or code")
    if isinstance(key, str):
        return key
    if not 0 <= key < len(KEYS):
        raise PaperCodecError("the payload holds an unknown member code")
    return KEYS[key]


def _untag(item: cbor2.CBORTag) -> str:
    tag, value = item.tag, item.value
    if tag == TAG_TIME and type(value) is int and 0 <= value < 253402300800:
        return _format_seconds(value)
    if not isinstance(value, bytes):
        raise PaperCodecError("the payload holds a tagged value of the wrong type")
    if tag == TAG_DID_KEY:
        return "did:key:z" + base58.b58encode(value).decode("ascii")
    if tag == TAG_MULTIBASE:
        return "z" + base58.b58encode(value).decode("ascii")
    if tag == TAG_UUID and len(value) == 16:
        return f"urn:uuid:{uuid.UUID(bytes=value)}"
    raise PaperCodecError("the payload holds an unknown CBOR tag")

r"""RFC 8785 JSON Canonicalization Scheme (JCS).

``canonicalize`` is the only way this package turns JSON into bytes that are
hashed or signed. The reference is the ``rfc8785`` package (pure Python, which
passes the RFC 8785 vectors in ``tests/vectors/jcs``). Because issuance and
verification canonicalize a dozen small documents per credential, values that
can take a shortcut do:

For a value without floats whose object keys are all in the Basic Multilingual
Plane, ``json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"))``
produces exactly the JCS bytes: integers, ``true``/``false``/``null`` print the
same; strings escape the same characters the same way (``"``, ``\\``, ``\\b``,
``\\f``, ``\\n``, ``\\r``, ``\\t``, other controls as lowercase ``\\u00xx``, nothing
else); and sorting keys by code point equals JCS's sort by UTF-16 code units
when no key has a character above U+FFFF. Anything else (a float, an astral key)
goes to ``rfc8785``. Tests compare both paths on the vectors and on generated
documents.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from credentials.errors import InputRejectedError
from credentials.reasons import Reason
from ledger.crypto.sm3 import sm3

__all__ = ["canonicalize", "canonicalize_flat", "canonicalize_reference", "digest"]

_FAST = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False
)
_MAX_SAFE = 2**53 - 1


def _fast_ok(value: Any) -> bool:
    """Whether ``value`` has no float, no astral-plane key, and only JSON types."""
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_MAX_SAFE <= item <= _MAX_SAFE:
                continue
            return False
        if kind is dict:
            for key, member in item.items():
                if type(key) is not str or (key and max(key) > "\uffff"):
                    return False
                push(member)
            continue
        if kind is list:
            stack.extend(item)
            continue
        return False
    return True


def canonicalize_reference(value: Any) -> bytes:
    """JCS through the ``rfc8785`` package only (the reference the fast path is tested against)."""
    try:
        return bytes(rfc8785.dumps(value))
    except rfc8785.CanonicalizationError:
        raise InputRejectedError(
            Reason.INPUT_INVALID_TYPE.value, "the value cannot be canonicalised as I-JSON"
        ) from None


def canonicalize(value: Any) -> bytes:
    """The JCS bytes of ``value`` (dicts, lists, str, int, float, bool, None)."""
    if _fast_ok(value):
        try:
            return _FAST.encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let the reference path refuse it
    return canonicalize_reference(value)


def canonicalize_flat(values: list[Any]) -> bytes:
    """JCS of a flat array (a disclosure ``[salt, pointer, value]``), skipping the type walk.

    Falls back to ``canonicalize`` unless every item is a string, a safe integer, a
    boolean or null.
    """
    for item in values:
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int and -_MAX_SAFE <= item <= _MAX_SAFE:
            continue
        return canonicalize(values)
    try:
        return _FAST.encode(values).encode("utf-8")
    except UnicodeEncodeError:
        return canonicalize_reference(values)


def digest(value: Any) -> bytes:
    """SM3 of the JCS bytes of ``value`` (32 bytes)."""
    return sm3(canonicalize(value))

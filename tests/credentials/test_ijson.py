"""I-JSON input: duplicate keys, number range, strings, caps; errors never echo the input."""

from __future__ import annotations

from typing import Any

import pytest

from credentials.errors import InputRejectedError
from credentials.ijson import MAX_SAFE_INTEGER, Limits, check, parse
from credentials.reasons import Reason

SECRET = "张三-110101199003071234"


def reason_of(data: bytes | str, limits: Limits | None = None) -> str:
    with pytest.raises(InputRejectedError) as caught:
        parse(data, limits) if limits is not None else parse(data)
    assert SECRET not in str(caught.value)
    assert "110101199003071234" not in str(caught.value)
    return caught.value.reason


def test_plain_json_is_accepted() -> None:
    assert parse(b'{"a": [1, 2.5, "x", true, null], "b": {"c": -9007199254740991}}') == {
        "a": [1, 2.5, "x", True, None],
        "b": {"c": -9007199254740991},
    }


def test_duplicate_keys_are_refused() -> None:
    assert reason_of(f'{{"name": "{SECRET}", "name": "x"}}') == Reason.INPUT_DUPLICATE_KEY
    assert reason_of('{"a": {"b": 1, "b": 1}}') == Reason.INPUT_DUPLICATE_KEY


@pytest.mark.parametrize(
    "number", ["9007199254740992", "-9007199254740992", "1e16", "-1.5e300", "1" * 400]
)
def test_numbers_beyond_two_to_the_53_are_refused(number: str) -> None:
    assert reason_of(f'{{"n": {number}, "s": "{SECRET}"}}') == Reason.INPUT_NUMBER_OUT_OF_RANGE


def test_largest_safe_integers_pass() -> None:
    assert parse(f"[{MAX_SAFE_INTEGER}, -{MAX_SAFE_INTEGER}]") == [
        MAX_SAFE_INTEGER,
        -MAX_SAFE_INTEGER,
    ]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_literals_are_refused(literal: str) -> None:
    assert reason_of(f'{{"n": {literal}}}') == Reason.INPUT_NOT_JSON


def test_lone_surrogates_are_refused() -> None:
    assert reason_of('{"a": "\\ud800"}') == Reason.INPUT_INVALID_STRING
    assert reason_of('{"\\udfff": 1}') == Reason.INPUT_INVALID_STRING
    assert parse('{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_encoding_and_syntax() -> None:
    assert reason_of(b'{"a": "\xff"}') == Reason.INPUT_NOT_UTF8
    assert reason_of(b'\xef\xbb\xbf{"a": 1}') == Reason.INPUT_NOT_JSON
    assert reason_of(f'{{"a": "{SECRET}",}}') == Reason.INPUT_NOT_JSON
    assert reason_of(f'{{"a": "{SECRET}"}} trailing') == Reason.INPUT_NOT_JSON


def test_caps() -> None:
    small = Limits(max_bytes=64, max_depth=3, max_array=2)
    assert reason_of(b"[" + b"1," * 40 + b"1]", small) == Reason.INPUT_TOO_LARGE
    assert reason_of(b"[[[[1]]]]", small) == Reason.INPUT_TOO_DEEP
    assert parse(b"[[[1]]]", small) == [[[1]]]
    assert reason_of(b"[1, 2, 3]", small) == Reason.INPUT_ARRAY_TOO_LONG
    assert reason_of(b"[" * 100_000 + b"]" * 100_000, Limits(max_bytes=10**6)) == (
        Reason.INPUT_TOO_DEEP
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"a": (1, 2)}, Reason.INPUT_INVALID_TYPE),
        ({"a": b"x"}, Reason.INPUT_INVALID_TYPE),
        ({1: "x"}, Reason.INPUT_INVALID_TYPE),
        ({"a": float("nan")}, Reason.INPUT_NUMBER_OUT_OF_RANGE),
        ({"a": 2**60}, Reason.INPUT_NUMBER_OUT_OF_RANGE),
        ({"a": "\udc00"}, Reason.INPUT_INVALID_STRING),
        ([[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]], Reason.INPUT_TOO_DEEP),
        ({"a": list(range(1001))}, Reason.INPUT_ARRAY_TOO_LONG),
    ],
)
def test_decoded_values_are_checked_the_same_way(value: Any, reason: Reason) -> None:
    with pytest.raises(InputRejectedError) as caught:
        check(value)
    assert caught.value.reason == reason

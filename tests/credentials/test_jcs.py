"""RFC 8785 canonicalisation against every vector in tests/vectors/jcs, and the fast path."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import InputRejectedError
from credentials.jcs import canonicalize, canonicalize_flat, canonicalize_reference

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "jcs"
INPUTS = sorted((VECTORS / "testdata" / "input").glob("*.json"))


def test_the_vector_folder_is_complete() -> None:
    assert [p.name for p in INPUTS] == [
        "arrays.json",
        "french.json",
        "structures.json",
        "unicode.json",
        "values.json",
        "weird.json",
    ]


@pytest.mark.parametrize("source", INPUTS, ids=lambda p: p.stem)
def test_input_output_vectors(source: Path) -> None:
    value = json.loads(source.read_text("utf-8"))
    expected = (VECTORS / "testdata" / "output" / source.name).read_bytes()
    hexed = (VECTORS / "testdata" / "outhex" / f"{source.stem}.txt").read_text()
    assert canonicalize(value) == expected
    assert canonicalize_reference(value) == expected
    assert bytes.fromhex("".join(hexed.split())) == expected


def test_twenty_thousand_es6_numbers() -> None:
    lines = (VECTORS / "es6_numbers_first20000.txt").read_text().splitlines()
    assert len(lines) == 20_000
    failures = []
    for line in lines:
        bits, expected = line.split(",", 1)
        value = struct.unpack(">d", bytes.fromhex(bits.rjust(16, "0")))[0]
        if canonicalize(value).decode() != expected:
            failures.append(line)
    assert failures == []


def test_values_jcs_cannot_represent_are_refused() -> None:
    for value in (float("nan"), float("inf"), 2**53, {1: "x"}, b"bytes", "\ud800"):
        with pytest.raises(InputRejectedError):
            canonicalize(value)


def test_keys_sort_by_utf16_code_units_even_on_the_fast_path() -> None:
    # U+1F600 is a surrogate pair (D83D DE00) in UTF-16: before U+E000, after it by code point.
    value = {"\ue000": 1, "\U0001f600": 2, "a": 3}
    assert canonicalize(value) == canonicalize_reference(value)
    assert canonicalize(value).decode() == '{"a":3,"\U0001f600":2,"\ue000":1}'


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None)
@given(json_values)
def test_the_fast_path_equals_the_reference(value: Any) -> None:
    try:
        expected = canonicalize_reference(value)
    except InputRejectedError:
        with pytest.raises(InputRejectedError):
            canonicalize(value)
        return
    assert canonicalize(value) == expected


flat_items = st.lists(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.dictionaries(st.text(max_size=3), st.integers(0, 9), max_size=2),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(flat_items)
def test_the_flat_shortcut_equals_the_reference(values: list[Any]) -> None:
    try:
        expected = canonicalize_reference(values)
    except InputRejectedError:
        with pytest.raises(InputRejectedError):
            canonicalize_flat(values)
        return
    assert canonicalize_flat(values) == expected

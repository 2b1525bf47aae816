"""RDFC-1.0 canonicalization: the allow-list loader, JSON-LD safe mode, and the caps.

The poison graph is the RDFC-1.0 test suite's ``#test074c`` ("poison - Clique Graph",
a negative test: an implementation must refuse it), built from its manifest entry pinned
in ``tests/vectors/rdf-canon``.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pyld.nquads import parse_nquads  # type: ignore[import-untyped]

from credentials.contexts import CREDENTIALS_V1, CREDENTIALS_V2
from credentials.suites import CanonicalizationError, CanonLimits, canonize_rdfc
from credentials.suites.rdfc import canonize_nquads

MANIFEST_ENTRY = (
    Path(__file__).resolve().parents[2]
    / "vectors"
    / "rdf-canon"
    / "manifest-test074c.jsonld-fragment.txt"
)


def _poison_clique() -> str:
    """The input ``#test074c`` describes: a clique of N blank nodes, N from its comment."""
    entry = MANIFEST_ENTRY.read_text(encoding="utf-8")
    assert '"type": "rdfc:RDFC10NegativeEvalTest"' in entry
    match = re.search(r"A (\d+)-node Clique of blank node resources all inter-related", entry)
    assert match is not None
    size = int(match.group(1))
    return "".join(
        f"_:n{i} <http://example.com/p> _:n{j} .\n"
        for i in range(size)
        for j in range(size)
        if i != j
    )


def _small_credential(claim: str = "x") -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"name": claim, "knows": {"name": "nested blank node"}},
    }


def test_rdfc_poison_test074c_is_refused_within_the_work_cap() -> None:
    limits = CanonLimits()
    started = time.perf_counter()
    with pytest.raises(CanonicalizationError) as refused:
        canonize_nquads(parse_nquads(_poison_clique()), limits)
    elapsed = time.perf_counter() - started
    assert refused.value.reason == "canonicalization_limit"
    assert "work" in str(refused.value)
    assert elapsed < limits.max_seconds


def test_rdfc_poison_test074c_is_refused_by_the_time_cap_when_work_is_unbounded() -> None:
    limits = CanonLimits(max_work=10**12, max_seconds=0.3)
    started = time.perf_counter()
    with pytest.raises(CanonicalizationError) as refused:
        canonize_nquads(parse_nquads(_poison_clique()), limits)
    elapsed = time.perf_counter() - started
    assert refused.value.reason == "canonicalization_limit"
    assert "time" in str(refused.value)
    # The lower bound is the cap; the upper one only that it stopped the unbounded work
    # (minutes without it), with room for a loaded machine.
    assert 0.3 <= elapsed < 5.0


def test_other_threads_keep_running_while_a_poison_graph_is_refused() -> None:
    limits = CanonLimits(max_work=10**12, max_seconds=0.5)
    outcome: list[str] = []
    done = threading.Event()

    def poison() -> None:
        try:
            canonize_nquads(parse_nquads(_poison_clique()), limits)
            outcome.append("finished")
        except CanonicalizationError as error:
            outcome.append(error.reason)
        finally:
            done.set()

    worker = threading.Thread(target=poison)
    worker.start()
    small = 0
    while not done.is_set():
        canonize_rdfc(_small_credential(str(small)))
        small += 1
    worker.join(timeout=5)
    assert outcome == ["canonicalization_limit"]
    # Each small canonicalization takes about a millisecond alone; with the GIL shared
    # the main thread still completed many of them during the half-second refusal.
    assert small >= 20, small


def test_a_poison_graph_in_an_asyncio_executor_does_not_block_the_event_loop() -> None:
    async def scenario() -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        limits = CanonLimits(max_work=10**12, max_seconds=0.5)
        ticks = 0

        def poison() -> str:
            try:
                canonize_nquads(parse_nquads(_poison_clique()), limits)
            except CanonicalizationError as error:
                return error.reason
            return "finished"

        task = loop.run_in_executor(None, poison)
        while not task.done():
            await asyncio.sleep(0.005)
            ticks += 1
        return await task, ticks

    reason, ticks = asyncio.run(scenario())
    assert reason == "canonicalization_limit"
    assert ticks >= 20, ticks


def test_a_context_outside_the_allow_list_is_refused() -> None:
    document = {**_small_credential(), "@context": [CREDENTIALS_V2, "https://example.org/ctx"]}
    with pytest.raises(CanonicalizationError) as refused:
        canonize_rdfc(document)
    assert refused.value.reason == "context_not_allowed"
    assert "example.org" not in str(refused.value)


def test_safe_mode_refuses_a_term_no_context_defines() -> None:
    # VC 1.1 has no @vocab: an undefined member would be dropped by expansion.
    document = {
        "@context": [CREDENTIALS_V1],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "issuanceDate": "2020-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject"},
        "undefinedClaim": "would not be signed",
    }
    with pytest.raises(CanonicalizationError) as refused:
        canonize_rdfc(document)
    assert refused.value.reason == "jsonld_undefined_term"
    assert "would not be signed" not in str(refused.value)
    del document["undefinedClaim"]
    assert "credentials#issuer" in canonize_rdfc(document)


def test_safe_mode_refuses_a_relative_iri() -> None:
    document = {**_small_credential(), "id": "relative/credential"}
    with pytest.raises(CanonicalizationError) as refused:
        canonize_rdfc(document)
    assert refused.value.reason == "jsonld_relative_iri"


def test_literals_escaped_differently_by_rdfc_1_0_are_refused() -> None:
    with pytest.raises(CanonicalizationError) as refused:
        canonize_rdfc(_small_credential("bell\x07"))
    assert refused.value.reason == "canonicalization_unsupported_literal"
    assert '\\n"' in canonize_rdfc(_small_credential("line\n"))


@pytest.mark.parametrize(
    ("limits", "document", "reason"),
    [
        (CanonLimits(max_document_bytes=100), _small_credential("y" * 200), "document_limit"),
        (CanonLimits(max_depth=2), _small_credential(), "document_limit"),
        (CanonLimits(max_quads=2), _small_credential(), "canonicalization_limit"),
        (CanonLimits(max_context_loads=0), _small_credential(), "context_not_allowed"),
    ],
)
def test_input_and_expansion_caps(
    limits: CanonLimits, document: dict[str, Any], reason: str
) -> None:
    with pytest.raises(CanonicalizationError) as refused:
        canonize_rdfc(json.loads(json.dumps(document)), limits)
    assert refused.value.reason == reason


def test_blank_nodes_are_labelled_canonically_whatever_the_input_order() -> None:
    first = canonize_rdfc(_small_credential())
    reordered = _small_credential()
    reordered["credentialSubject"] = dict(reversed(list(reordered["credentialSubject"].items())))
    assert canonize_rdfc(reordered) == first
    assert "_:c14n0" in first
    assert "_:c14n1" in first

"""Time RDFC-1.0 libraries on the pinned vectors (run as a module).

Compares pyld (JSON-LD and RDFC-1.0 in Python, the chosen one) with pyoxigraph (Rust) for
correctness against the vectors' published canonical forms and time per canonicalization,
and times both on the rdf-canon poison clique. Not collected by pytest (no ``test_`` prefix);
figures are copied into ``docs/foreign-credentials.md``.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from pyld.nquads import parse_nquads, serialize_nquads  # type: ignore[import-untyped]

from credentials.suites import canonize_rdfc
from credentials.suites.rdfc import (
    DEFAULT_LIMITS,
    CanonicalizationError,
    _dataset,
    canonize_nquads,
    expand_safely,
)
from tests.credentials.suites.conftest import VECTORS, all_vectors


def _timed(function: Callable[[], Any], rounds: int = 200) -> tuple[Any, float]:
    samples = []
    result = None
    for _ in range(rounds):
        started = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - started)
    return result, statistics.median(samples) * 1000


def _clique(size: int) -> str:
    return "".join(
        f"_:n{i} <http://example.com/p> _:n{j} .\n"
        for i in range(size)
        for j in range(size)
        if i != j
    )


def _tick(stop: threading.Event, ticks: list[int]) -> None:
    """Append every millisecond until stopped: counts how often another thread got to run."""
    while not stop.is_set():
        ticks.append(1)
        time.sleep(0.001)


def main() -> None:
    """Print the comparison table."""
    import pyoxigraph as ox  # type: ignore[import-not-found,unused-ignore]  # measured only

    published = (VECTORS / "vc-di-ecdsa" / "rec" / "example-29-canonical-credential.nq").read_text()
    print("document | pyld ms | pyld+oxigraph ms | outputs equal | matches published")
    for vector in all_vectors():
        document = {k: v for k, v in vector.document.items() if k != "proof"}

        def with_pyld(document: dict[str, Any] = document) -> str:
            return canonize_rdfc(document)

        pyld_out, pyld_ms = _timed(with_pyld)

        def with_oxigraph(document: dict[str, Any] = document) -> str:
            dataset = _dataset(expand_safely(document), DEFAULT_LIMITS)
            graph = ox.Dataset(ox.parse(serialize_nquads(dataset), format=ox.RdfFormat.N_QUADS))
            graph.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
            return "".join(sorted(f"{quad} .\n" for quad in graph))

        ox_out, ox_ms = _timed(with_oxigraph)
        print(
            f"{vector.name} | {pyld_ms:.2f} | {ox_ms:.2f} | {ox_out == pyld_out} | "
            f"{pyld_out == published + chr(10)}"
        )
    try:
        list(ox.parse(
            '{"@context": "https://www.w3.org/ns/credentials/v2", "id": "urn:x", "name": "n"}',
            format=ox.RdfFormat.JSON_LD,
        ))  # fmt: skip
        print("oxigraph JSON-LD with a remote context: parsed (a loader was used)")
    except (SyntaxError, ValueError, OSError) as error:
        print(f"oxigraph JSON-LD with a remote context: refused ({type(error).__name__})")
    for size in (5, 6, 7):
        text = _clique(size)
        started = time.perf_counter()
        try:
            canonize_nquads(parse_nquads(text))
            outcome = "canonicalized"
        except CanonicalizationError as error:
            outcome = error.reason
        pyld_s = time.perf_counter() - started
        stop = threading.Event()
        ticks: list[int] = []
        ticker = threading.Thread(target=_tick, args=(stop, ticks))
        ticker.start()
        started = time.perf_counter()
        graph = ox.Dataset(ox.parse(text, format=ox.RdfFormat.N_QUADS))
        graph.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        ox_s = time.perf_counter() - started
        stop.set()
        ticker.join()
        print(
            f"clique {size}: pyld capped {outcome} in {pyld_s:.3f} s; "
            f"oxigraph uncapped {ox_s:.3f} s, other thread ticked {len(ticks)} times"
        )


if __name__ == "__main__":
    main()

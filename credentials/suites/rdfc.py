"""JSON-LD to RDF Dataset Canonicalization (RDFC-1.0), capped, with the packaged contexts only.

Expansion, RDF conversion and canonicalization come from ``pyld`` (Digital Bazaar's
JSON-LD processor; its ``URDNA2015`` is RDFC-1.0 with SHA-256, the algorithm's
former name). ``docs/foreign-credentials.md`` has the comparison with ``pyoxigraph``
that chose it. This module adds what a verifier of untrusted input needs:

- **Allow-list loader.** Context URLs resolve only to ``credentials.contexts``'
  packaged files; any other URL is refused (``context_not_allowed``), never fetched.
- **Safe mode.** A member that expansion would drop (a term no context defines) and
  a relative IRI that RDF conversion would drop make canonicalization fail
  (``jsonld_undefined_term``, ``jsonld_relative_iri``): a proof must never cover less
  than the document says.
- **Caps.** Input size and depth, remote context loads, quads, and the work of the
  canonicalization itself, counted in pyld's hot loop (every Hash First Degree Quads,
  Hash Related Blank Node and Hash N-Degree Quads call, and every issuer copy the
  N-degree permutation loop makes) together with a deadline checked as it counts.
  The cap therefore works in any thread (no signals): a poison graph ends with
  ``canonicalization_limit`` within the cap while other threads keep running.
- **Escaping.** pyld serializes literals with the older URDNA2015 N-Quads escaping,
  which differs from RDFC-1.0's canonical N-Quads only for control characters other
  than tab, newline and carriage return; such literals are refused
  (``canonicalization_unsupported_literal``) rather than canonicalized differently.

Errors are ``CanonicalizationError`` with a stable ``reason`` and a message that names
positions and members, never document values.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from pyld import jsonld  # type: ignore[import-untyped]
from pyld.canon import URDNA2015  # type: ignore[import-untyped]
from pyld.context_resolver import ContextResolver  # type: ignore[import-untyped]
from pyld.identifier_issuer import IdentifierIssuer  # type: ignore[import-untyped]

from credentials.contexts import CONTEXT_FILES, load_context

__all__ = [
    "DEFAULT_LIMITS",
    "CanonLimits",
    "CanonicalizationError",
    "WorkBudget",
    "canonize_nquads",
    "canonize_rdfc",
    "check_document_shape",
    "expand_safely",
]


@dataclass(frozen=True)
class CanonLimits:
    """Caps on one canonicalization (figures in ``docs/foreign-credentials.md``)."""

    max_document_bytes: int = 256 * 1024
    """Compact JSON size of the input document."""
    max_depth: int = 32
    """Nesting depth of objects and arrays in the input document."""
    max_context_loads: int = 16
    """Packaged context documents loaded by one expansion (the allow-list's size bounds it)."""
    max_quads: int = 10_000
    """Quads the document may expand to."""
    max_work: int = 50_000
    """Hash and permutation steps of the canonicalization algorithm."""
    max_seconds: float = 2.0
    """Wall-clock time of the canonicalization algorithm, checked as work is counted."""


DEFAULT_LIMITS = CanonLimits()
"""The limits ``canonize_rdfc`` applies unless told otherwise."""


class CanonicalizationError(ValueError):
    """A document that cannot be canonicalized within the rules; ``reason`` is stable."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class _ContextRefusedError(Exception):
    """Raised by the loader; recognised again through pyld's exception chain."""


class _LockedLRU(LRUCache[Any, Any]):
    """pyld's resolved-context cache, made safe for the verifier's thread pool."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self._lock = threading.RLock()

    def __getitem__(self, key: Any) -> Any:
        with self._lock:
            return super().__getitem__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        with self._lock:
            super().__setitem__(key, value)

    def get(self, key: Any, default: Any = None) -> Any:
        """The cached value of ``key`` or ``default``."""
        with self._lock:
            return super().get(key, default)


_RESOLVED_CONTEXTS = _LockedLRU(maxsize=64)


class WorkBudget:
    """Counts canonicalization steps against ``max_work`` and a deadline."""

    def __init__(self, limits: CanonLimits) -> None:
        self.limits = limits
        self.work = 0
        self.deadline = time.monotonic() + limits.max_seconds

    def tick(self, amount: int = 1) -> None:
        """Count ``amount`` steps; raise ``canonicalization_limit`` past either cap."""
        self.work += amount
        if self.work > self.limits.max_work:
            raise CanonicalizationError(
                "canonicalization_limit", "canonicalization exceeded its work cap"
            )
        if time.monotonic() > self.deadline:
            raise CanonicalizationError(
                "canonicalization_limit", "canonicalization exceeded its time cap"
            )


class _CountingIssuer(IdentifierIssuer):  # type: ignore[misc]
    """pyld's identifier issuer, counting the copies the permutation loop makes."""

    budget: WorkBudget

    def __deepcopy__(self, memo: dict[int, Any]) -> _CountingIssuer:
        self.budget.tick()
        twin = _CountingIssuer(self.prefix)
        twin.budget = self.budget
        twin.counter = self.counter
        twin.existing = dict(self.existing)
        twin.order = list(self.order)
        return twin


class _CappedRdfc(URDNA2015):  # type: ignore[misc]
    """pyld's RDFC-1.0 (URDNA2015) with every hot step counted against a budget."""

    def __init__(self, budget: WorkBudget) -> None:
        super().__init__()
        self._budget = budget

    def hash_first_degree_quads(self, id_: str) -> str:
        self._budget.tick()
        return str(super().hash_first_degree_quads(id_))

    def hash_related_blank_node(
        self, related: str, quad: dict[str, Any], issuer: Any, position: str
    ) -> str:
        self._budget.tick()
        return str(super().hash_related_blank_node(related, quad, issuer, position))

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> dict[str, Any]:
        self._budget.tick()
        if not isinstance(issuer, _CountingIssuer):
            # Step 6.2.2 makes a plain issuer; from here on every copy is counted.
            issuer.__class__ = _CountingIssuer
            issuer.budget = self._budget
        result: dict[str, Any] = super().hash_n_degree_quads(id_, issuer)
        return result


def check_document_shape(document: Any, limits: CanonLimits = DEFAULT_LIMITS) -> None:
    """Refuse a document over the size or depth cap (``document_limit``)."""
    depth = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            depth = max(depth, level)
            if depth > limits.max_depth:
                raise CanonicalizationError("document_limit", "document nests too deeply")
            members = value.values() if isinstance(value, dict) else value
            stack.extend((member, level + 1) for member in members)
    try:
        size = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))
    except (TypeError, ValueError):
        raise CanonicalizationError("document_invalid", "document is not JSON") from None
    if size > limits.max_document_bytes:
        raise CanonicalizationError("document_limit", "document exceeds the size cap")


def _loader(limits: CanonLimits) -> Callable[[str, Any], dict[str, Any]]:
    loads = 0

    def load(url: str, options: Any = None) -> dict[str, Any]:
        nonlocal loads
        del options
        if url not in CONTEXT_FILES:
            raise _ContextRefusedError
        loads += 1
        if loads > limits.max_context_loads:
            raise _ContextRefusedError
        return {"contextUrl": None, "documentUrl": url, "document": load_context(url)}

    return load


def _options(limits: CanonLimits) -> dict[str, Any]:
    loader = _loader(limits)
    return {
        "documentLoader": loader,
        "contextResolver": ContextResolver(_RESOLVED_CONTEXTS, loader, limits.max_context_loads),
        "base": None,  # pyld would resolve relative IRIs against an example.org default
        "extractAllScripts": False,
        "processingMode": "json-ld-1.1",
    }


def _refused_context(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, _ContextRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _absolute(iri: str) -> bool:
    return iri.startswith("_:") or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", iri) is not None


def _iris(expanded: Any) -> Iterator[str]:
    stack = [expanded]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            if "@value" in value:
                kind = value.get("@type")
                # "@json" is the JSON literal keyword (JSON-LD 1.1 section 4.2.2), not an IRI,
                # and the literal's own members are data, not IRIs.
                if isinstance(kind, str) and kind != "@json":
                    yield kind
                continue
            for key, member in value.items():
                if key == "@id" and isinstance(member, str):
                    yield member
                elif key == "@type":
                    yield from (member if isinstance(member, list) else [member])
                else:
                    stack.append(member)


def expand_safely(document: dict[str, Any], limits: CanonLimits = DEFAULT_LIMITS) -> Any:
    """JSON-LD expansion with the allow-list loader, refusing dropped terms and relative IRIs."""
    dropped = 0

    def on_dropped(_: str | None) -> None:
        nonlocal dropped
        dropped += 1

    processor = jsonld.JsonLdProcessor(on_property_dropped=on_dropped)
    try:
        expanded = processor.expand(document, _options(limits))
    except jsonld.JsonLdError as error:
        if _refused_context(error):
            raise CanonicalizationError(
                "context_not_allowed",
                "@context names a context outside the packaged allow-list (nothing is fetched)",
            ) from None
        raise CanonicalizationError("jsonld_invalid", "document is not valid JSON-LD") from None
    if dropped:
        raise CanonicalizationError(
            "jsonld_undefined_term",
            f"{dropped} member(s) use a term no @context defines (JSON-LD safe mode)",
        )
    if any(not _absolute(iri) for iri in _iris(expanded) if isinstance(iri, str)):
        raise CanonicalizationError(
            "jsonld_relative_iri", "an @id or @type is a relative IRI (JSON-LD safe mode)"
        )
    return expanded


_UNSUPPORTED_LITERAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _dataset(expanded: Any, limits: CanonLimits) -> dict[str, list[dict[str, Any]]]:
    processor = jsonld.JsonLdProcessor()
    options = _options(limits)
    try:
        dataset: dict[str, list[dict[str, Any]]] = processor.to_rdf(expanded, options)
    except jsonld.JsonLdError:
        raise CanonicalizationError("jsonld_invalid", "document has no RDF form") from None
    quads = sum(len(triples) for triples in dataset.values())
    if quads > limits.max_quads:
        raise CanonicalizationError("canonicalization_limit", "document expands to too many quads")
    for triples in dataset.values():
        for triple in triples:
            for component in triple.values():
                if _UNSUPPORTED_LITERAL.search(component.get("value", "")):
                    raise CanonicalizationError(
                        "canonicalization_unsupported_literal",
                        "a literal holds a control character RDFC-1.0 escapes differently",
                    )
    return dataset


def canonize_nquads(
    dataset: dict[str, list[dict[str, Any]]], limits: CanonLimits = DEFAULT_LIMITS
) -> str:
    """RDFC-1.0 canonical N-Quads of a pyld RDF dataset, within ``limits``' work and time caps."""
    budget = WorkBudget(limits)
    canonical: str = _CappedRdfc(budget).main(dataset, {"format": "application/n-quads"})
    return canonical


def canonize_rdfc(document: dict[str, Any], limits: CanonLimits = DEFAULT_LIMITS) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document (each line ends in a newline).

    Raises ``CanonicalizationError`` (``reason``: ``document_limit``, ``document_invalid``,
    ``context_not_allowed``, ``jsonld_invalid``, ``jsonld_undefined_term``,
    ``jsonld_relative_iri``, ``canonicalization_unsupported_literal`` or
    ``canonicalization_limit``).
    """
    if not isinstance(document, dict):
        raise CanonicalizationError("document_invalid", "a JSON-LD document is a JSON object")
    check_document_shape(document, limits)
    expanded = expand_safely(document, limits)
    return canonize_nquads(_dataset(expanded, limits), limits)

"""The JSON-LD contexts Tongban documents use, shipped in ``credentials/contexts/``.

Nothing is fetched at run time: ``load_context`` serves the packaged copy of each
URL, and any other URL is refused (a document loader for JSON-LD tooling can
wrap it). Tongban itself never expands JSON-LD: it signs and hashes the JCS form
(RFC 8785), so the contexts matter for interoperability (any JSON-LD processor
that reads a Tongban credential finds every term defined), not for security.

| URL | file | what |
|---|---|---|
| ``https://www.w3.org/ns/credentials/v2`` | ``credentials-v2.jsonld`` | W3C VC Data Model 2.0 |
| ``https://www.w3.org/ns/did/v1.1`` | ``did-v1.1.jsonld`` | W3C DID 1.1 (DID documents) |
| ``https://w3id.org/tongban/credentials/v1`` | ``tongban-v1.jsonld`` | Tongban terms |
| ``https://www.w3.org/2018/credentials/v1`` | ``credentials-v1.jsonld`` | VC 1.1 |
| ``https://www.w3.org/ns/credentials/examples/v2`` | ``credentials-examples-v2.jsonld`` | |
| ``https://w3id.org/security/data-integrity/v2`` | ``data-integrity-v2.jsonld`` | |
| ``https://w3id.org/security/multikey/v1`` | ``multikey-v1.jsonld`` | Multikey |
| ``https://w3id.org/security/suites/ed25519-2020/v1`` | ``ed25519-signature-2020-v1.jsonld`` | |

The last five serve the verification of foreign Data Integrity proofs
(``credentials.suites``), whose JSON-LD document loader serves only this table.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "CONTEXT_FILES",
    "CREDENTIALS_EXAMPLES_V2",
    "CREDENTIALS_V1",
    "CREDENTIALS_V2",
    "DATA_INTEGRITY_V2",
    "DID_V1_1",
    "ED25519_2020_V1",
    "MULTIKEY_V1",
    "TONGBAN_V1",
    "TONGBAN_VOCAB",
    "defined_terms",
    "load_context",
]

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
"""The W3C VC 2.0 base context; always first in ``@context``."""

TONGBAN_V1 = "https://w3id.org/tongban/credentials/v1"
"""Tongban's context: certificate types, claims, ``disclosures``, the anchor proof."""

DID_V1_1 = "https://www.w3.org/ns/did/v1.1"
"""The W3C DID 1.1 context (DID documents, Multikey)."""

CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
"""The W3C VC Data Model 1.1 base context."""

CREDENTIALS_EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
"""The VC 2.0 examples context (one ``@vocab``), used by the W3C test vectors."""

DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
"""The W3C Data Integrity context (``DataIntegrityProof`` and its members)."""

MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
"""The Multikey verification method context."""

ED25519_2020_V1 = "https://w3id.org/security/suites/ed25519-2020/v1"
"""The context of the legacy ``Ed25519Signature2020`` proof type."""

TONGBAN_VOCAB = "https://w3id.org/tongban/vocab#"
"""The IRI prefix of every Tongban term."""

CONTEXT_FILES: dict[str, str] = {
    CREDENTIALS_V2: "credentials-v2.jsonld",
    DID_V1_1: "did-v1.1.jsonld",
    TONGBAN_V1: "tongban-v1.jsonld",
    CREDENTIALS_V1: "credentials-v1.jsonld",
    CREDENTIALS_EXAMPLES_V2: "credentials-examples-v2.jsonld",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
    ED25519_2020_V1: "ed25519-signature-2020-v1.jsonld",
}
"""Context URL -> packaged file name."""

_KEYWORDS = frozenset(
    {
        "@context",
        "@id",
        "@type",
        "@value",
        "@language",
        "@list",
        "@set",
        "@graph",
        "@vocab",
        "@protected",
        "@container",
        "@version",
    }
)


@cache
def _load(url: str) -> str:
    try:
        filename = CONTEXT_FILES[url]
    except KeyError:
        raise KeyError(f"no packaged JSON-LD context for {url}; nothing is fetched") from None
    return resources.files("credentials").joinpath("contexts", filename).read_text("utf-8")


def load_context(url: str) -> dict[str, Any]:
    """The packaged context document for ``url`` (a fresh copy); KeyError for unknown URLs."""
    document = json.loads(_load(url))
    if not isinstance(document, dict):
        raise ValueError(f"packaged context for {url} is not a JSON object")
    return document


def _collect(context: Any, into: set[str]) -> None:
    if isinstance(context, list):
        for item in context:
            _collect(item, into)
        return
    if not isinstance(context, dict):
        return
    for term, definition in context.items():
        if not term.startswith("@"):
            into.add(term)
        if isinstance(definition, dict) and "@context" in definition:
            _collect(definition["@context"], into)


@cache
def defined_terms(urls: tuple[str, ...] = (CREDENTIALS_V2, TONGBAN_V1, DID_V1_1)) -> frozenset[str]:
    """Every term defined anywhere (top level or scoped) in the given packaged contexts.

    JSON-LD keywords (``@context``, ``@id``...) are included, so a document's keys can
    be checked against the result directly.
    """
    terms: set[str] = set(_KEYWORDS)
    for url in urls:
        _collect(load_context(url)["@context"], terms)
    return frozenset(terms)

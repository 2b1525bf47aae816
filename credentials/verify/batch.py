"""Many credentials verified in one request, item by item (``POST /credentials/verify/batch``).

A province checking a class of diplomas sends up to ``MAX_BATCH`` credentials with one
set of VC API ``options``. This module is that request's domain side, for every caller
(the HTTP route, tools):

- **options** are read once (``read_batch_options``), with the rules of ``POST
  /credentials/verify`` (``credentials.verify.vcapi.read_options``); an unknown or
  malformed option makes the whole request malformed, since it applies to every item;
- **each item** is held to the VC Data Model on its own (``vcapi.document_problems``):
  an item that is not a credential at all is a ``Malformed`` whose pointers start with
  ``/verifiableCredentials/<i>``, and the verifier never runs on it; every other item
  gets the checklist of ``Verifier.evaluate_credential`` exactly as the single route
  does, and is answered as a ``VcApiVerification``;
- **one clock reading and one chain state**: ``verify_chunk`` evaluates its items
  together (``Verifier.evaluate_credentials``): one clock reading (``now_ms``) judges
  every validity period, one read view of the chain index serves every item (they
  all report its ``indexHeight``) and the issuers, keys, anchors and status lists
  they share are read once. ``verify_batch`` verifies the whole batch as one chunk;
  ``verify_item`` verifies one item alone, in its own view (the per-credential path);
- **on every core**: ``verify_chunk(threads=n)`` checks the chunk's credentials on
  the calling thread and ``n - 1`` threads of a small pool of this module (sized by
  ``os.cpu_count()``), still in that one view: the SM2 verifications release the
  GIL, so they run side by side (``default_threads``);
- the caller runs a chunk where it likes (the route: in the thread pool, so the
  event loop keeps serving; the verifying threads hand the GIL over between items).

No access event is written here: the caller builds one per verified item
(``Verifier.access_event``) and records them together, before it answers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, cast

from credentials.verify.vcapi import (
    Malformed,
    VcApiVerification,
    VerifyOptions,
    document_problems,
    read_options,
)

if TYPE_CHECKING:
    from credentials.verify.verifier import Verifier

__all__ = [
    "BATCH_MEMBER",
    "CHUNK_SIZE",
    "MAX_BATCH",
    "Item",
    "Outcome",
    "chunks",
    "default_threads",
    "read_batch_options",
    "verify_batch",
    "verify_chunk",
    "verify_item",
]

MAX_BATCH = 1000
"""Most credentials one batch request carries (``ApiLimits.max_array`` too)."""

BATCH_MEMBER = "verifiableCredentials"
"""The request member holding the credentials; item pointers start with it."""

CHUNK_SIZE = 16
"""Credentials verified per chunk: a few tens of milliseconds of work each."""

Item = tuple[int, object]
"""A credential of the batch and its position in the request."""

Outcome = VcApiVerification | Malformed
"""What one item is: verified (decided or not), or not a credential at all."""


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def default_threads() -> int:
    """Threads a chunk is checked on by default: one per core."""
    return max(1, os.cpu_count() or 1)


def _helpers() -> ThreadPoolExecutor:
    """The pool that lends ``verify_chunk`` its extra threads, started on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            # One thread fewer than the cores: the calling thread checks credentials too.
            _pool = ThreadPoolExecutor(
                max_workers=max(1, default_threads() - 1), thread_name_prefix="verify-batch"
            )
        return _pool


def read_batch_options(options: object) -> VerifyOptions | Malformed:
    """The batch's ``options`` (``POST /credentials/verify``'s), or why they are malformed."""
    read = read_options("credential", options)
    if isinstance(read, list):
        return Malformed(tuple(read))
    return read


def chunks(documents: Sequence[object], size: int = CHUNK_SIZE) -> Iterator[list[Item]]:
    """The items of ``documents`` with their positions, ``size`` at a time, in order."""
    if size < 1:
        raise ValueError("a chunk holds at least one credential")
    for start in range(0, len(documents), size):
        yield [(start + i, each) for i, each in enumerate(documents[start : start + size])]


def verify_item(verifier: Verifier, item: Item, options: VerifyOptions, now_ms: int) -> Outcome:
    """One item alone, in its own index view: ``Malformed`` or verified.

    A ``Malformed`` item's pointers are under ``/verifiableCredentials/<i>``.
    """
    index, document = item
    problems = document_problems("credential", document, f"/{BATCH_MEMBER}/{index}")
    if problems:
        return Malformed(tuple(problems))
    # document_problems refused every document that is not an object.
    credential = cast("dict[str, Any]", document)
    result = verifier.evaluate_credential(credential, now_ms=now_ms)
    return VcApiVerification("credential", result, credential, options)


def verify_chunk(
    verifier: Verifier,
    items: Sequence[Item],
    options: VerifyOptions,
    now_ms: int,
    *,
    parsed: bool = False,
    threads: int = 1,
) -> list[Outcome]:
    """Each of ``items``, in order, in one index view (blocking: SM2, the chain index).

    An item that is not a credential is ``Malformed``; the others are evaluated
    together by ``Verifier.evaluate_credentials`` (``parsed``: the items are values
    ``credentials.ijson.parse`` decoded, a request body's), on ``threads`` threads:
    the calling one and ``threads - 1`` of this module's pool.
    """
    outcomes: list[Outcome | None] = []
    credentials: list[dict[str, Any]] = []
    for index, document in items:
        problems = document_problems("credential", document, f"/{BATCH_MEMBER}/{index}")
        if problems:
            outcomes.append(Malformed(tuple(problems)))
        else:
            # document_problems refused every document that is not an object.
            credentials.append(cast("dict[str, Any]", document))
            outcomes.append(None)
    results = iter(
        zip(
            credentials,
            verifier.evaluate_credentials(
                credentials,
                now_ms=now_ms,
                parsed=parsed,
                executor=_helpers() if threads > 1 and len(credentials) > 1 else None,
                threads=min(threads, len(credentials)),
            ),
            strict=True,
        )
    )
    verified: list[Outcome] = []
    for outcome in outcomes:
        if outcome is None:
            credential, result = next(results)
            outcome = VcApiVerification("credential", result, credential, options)
        verified.append(outcome)
    return verified


def verify_batch(
    verifier: Verifier,
    documents: Sequence[object],
    options: object,
    *,
    now_ms: int | None = None,
) -> list[Outcome] | Malformed:
    """Every item of a batch in order, or ``Malformed`` when ``options`` are (blocking).

    Raises ``ValueError`` for an empty batch or one over ``MAX_BATCH``: the caller's
    request shape says how many it takes.
    """
    if not 1 <= len(documents) <= MAX_BATCH:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH} credentials")
    read = read_batch_options(options)
    if isinstance(read, Malformed):
        return read
    now = verifier.clock() if now_ms is None else now_ms
    return verify_chunk(verifier, list(enumerate(documents)), read, now)

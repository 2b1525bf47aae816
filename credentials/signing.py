"""Building and signing credentials in parallel worker processes.

SM2 signing costs about 0.5 ms per credential and building one (claims, schema,
salts, digests, JCS) another few tenths of a millisecond of Python; to use both
cores the pure part of issuance (``credentials.credential.issue_credential``)
runs in a pool of worker processes, while storing, batching and anchoring stay
in the calling process (the writer owns batches and the outbox).

The workers hold the issuing private key in memory (sent once, when each worker
starts). A hardware signer (密码机) would instead sign in its own device and use
the in-process path.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

from credentials.credential import SignedCredential
from credentials.submitted import CredentialRequest, issue_any
from ledger.crypto.signer import LocalSigner, Signer
from ledger.crypto.sm2 import Sm2PrivateKey

__all__ = ["SigningPool", "sign_in_process"]

_WORKER_SIGNER: LocalSigner | None = None


def _init_worker(key_id: str, private_key: bytes) -> None:
    global _WORKER_SIGNER
    _WORKER_SIGNER = LocalSigner(key_id, Sm2PrivateKey.from_bytes(private_key))


def _issue_chunk(
    requests: Sequence[CredentialRequest], chain_id: int, issuer_id: int, now_ms: int
) -> list[SignedCredential]:
    if _WORKER_SIGNER is None:
        raise RuntimeError("signing worker was not initialised")
    return [
        issue_any(r, _WORKER_SIGNER, chain_id=chain_id, issuer_id=issuer_id, now_ms=now_ms)
        for r in requests
    ]


def sign_in_process(
    requests: Sequence[CredentialRequest],
    signer: Signer,
    *,
    chain_id: int,
    issuer_id: int,
    now_ms: int,
) -> list[SignedCredential]:
    """Build and sign every request in this process (the path without a pool)."""
    return [
        issue_any(r, signer, chain_id=chain_id, issuer_id=issuer_id, now_ms=now_ms)
        for r in requests
    ]


class SigningPool:
    """Worker processes that build and sign credentials with one issuing key."""

    def __init__(
        self, key_id: str, private_key: Sm2PrivateKey, *, workers: int = 2, chunk: int = 50
    ) -> None:
        """Start ``workers`` processes (spawned, so no lock or thread is inherited)."""
        self.key_id = key_id
        self.public_key = private_key.public_key
        self.chunk = max(1, chunk)
        self._executor: Executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(key_id, private_key.to_bytes()),
        )

    def issue(
        self, requests: Sequence[CredentialRequest], *, chain_id: int, issuer_id: int, now_ms: int
    ) -> list[SignedCredential]:
        """Build and sign ``requests`` in the workers; results in request order.

        The first error raised by any request is raised here (after every chunk
        finished), so a caller stores all or none.
        """
        chunks = [requests[i : i + self.chunk] for i in range(0, len(requests), self.chunk)]
        futures = [
            self._executor.submit(_issue_chunk, chunk, chain_id, issuer_id, now_ms)
            for chunk in chunks
        ]
        results: list[SignedCredential] = []
        error: BaseException | None = None
        for future in futures:
            try:
                results.extend(future.result())
            except Exception as exc:  # noqa: BLE001 - re-raised below, after all chunks
                error = error or exc
        if error is not None:
            raise error
        return results

    def close(self) -> None:
        """Stop the workers."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SigningPool:
        """Use as a context manager: ``close`` on exit."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the workers."""
        self.close()

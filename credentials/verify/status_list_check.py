"""The Bitstring Status List check, reported beside check (4).

A credential may carry ``credentialStatus`` entries of type
``BitstringStatusListEntry`` (``credentials.status_list``; docs/status-list.md).
For a Tongban credential the chain decides its status (check 4, unchanged); the
list check is *reported* in the result's ``statusList`` member, one ``ListFinding``
per entry, with whether the bit agrees with the chain. For a foreign credential
(``credentials.verify.foreign``) it is the only status there is, and it decides
check (4) (``foreign_status``).

The list credential is obtained through the verifier's injected ``FetchList``
(``url -> bytes | None``; None: unreachable, the specification's
``STATUS_RETRIEVAL_ERROR``, reported SKIPPED; ``FetchRefusedError``: the fetcher
does not fetch that URL, SKIPPED ``status_list_not_fetched``). Every list is
fetched before the chain index is read (``prefetch``), so no network wait holds a
read transaction open. Its proof is checked with the issuer's key: for a
``did:tongban`` issuer the registry key as of the index height, by the same key
decoding as check (1) (``tongban_list_verifier``; a key marked compromised is not
trusted for lists); for a foreign issuer the suites, by a method the issuer controls
(``foreign_list_verifier``). The list's issuer must be the credential's.

Each verifier process keeps a ``ListCache`` (``LIST_CACHE``), keyed by the SM3 of the
fetched bytes: their I-JSON parse, and for a ``did:tongban`` list, the list as it
passed the proof check and its decoding (``VerifiedList``), keyed also by the registry
key record the proof was checked with. The key is still looked up for every
verification (an index read, cached per generation); a key now marked compromised,
or a different key under that id, misses the cache and takes the full check. What a
hit skips is JCS + SM3 + one SM2 verification and the gunzip of the bitstring, per
list; entries still get every entry-dependent step of section 3.2. Bounded in
entries and in age (``ListCache``). A foreign list's proofs are checked every time
(resolving its methods is the suites' business).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from credentials.did import parse_issuer_verification_method
from credentials.errors import InputRejectedError
from credentials.ijson import Limits, parse
from credentials.reasons import CheckStatus, Reason
from credentials.status import DigestStatus
from credentials.status_list import (
    ENTRY_TYPE,
    LIST_CREDENTIAL_TYPE,
    LIST_SIZE,
    LIST_TYPE,
    MAX_LIST_BYTES,
    ListStatus,
    Purpose,
    StatusListError,
    StatusListFormatError,
    bit_at,
    decode_list,
    entry_fields,
    list_proof_verifier,
    list_purposes_of,
    list_status,
    list_subject,
)
from credentials.suites import verify_proofs
from credentials.vcdm import as_list
from credentials.verify.chain_state import ChainState
from credentials.verify.checks import registry_key
from credentials.verify.outcome import Failed, Passed, Skipped
from credentials.verify.result import ListFinding, StatusFinding
from ledger.chain.contracts.registry import KeyRecord
from ledger.crypto.sm2 import Sm2PublicKey
from ledger.crypto.sm3 import sm3

__all__ = [
    "LIST_CACHE",
    "LIST_LIMITS",
    "FetchList",
    "FetchRefusedError",
    "ListCache",
    "Retrieved",
    "TongbanListProof",
    "VerifiedList",
    "check_entries",
    "entry_status",
    "foreign_list_verifier",
    "foreign_status",
    "list_urls",
    "prefetch",
    "tongban_list_verifier",
    "verify_list",
]

log = logging.getLogger(__name__)

FetchList = Callable[[str], bytes | None]
"""Gets a status list credential's bytes by its URL; None when it could not be retrieved."""

LIST_LIMITS = Limits(max_bytes=512 * 1024, max_depth=16, max_array=1000)
"""Caps on a fetched list credential (a Tongban list of random bits is about 22 KB)."""

_PURPOSE_REASONS = {
    Purpose.REVOCATION.value: Reason.REVOKED,
    Purpose.SUSPENSION.value: Reason.SUSPENDED,
}
_CHAIN_STATE = {
    Purpose.REVOCATION.value: DigestStatus.REVOKED,
    Purpose.SUSPENSION.value: DigestStatus.SUSPENDED,
}


class FetchRefusedError(Exception):
    """The fetcher does not fetch this URL (not this province's, not allowed); never names it."""


@dataclass(frozen=True)
class Retrieved:
    """What fetching one list gave: the decoded list, or why there is none."""

    document: Mapping[str, Any] | None
    refused: str | None = None
    malformed: bool = False
    digest: bytes | None = None
    """The SM3 of the fetched bytes (None: nothing was fetched)."""


@dataclass(frozen=True)
class VerifiedList:
    """A list credential that passed every step of section 3.2 no entry takes part in.

    Its proofs verified, its data model MUSTs hold, its bitstring decoded and is long
    enough. What is left for an entry (``entry_status``): its own fields, the list's
    ``id``, the purpose and the index.
    """

    list_id: object
    purposes: tuple[str, ...]
    status_block: int | None
    bits: bytes


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Bounded(Generic[K, V]):
    """At most ``entries`` values, each for at most ``seconds``; the oldest goes first."""

    def __init__(self, entries: int, seconds: float, clock: Callable[[], float]) -> None:
        self.entries = entries
        self.seconds = seconds
        self.clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._items[key]
                return None
            return found[1]

    def put(self, key: K, value: V) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            self._items.pop(key, None)
            while len(self._items) >= self.entries:
                self._items.popitem(last=False)
            self._items[key] = (self.clock() + self.seconds, value)


class ListCache:
    """Lists parsed and lists verified, per process, by the SM3 of their bytes (see the module).

    ``entries`` bounds each of the two tables (0: nothing is kept), ``seconds`` the age
    of an entry. The parsed documents are shared: nothing here or in the list checks
    modifies one.
    """

    def __init__(
        self,
        entries: int = 256,
        seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """An empty cache."""
        self.parsed: _Bounded[bytes, dict[str, Any]] = _Bounded(entries, seconds, clock)
        self.verified: _Bounded[tuple[bytes, Hashable], VerifiedList] = _Bounded(
            entries, seconds, clock
        )


LIST_CACHE = ListCache()
"""This process's cache (a benchmark may replace it, e.g. by ``ListCache(entries=0)``)."""


def _entries(document: Mapping[str, Any]) -> list[tuple[int, Any]]:
    return [
        (position, entry)
        for position, entry in enumerate(as_list(document.get("credentialStatus")))
        if isinstance(entry, Mapping) and entry.get("type") == ENTRY_TYPE
    ]


def list_urls(documents: Iterable[Mapping[str, Any]]) -> list[str]:
    """The distinct list URLs the credentials' status list entries name, in order."""
    urls: dict[str, None] = {}
    for document in documents:
        for _, entry in _entries(document):
            url = entry.get("statusListCredential")
            if isinstance(url, str):
                urls.setdefault(url)
    return list(urls)


def _retrieve(url: str, fetch: FetchList) -> Retrieved:
    try:
        data = fetch(url)
    except FetchRefusedError as refused:
        return Retrieved(None, refused=str(refused))
    except Exception:  # a failing fetcher is an unreachable list
        log.warning("fetching a status list failed", exc_info=True)
        return Retrieved(None)
    if data is None:
        return Retrieved(None)
    if len(data) > LIST_LIMITS.max_bytes:
        return Retrieved(None, malformed=True)
    digest = sm3(data)
    cache = LIST_CACHE
    known = cache.parsed.get(digest)
    if known is not None:
        return Retrieved(known, digest=digest)
    try:
        value = parse(data, LIST_LIMITS)
    except InputRejectedError:
        return Retrieved(None, malformed=True)
    if not isinstance(value, dict):
        return Retrieved(None, malformed=True)
    cache.parsed.put(digest, value)
    return Retrieved(value, digest=digest)


def prefetch(urls: Sequence[str], fetch: FetchList | None) -> dict[str, Retrieved]:
    """Each URL's list, fetched once (``fetch`` None: this verifier fetches no lists)."""
    if fetch is None:
        return {
            url: Retrieved(None, refused="this verifier is configured to fetch no status lists")
            for url in urls
        }
    return {url: _retrieve(url, fetch) for url in urls}


class TongbanListProof:
    """The proof check of a ``did:tongban`` issuer's list: its registry key, not compromised."""

    def __init__(self, issuer: str, chain_id: int, chain: ChainState) -> None:
        """The check of lists of ``issuer`` (the credential's), at ``chain``'s height."""
        self.issuer = issuer
        self.chain_id = chain_id
        self.chain = chain
        self._checked = list_proof_verifier(self._key_for)

    def _record(self, method: str) -> KeyRecord | None:
        parsed = parse_issuer_verification_method(method)
        if parsed.chain_id != self.chain_id:
            return None
        record = self.chain.key(parsed.issuer_id, parsed.key_id)
        if record is None or record.compromised_from is not None:
            return None
        return record

    def _key_for(self, method: str) -> Sm2PublicKey | None:
        record = self._record(method)
        return None if record is None else registry_key(record.public_key)

    def __call__(self, document: Mapping[str, Any]) -> bool:
        """Whether the list is the issuer's and its one proof verifies with a trusted key."""
        return document.get("issuer") == self.issuer and self._checked(document)

    def depends_on(self, document: Mapping[str, Any]) -> Hashable | None:
        """What the check of ``document`` depends on besides its bytes; None: not trusted now.

        The issuer, the proof's method and the registry key record it names (not
        compromised). Equal bytes and an equal answer here give the same check result.
        """
        if document.get("issuer") != self.issuer:
            return None
        proof = document.get("proof")
        if isinstance(proof, list) and len(proof) == 1:
            proof = proof[0]
        method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
        if not isinstance(method, str):
            return None
        try:
            record = self._record(method)
        except ValueError:
            return None
        if record is None:
            return None
        return (self.issuer, method, record.issuer_id, record.key_id, record.public_key)


def tongban_list_verifier(issuer: str, chain_id: int, chain: ChainState) -> TongbanListProof:
    """The proof check of a ``did:tongban`` issuer's list (``TongbanListProof``)."""
    return TongbanListProof(issuer, chain_id, chain)


def foreign_list_verifier(issuer: str, now: int) -> Callable[[Mapping[str, Any]], bool]:
    """The proof check of a foreign issuer's list: every proof verifies, by the issuer."""

    def verify(document: Mapping[str, Any]) -> bool:
        named = document.get("issuer")
        if isinstance(named, Mapping):
            named = named.get("id")
        if named != issuer:
            return False
        results = verify_proofs(dict(document), purpose="assertionMethod", now_ms=now)
        return bool(results) and all(r.verified and r.controller == issuer for r in results)

    return verify


def _finding(
    credential: int, position: int, found: ListStatus, chain: StatusFinding | None
) -> ListFinding:
    if found.error is not None:
        retrieval = found.error is StatusListError.STATUS_RETRIEVAL_ERROR
        return ListFinding(
            credential,
            position,
            found.purpose,
            found.index,
            CheckStatus.SKIPPED if retrieval else CheckStatus.INVALID,
            Reason(found.error.value.lower()).value,
            found.message,
            found.status_block,
            found.error.type_url,
        )
    reason = _PURPOSE_REASONS.get(found.purpose or "")
    if reason is None:
        return ListFinding(
            credential,
            position,
            found.purpose,
            found.index,
            CheckStatus.SKIPPED,
            Reason.NOT_APPLICABLE.value,
            "a status purpose this verifier does not judge",
            found.status_block,
        )
    agrees = None
    message = f"the list says {reason.value}" if found.is_set else "the bit is not set"
    if chain is not None:
        agrees = found.is_set == (chain.status is _CHAIN_STATE[found.purpose or ""])
        if not agrees:
            message += "; the chain says otherwise, and the verdict follows the chain"
    return ListFinding(
        credential,
        position,
        found.purpose,
        found.index,
        CheckStatus.INVALID if found.is_set else CheckStatus.VALID,
        reason.value if found.is_set else Reason.OK.value,
        message,
        found.status_block,
        chain_agrees=agrees,
    )


def check_entries(
    document: Mapping[str, Any],
    credential: int,
    retrieved: Mapping[str, Retrieved],
    verify_proof: Callable[[Mapping[str, Any]], bool],
    chain: StatusFinding | None = None,
) -> list[ListFinding]:
    """One finding per status list entry of ``document`` (section 3.2 for each).

    ``chain``: what check (4) read on chain, to report whether each bit agrees.
    """
    findings = []
    for position, entry in _entries(document):
        url = entry.get("statusListCredential")
        got = retrieved.get(url) if isinstance(url, str) else None
        if got is not None and (got.refused is not None or got.malformed):
            # The entry's own errors first: they need no list.
            found = list_status(entry, None, verify_proof=verify_proof)
            if found.error is StatusListError.STATUS_RETRIEVAL_ERROR:
                findings.append(_unfetched(credential, position, found, got))
                continue
        elif (
            got is not None
            and got.document is not None
            and got.digest is not None
            and isinstance(verify_proof, TongbanListProof)
        ):
            found = _cached_status(entry, got.document, got.digest, verify_proof)
        else:
            found = list_status(
                entry, None if got is None else got.document, verify_proof=verify_proof
            )
        findings.append(_finding(credential, position, found, chain))
    return findings


def _cached_status(
    entry: Any, document: Mapping[str, Any], digest: bytes, proof: TongbanListProof
) -> ListStatus:
    """``list_status`` for a fetched Tongban list, through ``LIST_CACHE``: the same answer."""
    fields = entry_fields(entry)
    depends = proof.depends_on(document)
    if isinstance(fields, ListStatus) or depends is None:
        return list_status(entry, document, verify_proof=proof)
    key = (digest, depends)
    cache = LIST_CACHE
    verified = cache.verified.get(key)
    if verified is None:
        answers: list[bool] = []

        def once(listed: Mapping[str, Any]) -> bool:
            # A list that fails is judged again by list_status for its exact error:
            # its proof is verified once all the same.
            if not answers:
                answers.append(proof(listed))
            return answers[0]

        verified = verify_list(document, once)
        if verified is None:
            return list_status(entry, document, verify_proof=once)
        cache.verified.put(key, verified)
    return entry_status(fields, verified)


def verify_list(
    document: Mapping[str, Any], verify_proof: Callable[[Mapping[str, Any]], bool]
) -> VerifiedList | None:
    """The entry-independent steps of ``list_status`` (3.2 steps 4, 6, 8, 9); None if any fails.

    On None, ``list_status`` gives the error: its steps interleave list and entry
    checks, so only a list that passes them all has this short form.
    """
    try:
        if "proof" not in document or not verify_proof(document):
            return None
    except Exception:  # noqa: BLE001 - a failing proof check is a failed verification
        return None
    kinds = document.get("type")
    subject = list_subject(document)
    if not isinstance(kinds, list) or LIST_CREDENTIAL_TYPE not in kinds:
        return None
    if subject is None or subject.get("type") != LIST_TYPE:
        return None
    purposes = list_purposes_of(subject.get("statusPurpose"))
    ttl = subject.get("ttl")
    if purposes is None or (
        ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0)
    ):
        return None
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        return None
    try:
        bits = decode_list(encoded, max_bytes=MAX_LIST_BYTES)
    except StatusListFormatError:
        return None
    if len(bits) * 8 < LIST_SIZE:
        return None
    block = subject.get("statusBlock")
    status_block = block if isinstance(block, int) and not isinstance(block, bool) else None
    return VerifiedList(document.get("id"), tuple(purposes), status_block, bits)


def entry_status(fields: tuple[str, int | None, str], verified: VerifiedList) -> ListStatus:
    """What ``list_status`` answers for an entry (its ``entry_fields``) and a verified list."""
    purpose, index, url = fields
    error, message = None, "ok"
    if verified.list_id is not None and verified.list_id != url:
        error = StatusListError.STATUS_VERIFICATION_ERROR
        message = "the status list credential's id is not the entry's statusListCredential"
    elif purpose not in verified.purposes:
        error = StatusListError.STATUS_VERIFICATION_ERROR
        message = "the entry's statusPurpose is not the list's statusPurpose"
    elif index is None or index >= len(verified.bits) * 8:
        error = StatusListError.RANGE_ERROR
        message = "credentialStatus.statusListIndex is outside the status list"
    if error is not None or index is None:
        return ListStatus(purpose, index, None, None, error, message)
    status = int(bit_at(verified.bits, index))
    return ListStatus(purpose, index, status, status == 0, None, message, verified.status_block)


def _unfetched(credential: int, position: int, found: ListStatus, got: Retrieved) -> ListFinding:
    if got.malformed:
        error = StatusListError.MALFORMED_VALUE_ERROR
        return ListFinding(
            credential,
            position,
            found.purpose,
            found.index,
            CheckStatus.INVALID,
            Reason.MALFORMED_VALUE_ERROR.value,
            "the status list is not an I-JSON object within the caps",
            error_type=error.type_url,
        )
    return ListFinding(
        credential,
        position,
        found.purpose,
        found.index,
        CheckStatus.SKIPPED,
        Reason.STATUS_LIST_NOT_FETCHED.value,
        f"the status list was not fetched: {got.refused}",
        error_type=StatusListError.STATUS_RETRIEVAL_ERROR.type_url,
    )


def foreign_status(
    document: Mapping[str, Any], findings: Sequence[ListFinding]
) -> Passed[None] | Skipped | Failed:
    """(4) for a foreign credential, from its status lists (the only status it has).

    A set bit or a broken list is INVALID; a list not retrieved leaves the status
    unknown (SKIPPED for a reason of its own, so the verdict is not VALID); no
    ``credentialStatus`` at all is ``not_applicable``.
    """
    for finding in findings:
        if finding.status is CheckStatus.INVALID:
            return Failed(Reason(finding.reason_code), f"status list entry {finding.entry}: "
                          f"{finding.message}", f"/credentialStatus/{finding.entry}")  # fmt: skip
    for finding in findings:
        if finding.status is CheckStatus.SKIPPED and finding.reason_code != Reason.NOT_APPLICABLE:
            return Skipped(
                Reason(finding.reason_code),
                f"status list entry {finding.entry}: {finding.message}",
            )
    if "credentialStatus" not in document:
        return Skipped(Reason.NOT_APPLICABLE, "the credential carries no status to check")
    if len(findings) < len(as_list(document["credentialStatus"])):
        return Skipped(
            Reason.STATUS_TYPE_UNSUPPORTED,
            "the credential names a status mechanism this verifier cannot check",
        )
    return Passed(None, "its status lists say neither revoked nor suspended")

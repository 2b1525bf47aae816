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
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from credentials.did import parse_issuer_verification_method
from credentials.errors import InputRejectedError
from credentials.ijson import Limits, parse
from credentials.reasons import CheckStatus, Reason
from credentials.status import DigestStatus
from credentials.status_list import (
    ENTRY_TYPE,
    ListStatus,
    Purpose,
    StatusListError,
    list_proof_verifier,
    list_status,
)
from credentials.suites import verify_proofs
from credentials.vcdm import as_list
from credentials.verify.chain_state import ChainState
from credentials.verify.checks import registry_key
from credentials.verify.outcome import Failed, Passed, Skipped
from credentials.verify.result import ListFinding, StatusFinding
from ledger.crypto.sm2 import Sm2PublicKey

__all__ = [
    "LIST_LIMITS",
    "FetchList",
    "FetchRefusedError",
    "Retrieved",
    "check_entries",
    "foreign_list_verifier",
    "foreign_status",
    "list_urls",
    "prefetch",
    "tongban_list_verifier",
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
    try:
        value = parse(data, LIST_LIMITS)
    except InputRejectedError:
        return Retrieved(None, malformed=True)
    if not isinstance(value, dict):
        return Retrieved(None, malformed=True)
    return Retrieved(value)


def prefetch(urls: Sequence[str], fetch: FetchList | None) -> dict[str, Retrieved]:
    """Each URL's list, fetched once (``fetch`` None: this verifier fetches no lists)."""
    if fetch is None:
        return {
            url: Retrieved(None, refused="this verifier is configured to fetch no status lists")
            for url in urls
        }
    return {url: _retrieve(url, fetch) for url in urls}


def tongban_list_verifier(
    issuer: str, chain_id: int, chain: ChainState
) -> Callable[[Mapping[str, Any]], bool]:
    """The proof check of a ``did:tongban`` issuer's list: its registry key, not compromised."""

    def key_for(method: str) -> Sm2PublicKey | None:
        parsed = parse_issuer_verification_method(method)
        if parsed.chain_id != chain_id:
            return None
        record = chain.key(parsed.issuer_id, parsed.key_id)
        if record is None or record.compromised_from is not None:
            return None
        return registry_key(record.public_key)

    checked = list_proof_verifier(key_for)
    return lambda document: document.get("issuer") == issuer and checked(document)


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
        else:
            found = list_status(
                entry, None if got is None else got.document, verify_proof=verify_proof
            )
        findings.append(_finding(credential, position, found, chain))
    return findings


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

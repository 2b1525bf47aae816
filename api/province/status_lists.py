"""Publishing the province's Bitstring Status Lists: the writer regenerates, workers serve.

The chain decides every bit. For each list number N opened by the issuer's slot
allocation (``credentials.issuance.status_slots``) the writer builds two
bitstrings at one chain index height: entry ``i`` of list N/revocation is set
when the digest bound to slot (N, i) is revoked on chain, entry ``i`` of
N/suspension when it is suspended; a reinstated digest (or one never changed)
is 0 in both. It signs each as a ``BitstringStatusListCredential`` with the
province's active credential key (the same ``sm2-jcs-2026`` proof as
credentials, one proof object) and stores the bytes with the height they
reflect (``statusBlock``). ``GET /status-lists/{n}/{purpose}`` serves them.

A list is regenerated (``StatusListPublisher.run``, the writer duty
``status-lists``, every ``status_list_seconds`` of the settings, default
``REGENERATION_SECONDS``) only when:

- it has never been published (a list just opened), or
- the chain index's status events on the list's bound digests changed (their
  count, highest or summed block: a new revocation, suspension or
  reinstatement, or a reorg that removed one), or the index went back below the
  published height, or
- the published one is older than ``REFRESH_SECONDS``, or another key signs now
  (a rotated or compromised key is replaced within one regeneration period), or
  the public base URL changed.

Delay between a status change becoming final and a verifier seeing it: the
change is indexed once it has ``confirmations`` blocks (the index follows every
0.25 s); the next ``status-lists`` run (at most one period P later) publishes
it; a verifier that cached the previous list (``Cache-Control: max-age`` and
``ttl`` are P) sees it at most that much later again. So at most
``confirmations`` blocks + 0.25 s + 2 x P (P = 30 s by default).

Crash safety: nothing here is the only copy of anything. Lists are rebuilt from
the chain index and the slot bindings, which are committed with the
credentials; a crash mid-run leaves the previous lists served until the next
run replaces them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from credentials.issuance import status_slots
from credentials.issuance.status_slots import PublishedList
from credentials.status import DigestStatus
from credentials.status_list import (
    PURPOSES,
    Purpose,
    bitstring,
    list_url,
    sign_list_credential,
    unsigned_list_credential,
)
from credentials.times import format_ms
from ledger.chain.index import ChainIndex, IndexView
from ledger.chain.index.schema import MetaRow
from ledger.clock import now_ms
from ledger.crypto.signer import Signer
from ledger.store.database import Database, Row, Transaction

__all__ = [
    "MEDIA_TYPE",
    "REFRESH_SECONDS",
    "REGENERATION_SECONDS",
    "RunReport",
    "StatusListPublisher",
    "default_public_base",
    "read_list",
]

log = logging.getLogger(__name__)

REGENERATION_SECONDS = 30
"""How often the writer looks for status changes; also ``max-age`` and ``ttl`` (x 1000)."""

REFRESH_SECONDS = 3600
"""A list is re-signed at least this often even when no status changed."""

MEDIA_TYPE = "application/vc"
"""VC 2.0 section 6.3: a verifiable credential secured with an embedded proof."""


def default_public_base(host: str, port: int) -> str | None:
    """``http://host:port`` for a bound address, or None when it names no stable place.

    Port 0 (a new port at every start) and wildcard hosts (``0.0.0.0``, ``::``)
    are not addresses others can use: set ``public_url`` then.
    """
    if port == 0:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:
        return None
    return f"http://[{host}]:{port}" if address.version == 6 else f"http://{host}:{port}"


def read_list(db: Database, list_number: int, purpose: str) -> PublishedList | None:
    """The published list credential of (``list_number``, ``purpose``), or None."""
    status_slots.prepare(db)
    with db.read() as tx:
        return status_slots.published(tx, list_number, purpose)


@dataclass(frozen=True)
class RunReport:
    """What one run did: the lists it (re)published and the index height they reflect."""

    published: tuple[int, ...]
    height: int | None


# The latest status event per bound digest decides; this narrows the digests to those
# with any event, read in the same snapshot as the IndexView that decides them.
# Driven from the issuer's status events (few) to the slots (many): CROSS JOIN fixes that
# order in SQLite and is a plain join elsewhere.
_TOUCHED = (
    "SELECT l.idx, l.digest, COUNT(*), MAX(s.block_number), SUM(s.block_number) "
    "FROM chain_index_statuses s CROSS JOIN status_list_slots l "
    "WHERE s.issuer_id = ? AND l.digest = s.digest AND l.list_number = ? "
    "GROUP BY l.idx, l.digest"
)


class StatusListPublisher:
    """Regenerates and stores the signed status lists of one issuer (the writer's duty)."""

    def __init__(
        self,
        db: Database,
        index: ChainIndex,
        issuer_id: int,
        issuer_did: str,
        signer: Callable[[], Signer],
        public_base: Callable[[], str | None],
        *,
        period_s: int = REGENERATION_SECONDS,
        refresh_s: int = REFRESH_SECONDS,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """Publish for ``issuer_id`` from ``index`` (which must read ``db``).

        ``signer()`` is the active credential signer (the key ring's), asked once
        per run; ``public_base()`` the province's public base URL (None: publish
        nothing and warn once).
        """
        self.db = db
        self.index = index
        self.issuer_id = issuer_id
        self.issuer_did = issuer_did
        self.signer = signer
        self.public_base = public_base
        self.period_s = period_s
        self.refresh_s = refresh_s
        self.clock = clock
        self._warned = False

    def run(self) -> RunReport:
        """Regenerate every list that is due (see the module); returns what it did."""
        base = self.public_base()
        if base is None:
            if not self._warned:
                log.warning(
                    "status lists not published: set public_url (the API's public base URL)"
                )
                self._warned = True
            return RunReport((), None)
        status_slots.prepare(self.db)
        with self.db.read() as tx:
            numbers = status_slots.list_numbers(tx)
        if not numbers:
            return RunReport((), None)
        signer = self.signer()  # only now: a province that has no list needs no key
        done: list[int] = []
        height: int | None = None
        for number in numbers:
            made = self._publish_if_due(number, base, signer)
            if made is not None:
                done.append(number)
                height = made
        return RunReport(tuple(done), height)

    def _publish_if_due(self, number: int, base: str, signer: Signer) -> int | None:
        now = self.clock()
        with self.db.read() as tx:
            meta = MetaRow.require(tx)
            touched = tx.fetchall(_TOUCHED, (self.issuer_id, number))
            fingerprint = _fingerprint(touched, base)
            if not self._due(tx, number, meta.height, fingerprint, signer.key_id, now):
                return None
            view = IndexView(tx, meta.height, meta.generation)
            revoked, suspended = self._bits(view, touched)
        documents = {
            Purpose.REVOCATION: revoked,
            Purpose.SUSPENSION: suspended,
        }
        created = format_ms(now)
        lists = []
        for purpose, bits in documents.items():
            unsigned = unsigned_list_credential(
                list_url=list_url(base, number, purpose.value),
                issuer_did=self.issuer_did,
                purpose=purpose.value,
                bits=bits,
                valid_from=created,
                block_number=meta.height,
                ttl_ms=self.period_s * 1000,
            )
            signed = sign_list_credential(unsigned, signer, created=created)
            body = json.dumps(signed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            lists.append(
                PublishedList(
                    list_number=number,
                    purpose=purpose.value,
                    document=body,
                    etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
                    block_number=meta.height,
                    key_id=signer.key_id,
                    fingerprint=fingerprint,
                    max_age_s=self.period_s,
                    signed_at_ms=now,
                )
            )
        with self.db.write() as tx:
            status_slots.publish(tx, lists)
        log.info("status list published", extra={"list": number, "block": meta.height})
        return meta.height

    def _due(
        self,
        tx: Transaction,
        number: int,
        height: int,
        fingerprint: str,
        key_id: str,
        now: int,
    ) -> bool:
        for purpose in PURPOSES:
            current = status_slots.published(tx, number, purpose.value)
            if (
                current is None
                or current.fingerprint != fingerprint
                or current.block_number > height
                or current.key_id != key_id
                or now - current.signed_at_ms >= self.refresh_s * 1000
            ):
                return True
        return False

    def _bits(self, view: IndexView, touched: list[Row]) -> tuple[bytes, bytes]:
        revoked: list[int] = []
        suspended: list[int] = []
        for row in touched:
            index, digest = int(row[0]), bytes(row[1])
            status = view.digest_status(self.issuer_id, digest).status
            if status is DigestStatus.REVOKED:
                revoked.append(index)
            elif status is DigestStatus.SUSPENDED:
                suspended.append(index)
        return bitstring(revoked), bitstring(suspended)


def _fingerprint(touched: list[Row], base: str) -> str:
    count = sum(int(r[2]) for r in touched)
    highest = max((int(r[3]) for r in touched), default=-1)
    summed = sum(int(r[4]) for r in touched)
    return f"{count}:{highest}:{summed}@{base}"

"""Which of the province's signing keys signs now: the chain decides, the keystore holds.

The active key is the signing key that (a) the keystore holds, (b) the chain
index lists for this issuer, and (c) is valid now by the registry's rule (not
before its valid-from, not retired, not compromised); among several, the one
added last. So a rotation takes effect in every process as soon as the new
key's registration is indexed, and a retired or compromised key stops signing
at once, without a restart.

Until some key is active (a key registered a moment ago, or none at all), the
audit log keeps signing with the newest keystore key, so accepted events always
get receipts; issuing refuses (``NoSigningKeyError``), because a credential
signed with an unregistered key could never verify.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from api.errors import ApiError, ProblemCode
from api.province.keys import ProvinceKeys
from ledger.audit.log import AuditLog
from ledger.chain.errors import ChainError
from ledger.chain.index import ChainIndex
from ledger.chain.node.client import ChainClient
from ledger.crypto.signer import LocalSigner

__all__ = ["NoSigningKeyError", "SigningKeyRing", "chain_clock"]

log = logging.getLogger(__name__)


class NoSigningKeyError(ApiError):
    """No signing key of the keystore is registered and valid on chain now."""

    code = ProblemCode.NO_SIGNING_KEY


def _now_s() -> int:
    return int(time.time())


def chain_clock(client: ChainClient) -> Callable[[], int]:
    """The latest block's timestamp, or the local clock when the node does not answer."""

    def now() -> int:
        try:
            return int(client.get_block("latest")["timestamp"], 16)
        except ChainError:
            return _now_s()

    return now


class SigningKeyRing:
    """Picks the active signing key and keeps the audit log's signer on it."""

    def __init__(
        self,
        keys: ProvinceKeys,
        index: ChainIndex,
        issuer_id: int,
        issuer_did: str,
        *,
        clock: Callable[[], int] = _now_s,
        ttl: float = 0.5,
    ) -> None:
        """Choose among ``keys``' signing keys by what ``index`` says of ``issuer_id``.

        ``clock`` is the chain's time in Unix seconds (compared with block times:
        a key counts once the chain's clock reached its valid-from); a choice is
        reused for ``ttl`` seconds.
        """
        self.keys = keys
        self.index = index
        self.issuer_id = issuer_id
        self.issuer_did = issuer_did
        self.clock = clock
        self.ttl = ttl
        self._lock = threading.Lock()
        self._checked = -1.0
        self._active: str | None = None
        self._logs: list[AuditLog] = []

    def active_key_id(self, *, fresh: bool = False) -> str | None:
        """The key id that signs now, or None when no keystore key is valid on chain.

        ``fresh`` decides again now instead of reusing a choice made within ``ttl``.
        """
        with self._lock:
            if not fresh and time.monotonic() - self._checked < self.ttl:
                return self._active
        held = set(self.keys.signing_key_ids())
        now = self.clock()
        with self.index.view() as view:
            records = view.keys(self.issuer_id)
        active = None
        for record in records:  # in the order added: the last valid one wins
            if record.key_id in held and record.is_valid_at(now):
                active = record.key_id
        with self._lock:
            self._active = active
            self._checked = time.monotonic()
        return active

    def credential_signer(self) -> LocalSigner:
        """The signer for credentials (``NoSigningKeyError`` when no key is active)."""
        key_id = self.active_key_id()
        if key_id is None:
            raise NoSigningKeyError(
                "no signing key of this province is registered and valid on chain now"
            )
        return self.keys.credential_signer(self.issuer_did, key_id)

    def log_key_id(self, *, fresh: bool = False) -> str:
        """The key id for receipts and checkpoints: the active key, else the newest held."""
        active = self.active_key_id(fresh=fresh)
        if active is not None:
            return active
        held = self.keys.signing_key_ids()
        if not held:
            raise NoSigningKeyError("the keystore holds no signing key")
        return held[-1]

    def log_signer(self) -> LocalSigner:
        """A signer for an audit log (its key id is the registry's key id)."""
        return self.keys.log_signer(self.log_key_id())

    def attach(self, audit_log: AuditLog) -> None:
        """Keep ``audit_log`` signing with the current log key (see ``refresh``)."""
        self._logs.append(audit_log)
        self.refresh()

    def refresh(self) -> None:
        """Swap the attached logs' signer if the active key changed.

        The log reads its ``signer`` attribute once per commit group, so a swap
        never mixes two keys in one receipt.
        """
        key_id = self.log_key_id(fresh=True)
        for audit_log in self._logs:
            if audit_log.signer.key_id != key_id:
                audit_log.signer = self.keys.log_signer(key_id)

    def follow(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Refresh every ``interval`` seconds until ``stop`` is set (a daemon thread)."""
        while not stop.wait(interval):
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - keep the last signer; retried next tick
                log.warning("signing key refresh failed", extra={"error": type(exc).__name__})

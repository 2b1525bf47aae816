"""The writer: the one process per province that does what must happen once.

API workers are stateless; everything that must not run twice (sending from
the province's EVM account through the outbox, signing and anchoring audit
checkpoints, sealing credential batches, following the chain) runs as a
*duty* of the process that holds the store lease ``writer``. Another writer
started by mistake, or a replacement after a crash, waits until the lease is
free or expired, then takes over with a higher fencing token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from api.province.governance import load_governor_account
from api.province.operations import WRITER_LEASE
from api.runtime.parts import ProvinceParts
from api.runtime.settings import Settings
from credentials.issuance import BatchAnchorer
from ledger.chain.contracts.credential_anchor import CredentialAnchor
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from ledger.clock import now_ms
from ledger.store.lease import Lease, LeaseLostError, Leases

log = logging.getLogger(__name__)


@dataclass
class Duty:
    """A named task the writer runs every ``interval`` seconds."""

    name: str
    interval: float
    run: Callable[[], object]
    last_run: float = 0.0
    last_error: str | None = None
    runs: int = 0


@dataclass
class WriterStatus:
    """What ``/readyz`` and metrics report about the writer."""

    holder: str
    lease: Lease | None
    duties: dict[str, tuple[int, str | None]] = field(default_factory=dict)


class WriterLoop:
    """Holds the writer lease and runs the duties while it holds it."""

    def __init__(
        self,
        leases: Leases,
        holder: str,
        duties: Sequence[Duty],
        *,
        ttl_ms: int = 15_000,
        tick: float = 0.1,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """Run ``duties`` as ``holder`` whenever the lease is ours."""
        self.leases = leases
        self.holder = holder
        self.duties = list(duties)
        self.ttl_ms = ttl_ms
        self.tick = tick
        self.clock = clock
        self.lease: Lease | None = None

    def _hold(self) -> bool:
        now = self.clock()
        if self.lease is not None:
            try:
                # Renew at a third of the lease time, so a slow duty cannot lose it.
                if self.lease.expires_at_ms - now < self.ttl_ms * 2 // 3:
                    self.lease = self.leases.renew(self.lease, self.ttl_ms, now)
                return True
            except LeaseLostError:
                log.warning("writer lease lost", extra={"holder": self.holder})
                self.lease = None
        self.lease = self.leases.acquire(WRITER_LEASE, self.holder, self.ttl_ms, now)
        if self.lease is not None:
            log.info("writer lease taken", extra={"holder": self.holder, "token": self.lease.token})
        return self.lease is not None

    def run_once(self) -> bool:
        """Run the duties that are due, if the lease is ours; returns whether it is."""
        if not self._hold():
            return False
        now = time.monotonic()
        for duty in self.duties:
            if now - duty.last_run < duty.interval:
                continue
            duty.last_run = now
            try:
                duty.run()
                duty.last_error = None
            except Exception as exc:  # noqa: BLE001 - one failing duty must not stop the others
                duty.last_error = type(exc).__name__
                log.warning(
                    "writer duty failed", extra={"duty": duty.name, "error": duty.last_error}
                )
            duty.runs += 1
            if not self._hold():
                return False
        return True

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set, then release the lease."""
        try:
            while not stop.is_set():
                self.run_once()
                stop.wait(self.tick)
        finally:
            if self.lease is not None:
                self.leases.release(self.lease)
                self.lease = None

    def status(self) -> WriterStatus:
        """The lease and each duty's run count and last error."""
        return WriterStatus(
            self.holder,
            self.lease,
            {d.name: (d.runs, d.last_error) for d in self.duties},
        )


def province_duties(
    parts: ProvinceParts, processors: Sequence[OutboxProcessor], batches: BatchAnchorer
) -> list[Duty]:
    """The writer's duties for one province, most urgent first.

    The index follows the chain every quarter second, so verification answers
    reflect chain state at most about one block old; batches are sealed and
    the outbox stepped at the same pace; checkpoints follow their policy.
    """
    duties = [
        Duty("chain-index", 0.25, parts.index.sync),
        Duty("credential-batches", 0.25, batches.seal_due),
    ]
    duties += [Duty(f"outbox-{p.sender.address[:10]}", 0.2, p.step) for p in processors]
    duties += [
        Duty("audit-checkpoints", 0.5, parts.checkpoints.maybe_checkpoint),
        Duty("signing-keys", 1.0, parts.keyring.refresh),
        Duty("index-prune", 300.0, parts.index.prune_block_hashes),
    ]
    return duties


def operator_outbox(parts: ProvinceParts, account: LocalAccount) -> OutboxProcessor:
    """The outbox processor of the province's own EVM account (anchors, statuses, admin)."""
    settings = parts.settings
    sender = NonceManager(
        parts.client,
        account,
        OutboxJournal(parts.db, account.address),
        finality_depth=settings.confirmations,
    )
    return OutboxProcessor(parts.db, sender, confirmations=settings.confirmations)


def governor_outbox(
    parts: ProvinceParts, settings: Settings, *, operator: str | None = None
) -> OutboxProcessor | None:
    """The processor of the governor account in ``settings.governor_keystore`` (None: none).

    It takes only the outbox items pinned to that account (``/governance``). None
    too when the governor is ``operator`` itself: the operator's processor
    already takes the items pinned to its account.
    """
    if settings.governor_keystore is None:
        return None
    account = load_governor_account(
        settings.governor_keystore, settings.governor_key_passphrase.get_secret_value()
    )
    if operator is not None and account.address == operator:
        return None
    sender = NonceManager(
        parts.client,
        account,
        OutboxJournal(parts.db, account.address),
        finality_depth=settings.confirmations,
    )
    return OutboxProcessor(parts.db, sender, confirmations=settings.confirmations, shared=False)


def batch_anchorer(parts: ProvinceParts) -> BatchAnchorer:
    """The credential batch anchorer over the configured CredentialAnchor."""
    anchor = CredentialAnchor(parts.client, parts.plan.addresses.credential_anchor)
    return BatchAnchorer(parts.db, parts.issuer_config, anchor)

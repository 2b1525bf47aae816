"""The writer: the one process per province that does what must happen once.

API workers are stateless; everything that must not run twice (sending from
the province's EVM account through the outbox, signing and anchoring audit
checkpoints, sealing credential batches, following the chain) runs as a
*duty* of the process that holds the store lease ``writer``. Another writer
started by mistake, or a replacement after a crash, waits until the lease is
free or expired, then takes over with a higher fencing token.

A failing duty is logged when it starts failing (``writer duty failed``: the
duty, the error class, its message via ``error_detail``, where it was raised,
the count of failures in a row), again at most once a minute while it keeps
failing the same way (``writer duty still failing``), and when it works again
(``writer duty recovered``). ``WriterMetrics`` counts runs, failures (by error
class) and durations per duty, anchors as the outbox makes them final, batch
sizes as they are sealed, and the chain head as the index sees it.

Idle, the duties back off: a duty with a ``max_interval`` whose run found
nothing to do (its ``idle`` judge says so) waits twice as long next time, up
to that cap, and is back at its short ``interval`` after the first run that
finds work, or at once when another duty wakes it (a sealed batch wakes the
outbox). The chain index polls a block filter (``ChainIndex.sync_new``) and
syncs only when a block arrived.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from api.http.metrics import ANCHOR_KINDS, WriterMetrics
from api.province import credential_offers
from api.province.governance import load_governor_account
from api.province.operations import WRITER_LEASE
from api.province.presentation_requests import purge_expired
from api.province.status_lists import StatusListPublisher
from api.runtime.logs import code_locations, error_detail
from api.runtime.parts import ProvinceParts, status_lists_base
from api.runtime.settings import Settings
from credentials.issuance import BatchAnchorer, SealedBatch
from credentials.issuance.store import PendingRow
from ledger.chain import outbox
from ledger.chain.contracts.credential_anchor import CredentialAnchor
from ledger.chain.errors import ChainUnavailableError
from ledger.chain.index.follower import SyncReport
from ledger.chain.node.backoff import ChainOutage
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor, StepReport
from ledger.store.database import Database
from ledger.store.lease import Lease, LeaseFence, LeaseLostError, Leases

log = logging.getLogger(__name__)

REPEAT_LOG_SECONDS = 60.0
"""A duty that keeps failing the same way is logged again at most this often."""


PRESENTATION_PURGE_SECONDS = 60.0
"""How often the writer purges OpenID4VP requests past their retention (docs/oid4vp.md)."""

OFFER_PURGE_SECONDS = 60.0
"""How often the writer deletes expired credential offers and their claims (docs/oid4vci.md)."""


def nothing_done(result: object) -> bool:
    """The default ``Duty.idle`` judge: a run that returned nothing (None, empty) found no work."""
    return not result


@dataclass
class Duty:
    """A named task the writer runs every ``interval`` seconds, less often while idle.

    With ``max_interval``, each run that ``idle`` judges idle from its result
    doubles the wait before the next one, up to ``max_interval``; a run that
    found work, a failure, or ``wake()`` brings it back to ``interval``.
    """

    name: str
    interval: float
    run: Callable[[], object]
    max_interval: float | None = None
    idle: Callable[[object], bool] = nothing_done
    wait: float = field(default=-1.0)
    """Seconds from the last run to the next (``interval`` unless backed off)."""
    last_run: float = 0.0
    last_error: str | None = None
    runs: int = 0
    failures: int = 0
    """Failures in a row (0 once a run works)."""
    failing_since: float | None = None
    last_logged: float = 0.0

    def __post_init__(self) -> None:
        """Start at the short interval."""
        if self.wait < 0:
            self.wait = self.interval

    def wake(self) -> None:
        """Make the duty due at once and back at its short interval (there is work)."""
        self.wait = self.interval
        self.last_run = float("-inf")

    def ran(self, result: object) -> None:
        """Adjust the wait after a run that returned ``result``."""
        if self.max_interval is not None and self.idle(result):
            self.wait = min(self.max_interval, max(self.wait, self.interval, 0.001) * 2)
        else:
            self.wait = self.interval


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
        clock: Callable[[], int] | None = None,
        metrics: WriterMetrics | None = None,
        repeat_log_seconds: float = REPEAT_LOG_SECONDS,
        chain: ChainOutage | None = None,
        fence: LeaseFence | None = None,
        on_acquire: Callable[[], object] | None = None,
    ) -> None:
        """Run ``duties`` as ``holder`` whenever the lease is ours, counting in ``metrics``.

        ``clock`` None judges the lease by the store's clock (``Leases.now_ms``),
        the one every host sharing the store agrees on. ``fence`` is told the
        lease whenever it is taken, renewed or lost, so the duties' writes that
        check it commit only while the lease is ours. ``on_acquire`` runs each
        time the lease is taken (before any duty): e.g. re-derive the nonces,
        which another writer moved on while this one waited.
        """
        self.leases = leases
        self.holder = holder
        self.duties = list(duties)
        self.ttl_ms = ttl_ms
        self.tick = tick
        self.clock: Callable[[], int] = clock if clock is not None else leases.now_ms
        self._given_clock = clock is not None
        self._renewed_at = 0.0
        self.fence = fence
        self.on_acquire = on_acquire
        self.metrics = metrics
        self.repeat_log_seconds = repeat_log_seconds
        self.chain = chain or ChainOutage("writer")
        """The node's reachability: while it does not answer, the duties wait out a backoff."""
        self.lease: Lease | None = None

    def _at(self) -> int | None:
        # None: the store reads its own clock inside the lease's transaction.
        return self.clock() if self._given_clock else None

    def _renewal_due(self) -> bool:
        # Renew at a third of the lease time, so a slow duty cannot lose it.
        if self.lease is None:
            return True
        if self._given_clock:
            return self.lease.expires_at_ms - self.clock() < self.ttl_ms * 2 // 3
        # Judged by elapsed time since the last renewal, not by a clock read (a store
        # round trip per duty); a paused process sees the time jump and renews at once.
        return (time.monotonic() - self._renewed_at) * 1000 > self.ttl_ms / 3

    def _set_lease(self, lease: Lease | None) -> None:
        self.lease = lease
        if self.fence is not None:
            self.fence.lease = lease

    def _hold(self) -> bool:
        if self.lease is not None:
            try:
                if self._renewal_due():
                    self._set_lease(self.leases.renew(self.lease, self.ttl_ms, self._at()))
                    self._renewed_at = time.monotonic()
                return True
            except LeaseLostError:
                self.lost()
        lease = self.leases.acquire(WRITER_LEASE, self.holder, self.ttl_ms, self._at())
        if lease is None:
            return False
        if self.on_acquire is not None:
            try:
                self.on_acquire()
            except Exception as exc:  # noqa: BLE001 - retried at the next tick
                log.warning(
                    "writer could not prepare after taking the lease",
                    extra={"holder": self.holder, "error": type(exc).__name__},
                )
                self.leases.release(lease)
                return False
        self._set_lease(lease)
        self._renewed_at = time.monotonic()
        log.info("writer lease taken", extra={"holder": self.holder, "token": lease.token})
        return True

    def lost(self) -> None:
        """Forget the lease (another writer has it): log it once and stop the duties."""
        if self.lease is None:
            return
        log.warning(
            "writer lease lost; this writer does nothing more until it takes the lease again",
            extra={"holder": self.holder, "token": self.lease.token},
        )
        self._set_lease(None)

    def run_once(self) -> bool:
        """Run the duties that are due, if the lease is ours; returns whether it is."""
        if not self._hold():
            return False
        if not self.chain.reachable():
            return True  # the lease is kept; the duties wait out the chain's backoff
        now = time.monotonic()
        for duty in self.duties:
            if now - duty.last_run < duty.wait:
                continue
            duty.last_run = now
            started = time.perf_counter()
            try:
                result = duty.run()
            except LeaseLostError:
                # A fenced write was refused: another writer took over while this one
                # was paused (or its clock ran late). Nothing of the duty committed.
                duty.runs += 1
                self.lost()
                return False
            except ChainUnavailableError as exc:
                duty.wait = duty.interval
                self._failed(duty, exc)
                self.chain.failed(exc)
            except Exception as exc:  # noqa: BLE001 - one failing duty must not stop the others
                duty.wait = duty.interval
                self._failed(duty, exc)
            else:
                duty.ran(result)
                self._worked(duty)
            duty.runs += 1
            if self.metrics is not None:
                self.metrics.duty_runs.inc(duty.name)
                self.metrics.duty_seconds.observe(time.perf_counter() - started, duty.name)
            if self.chain.down:
                return True  # the other duties need the chain too: all wait out its backoff
            if not self._hold():
                return False
        self.chain.succeeded()  # a pass without an unreachable node ends an outage
        return True

    def _failed(self, duty: Duty, exc: Exception) -> None:
        error = type(exc).__name__
        now = time.monotonic()
        same = duty.failures > 0 and duty.last_error == error
        duty.failures += 1
        duty.last_error = error
        if duty.failing_since is None:
            duty.failing_since = now
        if self.metrics is not None:
            self.metrics.duty_failures.inc(duty.name, error)
        if same and now - duty.last_logged < self.repeat_log_seconds:
            return
        duty.last_logged = now
        log.warning(
            "writer duty still failing" if same else "writer duty failed",
            extra={
                "duty": duty.name,
                "error": error,
                "detail": error_detail(exc),
                "where": code_locations(exc),
                "failures": duty.failures,
                "failing_for_s": round(now - duty.failing_since, 3),
            },
        )

    def _worked(self, duty: Duty) -> None:
        if duty.failures:
            failing_for = time.monotonic() - (duty.failing_since or time.monotonic())
            log.info(
                "writer duty recovered",
                extra={
                    "duty": duty.name,
                    "failures": duty.failures,
                    "failing_for_s": round(failing_for, 3),
                },
            )
        duty.failures = 0
        duty.failing_since = None
        duty.last_error = None

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set, then release the lease."""
        try:
            while not stop.is_set():
                self.run_once()
                stop.wait(self.tick)
        finally:
            if self.lease is not None:
                self.leases.release(self.lease)
                self._set_lease(None)

    def status(self) -> WriterStatus:
        """The lease and each duty's run count and last error."""
        return WriterStatus(
            self.holder,
            self.lease,
            {d.name: (d.runs, d.last_error) for d in self.duties},
        )


def count_anchors(db: Database, report: StepReport, metrics: WriterMetrics) -> None:
    """Count the anchors among the items ``report`` says became final."""
    for item_id in (*report.final, *report.already_done):
        item = outbox.item_by_id(db, item_id)
        if item is not None and item.kind in ANCHOR_KINDS:
            metrics.anchored.inc(item.kind)


CHAIN_INDEX_POLL = (0.25, 0.5)
"""Seconds between looks at the block filter: while blocks come, and at most."""
IDLE_CAP = 1.0
"""Longest wait of the batch and outbox duties while they find nothing to do."""
CHECKPOINT_POLL = (0.5, 2.0)
"""Seconds between checkpoint policy checks: after a checkpoint, and at most."""


def _outbox_idle(db: Database) -> Callable[[object], bool]:
    def idle(report: object) -> bool:
        if not isinstance(report, StepReport) or report.chain_unavailable:
            return False
        moved = (
            report.submitted,
            report.confirmed,
            report.final,
            report.already_done,
            report.rebroadcast,
            report.requeued,
            report.reorged,
            report.failed,
        )
        # Items in flight are followed at the short interval, so finality is seen at once.
        return not any(moved) and outbox.lag(db).open_items == 0

    return idle


def _batches_idle(db: Database) -> Callable[[object], bool]:
    def idle(sealed: object) -> bool:
        if sealed:
            return False
        with db.read() as tx:
            # A pending credential is sealed when its wait is over: keep looking often.
            return not PendingRow.oldest(tx, 1)

    return idle


def province_duties(
    parts: ProvinceParts,
    processors: Sequence[OutboxProcessor],
    batches: BatchAnchorer,
    metrics: WriterMetrics | None = None,
) -> list[Duty]:
    """The writer's duties for one province, most urgent first.

    The index looks at the node's block filter every quarter second (every
    half second once a look found nothing) and syncs when a block arrived, so
    verification answers reflect chain state at most about one block old.
    Batches are sealed and the outbox stepped every 0.25 and 0.2 s while there
    is work (a pending credential, an item in flight), backing off to
    ``IDLE_CAP`` (no longer than the batch wait) when there is none; a sealed
    batch wakes the outbox at once. Checkpoints follow their policy, checked
    every 0.5 s to 2 s. With ``metrics``, the chain head, batch sizes and
    anchors are counted there.
    """
    db = parts.db
    outboxes: list[Duty] = []
    for processor in processors:

        def step(processor: OutboxProcessor = processor) -> StepReport:
            report = processor.step()
            if metrics is not None:
                count_anchors(db, report, metrics)
            return report

        outboxes.append(
            Duty(
                f"outbox-{processor.sender.address[:10]}",
                0.2,
                step,
                max_interval=IDLE_CAP,
                idle=_outbox_idle(db),
            )
        )

    def sync() -> SyncReport | None:
        report = parts.index.sync_new()
        if report is not None and metrics is not None:
            metrics.chain_height.set(report.head)
        return report

    def seal() -> list[SealedBatch]:
        sealed = batches.seal_due()
        for batch in sealed:
            if metrics is not None:
                metrics.batch_size.observe(batch.tree_size)
        if sealed:
            for duty in outboxes:
                duty.wake()  # the batch's anchor is queued: send it now, not after a backoff
        return sealed

    batch_cap = min(IDLE_CAP, max(0.25, batches.config.batch_max_wait_ms / 1000))
    duties = [
        Duty("chain-index", CHAIN_INDEX_POLL[0], sync, max_interval=CHAIN_INDEX_POLL[1]),
        Duty("credential-batches", 0.25, seal, max_interval=batch_cap, idle=_batches_idle(db)),
        *outboxes,
    ]
    settings = parts.settings
    status_lists = StatusListPublisher(
        parts.db,
        parts.index,
        settings.issuer_id,
        parts.issuer_config.did,
        parts.keyring.credential_signer,
        lambda: status_lists_base(settings),
        period_s=settings.status_list_seconds,
    )
    duties += [
        Duty(
            "audit-checkpoints",
            CHECKPOINT_POLL[0],
            parts.checkpoints.maybe_checkpoint,
            max_interval=CHECKPOINT_POLL[1],
        ),
        Duty("status-lists", settings.status_list_seconds, status_lists.run),
        Duty("signing-keys", 1.0, parts.keyring.refresh),
        Duty("index-prune", 300.0, parts.index.prune_block_hashes),
        Duty("idempotency-prune", 3600.0, parts.issuer.prune_idempotency_keys),
        # OpenID4VP requests and their outcomes (personal data), whether or not a clerk asks.
        Duty(
            "presentation-requests-purge",
            PRESENTATION_PURGE_SECONDS,
            lambda: purge_expired(parts.db, parts.verifier.clock()),
        ),
        # OpenID4VCI offers past expiry: their sealed claims go whether or not anyone redeems.
        Duty(
            "credential-offers-purge",
            OFFER_PURGE_SECONDS,
            lambda: credential_offers.purge(parts.db, parts.verifier.clock()),
        ),
    ]
    return duties


def writer_loop(
    parts: ProvinceParts,
    account: LocalAccount,
    holder: str,
    metrics: WriterMetrics | None = None,
) -> WriterLoop:
    """The province's writer: its duties under the lease, every duty's write fenced.

    The lease lives ``settings.writer_lease_seconds``; each time it is taken,
    the senders' nonces are derived again from the chain and the outbox (a
    writer that waited as a standby saw another writer move them on).
    """
    settings = parts.settings
    leases = Leases(parts.db)
    fence = LeaseFence(parts.db, WRITER_LEASE)
    processor = operator_outbox(parts, account, fence=fence)
    batches = batch_anchorer(parts)
    batches.fence = fence
    batches.register(processor)
    parts.checkpoints.fence = fence
    parts.checkpoints.register(processor)
    processors = [processor]
    governor = governor_outbox(parts, settings, operator=account.address, fence=fence)
    if governor is not None:
        processors.append(governor)

    def resync() -> None:
        for each in processors:
            each.sender.resync()

    return WriterLoop(
        leases,
        holder,
        province_duties(parts, processors, batches, metrics),
        ttl_ms=round(settings.writer_lease_seconds * 1000),
        metrics=metrics,
        chain=ChainOutage("writer", parts.client.block_number),
        fence=fence,
        on_acquire=resync,
    )


def operator_outbox(
    parts: ProvinceParts, account: LocalAccount, *, fence: LeaseFence | None = None
) -> OutboxProcessor:
    """The outbox processor of the province's own EVM account (anchors, statuses, admin)."""
    settings = parts.settings
    sender = NonceManager(
        parts.client,
        account,
        OutboxJournal(parts.db, account.address, fence=fence),
        finality_depth=settings.confirmations,
    )
    return OutboxProcessor(parts.db, sender, confirmations=settings.confirmations)


def governor_outbox(
    parts: ProvinceParts,
    settings: Settings,
    *,
    operator: str | None = None,
    fence: LeaseFence | None = None,
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
        OutboxJournal(parts.db, account.address, fence=fence),
        finality_depth=settings.confirmations,
    )
    return OutboxProcessor(parts.db, sender, confirmations=settings.confirmations, shared=False)


def batch_anchorer(parts: ProvinceParts) -> BatchAnchorer:
    """The credential batch anchorer over the configured CredentialAnchor."""
    anchor = CredentialAnchor(parts.client, parts.plan.addresses.credential_anchor)
    return BatchAnchorer(parts.db, parts.issuer_config, anchor)


def writer_holder() -> str:
    """This process's name as a writer lease holder: host and process id (both in logs)."""
    return f"writer-{socket.gethostname()}-{os.getpid()}"

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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from api.http.metrics import ANCHOR_KINDS, WriterMetrics
from api.province.governance import load_governor_account
from api.province.operations import WRITER_LEASE
from api.province.status_lists import StatusListPublisher
from api.runtime.logs import code_locations, error_detail
from api.runtime.parts import ProvinceParts, status_lists_base
from api.runtime.settings import Settings
from credentials.issuance import BatchAnchorer
from ledger.chain import outbox
from ledger.chain.contracts.credential_anchor import CredentialAnchor
from ledger.chain.errors import ChainUnavailableError
from ledger.chain.node.backoff import ChainOutage
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor, StepReport
from ledger.clock import now_ms
from ledger.store.database import Database
from ledger.store.lease import Lease, LeaseLostError, Leases

log = logging.getLogger(__name__)

REPEAT_LOG_SECONDS = 60.0
"""A duty that keeps failing the same way is logged again at most this often."""


@dataclass
class Duty:
    """A named task the writer runs every ``interval`` seconds."""

    name: str
    interval: float
    run: Callable[[], object]
    last_run: float = 0.0
    last_error: str | None = None
    runs: int = 0
    failures: int = 0
    """Failures in a row (0 once a run works)."""
    failing_since: float | None = None
    last_logged: float = 0.0


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
        metrics: WriterMetrics | None = None,
        repeat_log_seconds: float = REPEAT_LOG_SECONDS,
        chain: ChainOutage | None = None,
    ) -> None:
        """Run ``duties`` as ``holder`` whenever the lease is ours, counting in ``metrics``."""
        self.leases = leases
        self.holder = holder
        self.duties = list(duties)
        self.ttl_ms = ttl_ms
        self.tick = tick
        self.clock = clock
        self.metrics = metrics
        self.repeat_log_seconds = repeat_log_seconds
        self.chain = chain or ChainOutage("writer")
        """The node's reachability: while it does not answer, the duties wait out a backoff."""
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
        if not self.chain.reachable():
            return True  # the lease is kept; the duties wait out the chain's backoff
        now = time.monotonic()
        for duty in self.duties:
            if now - duty.last_run < duty.interval:
                continue
            duty.last_run = now
            started = time.perf_counter()
            try:
                duty.run()
            except ChainUnavailableError as exc:
                self._failed(duty, exc)
                self.chain.failed(exc)
            except Exception as exc:  # noqa: BLE001 - one failing duty must not stop the others
                self._failed(duty, exc)
            else:
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
                self.lease = None

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


def _counted(
    parts: ProvinceParts,
    processors: Sequence[OutboxProcessor],
    batches: BatchAnchorer,
    metrics: WriterMetrics,
) -> tuple[Callable[[], object], Callable[[], object], list[Callable[[], object]]]:
    def sync() -> None:
        metrics.chain_height.set(parts.index.sync().head)

    def seal() -> None:
        for batch in batches.seal_due():
            metrics.batch_size.observe(batch.tree_size)

    def stepper(processor: OutboxProcessor) -> Callable[[], object]:
        def step() -> None:
            count_anchors(parts.db, processor.step(), metrics)

        return step

    return sync, seal, [stepper(p) for p in processors]


def province_duties(
    parts: ProvinceParts,
    processors: Sequence[OutboxProcessor],
    batches: BatchAnchorer,
    metrics: WriterMetrics | None = None,
) -> list[Duty]:
    """The writer's duties for one province, most urgent first.

    The index follows the chain every quarter second, so verification answers
    reflect chain state at most about one block old; batches are sealed and
    the outbox stepped at the same pace; checkpoints follow their policy.
    With ``metrics``, the chain head, batch sizes and anchors are counted there.
    """
    sync: Callable[[], object] = parts.index.sync
    seal: Callable[[], object] = batches.seal_due
    steps: list[Callable[[], object]] = [p.step for p in processors]
    if metrics is not None:
        sync, seal, steps = _counted(parts, processors, batches, metrics)
    duties = [Duty("chain-index", 0.25, sync), Duty("credential-batches", 0.25, seal)]
    duties += [
        Duty(f"outbox-{p.sender.address[:10]}", 0.2, step)
        for p, step in zip(processors, steps, strict=True)
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
        Duty("audit-checkpoints", 0.5, parts.checkpoints.maybe_checkpoint),
        Duty("status-lists", settings.status_list_seconds, status_lists.run),
        Duty("signing-keys", 1.0, parts.keyring.refresh),
        Duty("index-prune", 300.0, parts.index.prune_block_hashes),
        Duty("idempotency-prune", 3600.0, parts.issuer.prune_idempotency_keys),
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

"""What the routes of one province's API need, built without settings so tests can build it.

``ProvinceContext.build`` wires the store-backed parts (client registry,
challenges, leases, the citizen view) around an open ``Database`` and
``AuditLog``; the service's runtime passes in the anchorer and chain client
it made from its settings. A worker that only reads may pass no anchorer:
the routes that need one (checkpoints, export, the citizen view) then
answer 503 ``unavailable``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Protocol

from api.http.metrics import Metrics
from api.http.ratelimit import RateLimiter, RatePolicy
from api.province.clients import ClientRegistry
from api.province.keyring import SigningKeyRing
from api.province.keys import ProvinceKeys
from api.province.operations import WRITER_LEASE
from credentials.issuance import CredentialIssuer
from credentials.verify import Verifier
from ledger.audit.anchoring import CheckpointAnchorer
from ledger.audit.citizen import CitizenView
from ledger.audit.log import AuditLog
from ledger.chain import outbox
from ledger.chain.contracts.consortium import ConsortiumAddresses
from ledger.chain.contracts.registry import IssuerRegistry
from ledger.chain.index import ChainIndex
from ledger.clock import now_ms
from ledger.store.challenges import Challenges
from ledger.store.database import Database
from ledger.store.lease import Leases

__all__ = [
    "LOOKUP_BURST",
    "LOOKUP_RATE",
    "ApiLimits",
    "ChainProbe",
    "ProvinceContext",
    "RateLimits",
]

MIB = 1024 * 1024
# A lookup answers by a guessable identifier: its own small bucket per client
# bounds enumeration far below the client's general rate (docs/dianzi-zhengzhao.md).
LOOKUP_RATE = 5.0
"""证照标识 lookups per second per client and worker (setting ``zhengzhao_lookup_rate``)."""
LOOKUP_BURST = 20
"""证照标识 lookups a client may make at once (setting ``zhengzhao_lookup_burst``)."""


def _version() -> str:
    try:
        return metadata.version("tongban")
    except metadata.PackageNotFoundError:
        return "0.0.0"


@dataclass(frozen=True)
class ApiLimits:
    """Caps on requests, and readiness thresholds."""

    body_bytes: int = 1 * MIB
    """Largest request body on ordinary routes."""
    batch_body_bytes: int = 4 * MIB
    """Largest request body on batch routes (``POST /audit/events/batch``)."""
    max_depth: int = 32
    """Deepest nesting of arrays and objects in a body (the top level counts as 1)."""
    max_array: int = 1000
    """Most items in any array of a body."""
    max_batch_events: int = 1000
    """Most events in one batch append."""
    outbox_max_age_seconds: float = 300.0
    """``/readyz`` fails when the oldest unfinished outbox item is older than this."""


@dataclass
class RateLimits:
    """The token buckets the API takes from (per process; see ``api.http.ratelimit``)."""

    clients: RateLimiter
    """One bucket per authenticated client id."""
    anonymous: RateLimiter
    """One shared bucket (key ``anonymous``) for requests without a valid token."""
    holders: RateLimiter
    """One bucket per holder DID on the citizen routes."""
    citizens: RateLimiter
    """One shared bucket (key ``citizens``) for all citizen requests."""
    lookups: RateLimiter = field(
        default_factory=lambda: RateLimiter(RatePolicy(LOOKUP_RATE, LOOKUP_BURST))
    )
    """One bucket per client id for ``POST /zhengzhao/lookup`` (beside its client bucket)."""

    @classmethod
    def default(
        cls,
        clock: Callable[[], float] = time.monotonic,
        *,
        client_rate: float = 1000.0,
        client_burst: int = 2000,
        lookup_rate: float = 0.0,
        lookup_burst: int = 0,
    ) -> RateLimits:
        """The default buckets.

        Clients 1,000 requests/s (burst 2,000) unless given, anonymous 20/s (burst
        50), each holder DID 1/s (burst 10), all citizens together 50/s (burst 100),
        each client's 证照标识 lookups ``LOOKUP_RATE``/s (burst ``LOOKUP_BURST``)
        unless given (0: the default).
        """
        return cls(
            clients=RateLimiter(RatePolicy(client_rate, client_burst), clock=clock),
            anonymous=RateLimiter(RatePolicy(20.0, 50), clock=clock),
            holders=RateLimiter(RatePolicy(1.0, 10), clock=clock),
            citizens=RateLimiter(RatePolicy(50.0, 100), clock=clock),
            lookups=RateLimiter(
                RatePolicy(lookup_rate or LOOKUP_RATE, lookup_burst or LOOKUP_BURST), clock=clock
            ),
        )


class ChainProbe(Protocol):
    """What ``/readyz`` asks of the chain (``ledger.chain.node.client.ChainClient`` fits)."""

    def block_number(self) -> int:
        """The latest block number; raises ``ChainError`` when the node is unreachable."""


@dataclass
class ProvinceContext:
    """Everything the province's routes use; one per worker process."""

    issuer_id: int
    """The province's issuer id, which is also its audit log id."""
    chain_id: int
    db: Database
    audit_log: AuditLog
    anchorer: CheckpointAnchorer | None
    """Reads and signs checkpoints; None in a worker that serves no checkpoint routes."""
    citizen: CitizenView | None
    challenges: Challenges
    clients: ClientRegistry
    leases: Leases
    rate_limits: RateLimits
    metrics: Metrics = field(default_factory=Metrics)
    limits: ApiLimits = field(default_factory=ApiLimits)
    chain: ChainProbe | None = None
    """Probed by ``/readyz`` when set (a service without a chain leaves it None)."""
    writer_lease: str = WRITER_LEASE
    clock: Callable[[], int] = now_ms
    """Milliseconds since the epoch (injectable for tests)."""
    version: str = field(default_factory=_version)
    issuer: CredentialIssuer | None = None
    """Issues credentials and changes their status; None: the credential issuing routes 503."""
    verifier: Verifier | None = None
    """Verifies credentials and presentations; None: the verification routes answer 503."""
    index: ChainIndex | None = None
    """The chain index kept current by the writer (DID documents, key state)."""
    keyring: SigningKeyRing | None = None
    """Chooses the active signing key; None: issuing answers 503."""
    addresses: ConsortiumAddresses | None = None
    """The consortium contracts this province trusts (its own configuration)."""
    keys: ProvinceKeys | None = None
    """The province's keystore (a key rotation creates the new signing key in it)."""
    registry: IssuerRegistry | None = None
    """The IssuerRegistry on this process's chain client; None: /issuer and /governance 503."""
    operator_account: str | None = None
    """The province's own EVM account (sends unpinned outbox items); None: unknown."""
    governor_account: str | None = None
    """The governor account this service acts for; None: the /governance routes answer 503."""

    @classmethod
    def build(
        cls,
        db: Database,
        audit_log: AuditLog,
        chain_id: int,
        *,
        anchorer: CheckpointAnchorer | None = None,
        chain: ChainProbe | None = None,
        limits: ApiLimits | None = None,
        rate_limits: RateLimits | None = None,
        clock: Callable[[], int] = now_ms,
        writer_lease: str = WRITER_LEASE,
    ) -> ProvinceContext:
        """Wire the store-backed parts around ``db`` and ``audit_log`` (migrating as needed)."""
        outbox.prepare(db)  # /readyz and /metrics read the outbox even in a reading worker
        challenges = Challenges(db)
        citizen = (
            None if anchorer is None else CitizenView(audit_log, anchorer, challenges, clock=clock)
        )
        return cls(
            issuer_id=audit_log.log_id,
            chain_id=chain_id,
            db=db,
            audit_log=audit_log,
            anchorer=anchorer,
            citizen=citizen,
            challenges=challenges,
            clients=ClientRegistry(db, clock=clock),
            leases=Leases(db),
            rate_limits=rate_limits or RateLimits.default(),
            limits=limits or ApiLimits(),
            chain=chain,
            writer_lease=writer_lease,
            clock=clock,
        )

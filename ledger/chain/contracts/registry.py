"""Typed binding of the ``IssuerRegistry`` contract: governance, issuers, writers, keys.

Governance is M of N: a governor proposes an action (which counts as its own
approval) and the approval that reaches the threshold executes it. Issuer
admins add and retire writers and SM2 keys. Writes wait for the receipt and
return a ``TxOutcome``; reverts are raised as the named exceptions of
``ledger.chain.contracts.errors``. See ``docs/contracts.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi.abi import encode as abi_encode

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import BoundContract, ContractBinding
from ledger.chain.contracts.calls import TxOutcome, call_named, transact_named
from ledger.chain.node.client import BlockId, checksum
from ledger.chain.node.transactions import NonceManager

DEFAULT_PROPOSAL_LIFETIME = 7 * 24 * 3600
"""Seconds a proposal stays open when the caller gives no expiry."""

MAX_PROPOSAL_LIFETIME = 30 * 24 * 3600
"""The contract's upper bound on a proposal's lifetime, in seconds."""

MAX_GOVERNORS = 32
"""The contract's upper bound on the number of governors."""

_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")


class IssuerStatus(IntEnum):
    """An issuer's status; ``NONE`` means never admitted."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class GovernanceAction(IntEnum):
    """What a proposal does once executed (the contract's ``Action`` enum)."""

    ADMIT_ISSUER = 1
    SUSPEND_ISSUER = 2
    REINSTATE_ISSUER = 3
    REPLACE_ISSUER_ADMIN = 4
    ADD_GOVERNOR = 5
    REMOVE_GOVERNOR = 6
    SET_THRESHOLD = 7
    RESET_AUDIT_EPOCH = 8


@dataclass(frozen=True)
class IssuerInfo:
    """An issuer's attributes and state as the registry holds them."""

    issuer_id: int
    status: IssuerStatus
    division_code: int
    admin: str
    admitted_at: int
    name: str
    did: str
    writer_count: int
    key_count: int


@dataclass(frozen=True)
class WriterRecord:
    """One writer appointment of an issuer; ``retired_at`` is None while current."""

    account: str
    added_at: int
    retired_at: int | None

    @property
    def current(self) -> bool:
        """Whether the appointment still holds."""
        return self.retired_at is None


@dataclass(frozen=True)
class KeyRecord:
    """One SM2 public key of an issuer, with its full validity history."""

    issuer_id: int
    key_id: str
    public_key: bytes
    valid_from: int
    retired_at: int | None
    compromised_from: int | None

    def is_valid_at(self, timestamp: int) -> bool:
        """The registry's rule (DESIGN "Time and trust"), evaluated locally.

        Valid iff valid_from <= t, and t < retired_at if retired, and
        t < compromised_from if compromised.
        """
        if timestamp < self.valid_from:
            return False
        if self.retired_at is not None and timestamp >= self.retired_at:
            return False
        return not (self.compromised_from is not None and timestamp >= self.compromised_from)


@dataclass(frozen=True)
class Proposal:
    """A governance proposal as stored on chain."""

    proposal_id: int
    action: GovernanceAction
    params: bytes
    proposer: str
    created_at: int
    expires_at: int
    governor_set_version: int
    approvals: int
    executed: bool


@dataclass(frozen=True)
class ProposalOutcome:
    """The result of proposing or approving: which proposal, and whether it executed."""

    proposal_id: int
    executed: bool
    tx: TxOutcome


def encode_key_id(key_id: str) -> bytes:
    """The on-chain ``bytes32`` of a key id: 1-32 ASCII characters ``[A-Za-z0-9._-]``, zero-padded.

    The key id is the fragment of the key's DID URL ``did:tongban:<chainId>:<issuerId>#<keyId>``.
    """
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError("a key id is 1-32 characters of A-Z a-z 0-9 . _ -")
    return key_id.encode("ascii").ljust(32, b"\0")


def decode_key_id(raw: bytes) -> str:
    """The key id string of an on-chain ``bytes32`` key id."""
    return raw.rstrip(b"\0").decode("ascii", errors="replace")


def encode_admit_issuer(issuer_id: int, division_code: int, name: str, admin: str) -> bytes:
    """Parameters of an ``ADMIT_ISSUER`` proposal."""
    return abi_encode(
        ["uint32", "uint32", "string", "address"], [issuer_id, division_code, name, checksum(admin)]
    )


def encode_issuer_id(issuer_id: int) -> bytes:
    """Parameters of a ``SUSPEND_ISSUER`` or ``REINSTATE_ISSUER`` proposal."""
    return abi_encode(["uint32"], [issuer_id])


def encode_replace_admin(issuer_id: int, new_admin: str) -> bytes:
    """Parameters of a ``REPLACE_ISSUER_ADMIN`` proposal."""
    return abi_encode(["uint32", "address"], [issuer_id, checksum(new_admin)])


def encode_governor(governor: str) -> bytes:
    """Parameters of an ``ADD_GOVERNOR`` or ``REMOVE_GOVERNOR`` proposal."""
    return abi_encode(["address"], [checksum(governor)])


def encode_threshold(threshold: int) -> bytes:
    """Parameters of a ``SET_THRESHOLD`` proposal."""
    return abi_encode(["uint8"], [threshold])


def encode_reset_audit_epoch(audit_anchor: str, log_id: int) -> bytes:
    """Parameters of a ``RESET_AUDIT_EPOCH`` proposal."""
    return abi_encode(["address", "uint32"], [checksum(audit_anchor), log_id])


def _optional_time(value: int) -> int | None:
    return None if value == 0 else value


class IssuerRegistry(ContractBinding):
    """The ``IssuerRegistry`` at one address."""

    ARTIFACT = "IssuerRegistry"

    def _call(self, function: str, *args: Any, block: BlockId = "latest") -> Any:
        return call_named(self.contract, function, *args, block=block)

    # ---------------------------------------------------------- governance

    def propose(
        self,
        sender: NonceManager,
        action: GovernanceAction,
        params: bytes,
        *,
        expires_at: int | None = None,
    ) -> ProposalOutcome:
        """Propose ``action`` with ABI-encoded ``params``; the proposer's approval counts.

        ``expires_at`` defaults to the latest block time plus ``DEFAULT_PROPOSAL_LIFETIME``.
        """
        if expires_at is None:
            latest = int(self.client.get_block("latest")["timestamp"], 16)
            expires_at = latest + DEFAULT_PROPOSAL_LIFETIME
        extra: tuple[BoundContract, ...] = ()
        if action == GovernanceAction.RESET_AUDIT_EPOCH:
            target = "0x" + params[12:32].hex()
            extra = (BoundContract(self.client, load_artifact("IAuditAnchor"), target),)
        tx = transact_named(
            self.contract, sender, "propose", int(action), params, expires_at, extra=extra
        )
        proposal_id = int(tx.event("ProposalCreated").args["proposalId"])
        return ProposalOutcome(proposal_id, bool(tx.named("ProposalExecuted")), tx)

    def approve(self, sender: NonceManager, proposal_id: int) -> ProposalOutcome:
        """Approve proposal ``proposal_id``; the approval reaching the threshold executes it."""
        extra: tuple[BoundContract, ...] = ()
        proposal = self.proposal(proposal_id)
        if proposal.action == GovernanceAction.RESET_AUDIT_EPOCH:
            target = "0x" + proposal.params[12:32].hex()
            extra = (BoundContract(self.client, load_artifact("IAuditAnchor"), target),)
        tx = transact_named(self.contract, sender, "approve", proposal_id, extra=extra)
        return ProposalOutcome(proposal_id, bool(tx.named("ProposalExecuted")), tx)

    def propose_admit_issuer(
        self,
        sender: NonceManager,
        issuer_id: int,
        division_code: int,
        name: str,
        admin: str,
        *,
        expires_at: int | None = None,
    ) -> ProposalOutcome:
        """Propose admitting issuer ``issuer_id`` (GB/T 2260 ``division_code``) with ``admin``."""
        params = encode_admit_issuer(issuer_id, division_code, name, admin)
        return self.propose(sender, GovernanceAction.ADMIT_ISSUER, params, expires_at=expires_at)

    def propose_suspend_issuer(
        self, sender: NonceManager, issuer_id: int, *, expires_at: int | None = None
    ) -> ProposalOutcome:
        """Propose suspending an active issuer."""
        params = encode_issuer_id(issuer_id)
        return self.propose(sender, GovernanceAction.SUSPEND_ISSUER, params, expires_at=expires_at)

    def propose_reinstate_issuer(
        self, sender: NonceManager, issuer_id: int, *, expires_at: int | None = None
    ) -> ProposalOutcome:
        """Propose reinstating a suspended issuer."""
        params = encode_issuer_id(issuer_id)
        return self.propose(
            sender, GovernanceAction.REINSTATE_ISSUER, params, expires_at=expires_at
        )

    def propose_replace_admin(
        self, sender: NonceManager, issuer_id: int, new_admin: str, *, expires_at: int | None = None
    ) -> ProposalOutcome:
        """Propose replacing an issuer's admin account (after an incident)."""
        params = encode_replace_admin(issuer_id, new_admin)
        return self.propose(
            sender, GovernanceAction.REPLACE_ISSUER_ADMIN, params, expires_at=expires_at
        )

    def propose_add_governor(
        self, sender: NonceManager, governor: str, *, expires_at: int | None = None
    ) -> ProposalOutcome:
        """Propose adding a governor (makes every open proposal stale once executed)."""
        params = encode_governor(governor)
        return self.propose(sender, GovernanceAction.ADD_GOVERNOR, params, expires_at=expires_at)

    def propose_remove_governor(
        self, sender: NonceManager, governor: str, *, expires_at: int | None = None
    ) -> ProposalOutcome:
        """Propose removing a governor (makes every open proposal stale once executed)."""
        params = encode_governor(governor)
        return self.propose(sender, GovernanceAction.REMOVE_GOVERNOR, params, expires_at=expires_at)

    def propose_set_threshold(
        self, sender: NonceManager, threshold: int, *, expires_at: int | None = None
    ) -> ProposalOutcome:
        """Propose a new threshold M (1 <= M <= N; makes open proposals stale once executed)."""
        params = encode_threshold(threshold)
        return self.propose(sender, GovernanceAction.SET_THRESHOLD, params, expires_at=expires_at)

    def propose_reset_audit_epoch(
        self, sender: NonceManager, audit_anchor: str, log_id: int, *, expires_at: int | None = None
    ) -> ProposalOutcome:
        """Propose a new epoch of audit log ``log_id`` in the AuditAnchor at ``audit_anchor``."""
        params = encode_reset_audit_epoch(audit_anchor, log_id)
        return self.propose(
            sender, GovernanceAction.RESET_AUDIT_EPOCH, params, expires_at=expires_at
        )

    # ---------------------------------------------------------- issuer admin

    def add_writer(self, sender: NonceManager, issuer_id: int, account: str) -> TxOutcome:
        """Appoint ``account`` as a writer of ``issuer_id`` (sender: the issuer's admin)."""
        return transact_named(self.contract, sender, "addWriter", issuer_id, checksum(account))

    def retire_writer(self, sender: NonceManager, issuer_id: int, account: str) -> TxOutcome:
        """Retire writer ``account`` of ``issuer_id`` (sender: the issuer's admin)."""
        return transact_named(self.contract, sender, "retireWriter", issuer_id, checksum(account))

    def add_key(
        self,
        sender: NonceManager,
        issuer_id: int,
        key_id: str,
        public_key: bytes,
        valid_from: int | None = None,
    ) -> TxOutcome:
        """Add a 33-byte compressed SM2 key; ``valid_from`` None means "from the block's time"."""
        return transact_named(
            self.contract,
            sender,
            "addKey",
            issuer_id,
            encode_key_id(key_id),
            bytes(public_key),
            valid_from or 0,
        )

    def retire_key(self, sender: NonceManager, issuer_id: int, key_id: str) -> TxOutcome:
        """Retire a key from the block's time on (sender: the issuer's admin)."""
        return transact_named(self.contract, sender, "retireKey", issuer_id, encode_key_id(key_id))

    def mark_key_compromised(
        self, sender: NonceManager, issuer_id: int, key_id: str, compromised_from: int
    ) -> TxOutcome:
        """Mark a key compromised from ``compromised_from`` (past or future; only moves earlier)."""
        return transact_named(
            self.contract,
            sender,
            "markKeyCompromised",
            issuer_id,
            encode_key_id(key_id),
            compromised_from,
        )

    # ---------------------------------------------------------------- reads

    def threshold(self) -> int:
        """The number of approvals a proposal needs (M)."""
        return int(self._call("threshold"))

    def governors(self) -> list[str]:
        """The current governors."""
        return [checksum(a) for a in self._call("governors")]

    def is_governor(self, account: str) -> bool:
        """Whether ``account`` is a governor."""
        return bool(self._call("isGovernor", checksum(account)))

    def governor_set_version(self) -> int:
        """The governor-set version (grows with each governor or threshold change)."""
        return int(self._call("governorSetVersion"))

    def proposal_count(self) -> int:
        """The number of proposals made so far."""
        return int(self._call("proposalCount"))

    def proposal(self, proposal_id: int) -> Proposal:
        """A proposal by id (``IssuerRegistryUnknownProposalError`` if there is none)."""
        action, executed, approvals, version, created, expires, proposer, params = self._call(
            "proposal", proposal_id
        )
        return Proposal(
            proposal_id=proposal_id,
            action=GovernanceAction(action),
            params=bytes(params),
            proposer=checksum(proposer),
            created_at=int(created),
            expires_at=int(expires),
            governor_set_version=int(version),
            approvals=int(approvals),
            executed=bool(executed),
        )

    def has_approved(self, proposal_id: int, governor: str) -> bool:
        """Whether ``governor`` approved proposal ``proposal_id``."""
        return bool(self._call("hasApproved", proposal_id, checksum(governor)))

    def issuer(self, issuer_id: int, *, block: BlockId = "latest") -> IssuerInfo:
        """An issuer's attributes (``IssuerRegistryUnknownIssuerError`` if never admitted)."""
        values = self._call("issuer", issuer_id, block=block)
        iid, status, division, admin, admitted, name, did, writers, keys = values
        return IssuerInfo(
            issuer_id=int(iid),
            status=IssuerStatus(status),
            division_code=int(division),
            admin=checksum(admin),
            admitted_at=int(admitted),
            name=str(name),
            did=str(did),
            writer_count=int(writers),
            key_count=int(keys),
        )

    def issuer_status(self, issuer_id: int, *, block: BlockId = "latest") -> IssuerStatus:
        """An issuer's status (``NONE`` if never admitted)."""
        return IssuerStatus(self._call("issuerStatus", issuer_id, block=block))

    def issuer_did(self, issuer_id: int) -> str:
        """The issuer's DID ``did:tongban:<chainId>:<issuerId>``."""
        return str(self._call("issuerDid", issuer_id))

    def writer_status(self, issuer_id: int, account: str) -> tuple[bool, bool]:
        """(``account`` is a current writer of ``issuer_id``, the issuer is active)."""
        is_writer, active = self._call("writerStatus", issuer_id, checksum(account))
        return bool(is_writer), bool(active)

    def writer_issuer(self, account: str) -> int:
        """The issuer ``account`` currently writes for (0 if none)."""
        return int(self._call("writerIssuer", checksum(account)))

    def writer_count(self, issuer_id: int) -> int:
        """The number of writer appointments of an issuer, current and retired."""
        return int(self._call("writerCount", issuer_id))

    def writer_at(self, issuer_id: int, index: int) -> WriterRecord:
        """The writer appointment at ``index`` of the issuer's history."""
        account, added, retired = self._call("writerAt", issuer_id, index)
        return WriterRecord(checksum(account), int(added), _optional_time(int(retired)))

    def writers(self, issuer_id: int) -> list[WriterRecord]:
        """The issuer's whole writer history, oldest first."""
        return [self.writer_at(issuer_id, i) for i in range(self.writer_count(issuer_id))]

    def key_count(self, issuer_id: int) -> int:
        """The number of keys the issuer ever added."""
        return int(self._call("keyCount", issuer_id))

    def key_id_at(self, issuer_id: int, index: int) -> str:
        """The id of the issuer's ``index``-th key."""
        return decode_key_id(bytes(self._call("keyIdAt", issuer_id, index)))

    def key(self, issuer_id: int, key_id: str, *, block: BlockId = "latest") -> KeyRecord:
        """A key record (``IssuerRegistryUnknownKeyError`` if there is none)."""
        raw_id, public_key, valid_from, retired, compromised, compromised_from = self._call(
            "key", issuer_id, encode_key_id(key_id), block=block
        )
        return KeyRecord(
            issuer_id=issuer_id,
            key_id=decode_key_id(bytes(raw_id)),
            public_key=bytes(public_key),
            valid_from=int(valid_from),
            retired_at=_optional_time(int(retired)),
            compromised_from=int(compromised_from) if compromised else None,
        )

    def keys(self, issuer_id: int) -> list[KeyRecord]:
        """The issuer's whole key history, in the order the keys were added."""
        return [
            self.key(issuer_id, self.key_id_at(issuer_id, i))
            for i in range(self.key_count(issuer_id))
        ]

    def is_key_valid_at(
        self, issuer_id: int, key_id: str, timestamp: int, *, block: BlockId = "latest"
    ) -> bool:
        """Whether the key was valid at ``timestamp`` (unknown keys are never valid)."""
        return bool(
            self._call("isKeyValidAt", issuer_id, encode_key_id(key_id), timestamp, block=block)
        )

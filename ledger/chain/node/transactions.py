"""Locally signed transactions, many in flight from one account.

``NonceManager`` assigns nonces without asking the node for each transaction,
keeps every signed raw transaction in a ``TxJournal`` until it is final, and
``reconcile`` repairs what a restart, a dropped transaction or a reorg broke:
nonces are derived again from the chain and journaled transactions that the
chain no longer holds are rebroadcast byte for byte (same hash, same nonce).

The journal here is an interface; the durable outbox keeps it in the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount

from ledger.chain.errors import (
    ChainError,
    ChainUnavailableError,
    ContractRevertError,
    TransactionError,
)
from ledger.chain.node.client import ChainClient
from ledger.chain.node.reverts import decode_revert_data

log = logging.getLogger(__name__)

_FEE_CACHE_SECONDS = 2.0
_ALREADY_KNOWN = ("already known", "known transaction", "already imported", "already in")
_NONCE_TOO_LOW = ("nonce too low", "nonce is too low", "is lower than the current nonce")


@dataclass(frozen=True)
class JournalEntry:
    """A signed transaction kept until final: enough to rebroadcast it as is."""

    nonce: int
    tx_hash: str
    raw: bytes
    label: str = ""


class TxJournal(Protocol):
    """Where a ``NonceManager`` keeps signed transactions until they are final."""

    def record(self, entry: JournalEntry) -> None:
        """Keep ``entry`` (replacing any entry with the same nonce)."""

    def forget(self, nonce: int) -> None:
        """Drop the entry with ``nonce``: it is final, or its nonce was used by another."""

    def entries(self) -> list[JournalEntry]:
        """All kept entries, in nonce order."""


class InMemoryTxJournal:
    """A ``TxJournal`` that lives as long as the process (tests, short-lived tools)."""

    def __init__(self) -> None:
        """Start empty."""
        self._entries: dict[int, JournalEntry] = {}
        self._lock = threading.Lock()

    def record(self, entry: JournalEntry) -> None:
        """Keep ``entry``."""
        with self._lock:
            self._entries[entry.nonce] = entry

    def forget(self, nonce: int) -> None:
        """Drop the entry with ``nonce``."""
        with self._lock:
            self._entries.pop(nonce, None)

    def entries(self) -> list[JournalEntry]:
        """All kept entries, in nonce order."""
        with self._lock:
            return [self._entries[n] for n in sorted(self._entries)]


@dataclass(frozen=True)
class SentTransaction:
    """A transaction that was signed, journaled and handed to the node."""

    tx_hash: str
    nonce: int


@dataclass
class ReconcileReport:
    """What ``NonceManager.reconcile`` found and did."""

    final: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    rebroadcast: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    next_nonce: int = 0


class NonceManager:
    """Signs and sends transactions from one account, many in flight at once.

    Thread-safe. One account must have exactly one ``NonceManager`` (one outbox);
    two managers on one account would hand out the same nonces.
    """

    def __init__(
        self,
        client: ChainClient,
        account: LocalAccount,
        journal: TxJournal | None = None,
        *,
        finality_depth: int = 1,
        gas_headroom: float = 1.25,
    ) -> None:
        """Bind ``account`` on ``client``; nonces start from the chain and the journal."""
        self.client = client
        self.account = account
        self.journal: TxJournal = journal if journal is not None else InMemoryTxJournal()
        self.finality_depth = max(1, finality_depth)
        self.gas_headroom = gas_headroom
        self._lock = threading.Lock()
        self._fees: dict[str, int] = {}
        self._fees_at = 0.0
        self._next_nonce = self._nonce_from_chain_and_journal()

    @property
    def address(self) -> str:
        """The sending account's address."""
        return str(self.account.address)

    @property
    def next_nonce(self) -> int:
        """The nonce the next transaction will get."""
        return self._next_nonce

    def _nonce_from_chain_and_journal(self) -> int:
        chain_next = self.client.nonce(self.address, "pending")
        journal = self.journal.entries()
        journal_next = journal[-1].nonce + 1 if journal else 0
        return max(chain_next, journal_next)

    def _fee_fields(self) -> dict[str, int]:
        now = time.monotonic()
        if not self._fees or now - self._fees_at > _FEE_CACHE_SECONDS:
            self._fees = self.client.fee_fields()
            self._fees_at = now
        return self._fees

    def estimate_gas(self, to: str | None, data: bytes, value: int = 0) -> int:
        """Gas for the transaction, with headroom.

        A transaction that would revert raises ``ContractRevertError`` here.
        """
        estimate = self.client.estimate_gas(self.address, to, data, value)
        wanted = int(estimate * self.gas_headroom) + 10_000
        # Headroom must not push a large transaction past the block gas limit.
        block_limit = int(self.client.get_block("latest")["gasLimit"], 16)
        return max(estimate, min(wanted, block_limit))

    def send(
        self,
        to: str | None,
        data: bytes,
        *,
        value: int = 0,
        gas: int | None = None,
        label: str = "",
    ) -> SentTransaction:
        """Sign, journal and broadcast one transaction; returns without waiting for it.

        ``to=None`` deploys ``data`` as creation code. Without ``gas`` the gas is
        estimated first, so a transaction that would revert raises
        ``ContractRevertError`` and consumes no nonce. If the node cannot be
        reached after signing, the transaction stays journaled and
        ``reconcile`` rebroadcasts it; ``ChainUnavailableError`` is raised.
        """
        gas_limit = gas if gas is not None else self.estimate_gas(to, data, value)
        fees = self._fee_fields()
        for attempt in range(2):
            with self._lock:
                nonce = self._next_nonce
                tx: dict[str, Any] = {
                    "chainId": self.client.chain_id,
                    "nonce": nonce,
                    "gas": gas_limit,
                    "value": value,
                    "data": data,
                    **fees,
                }
                if to is not None:
                    tx["to"] = to
                if "maxFeePerGas" in fees:
                    tx["type"] = 2
                signed = self.account.sign_transaction(tx)
                entry = JournalEntry(
                    nonce, "0x" + bytes(signed.hash).hex(), bytes(signed.raw_transaction), label
                )
                self.journal.record(entry)
                self._next_nonce = nonce + 1
                try:
                    self._broadcast(entry)
                except NonceTooLowError:
                    # Someone else (a previous process, an operator) used this nonce.
                    self.journal.forget(nonce)
                    self._next_nonce = self._nonce_from_chain_and_journal()
                    if attempt == 0:
                        continue
                    raise TransactionError(
                        f"nonce {nonce} of {self.address} keeps being used elsewhere; "
                        "is a second process sending from this account?"
                    ) from None
                return SentTransaction(entry.tx_hash, nonce)
        raise AssertionError("unreachable")  # pragma: no cover

    def _broadcast(self, entry: JournalEntry) -> None:
        try:
            self.client.send_raw(entry.raw)
        except ChainUnavailableError as exc:
            raise ChainUnavailableError(
                f"{exc}; transaction {entry.tx_hash} (nonce {entry.nonce}) is journaled "
                "and will be rebroadcast"
            ) from None
        except ContractRevertError:
            raise
        except ChainError as exc:
            message = str(exc).lower()
            if any(marker in message for marker in _ALREADY_KNOWN):
                return
            if any(marker in message for marker in _NONCE_TOO_LOW):
                raise NonceTooLowError(str(exc)) from None
            raise

    def rebroadcast(self, entry: JournalEntry) -> None:
        """Send a journaled transaction's stored bytes again ("already known" is fine).

        Raises ``NonceTooLowError`` if another transaction took its nonce.
        """
        self._broadcast(entry)

    def resync(self) -> int:
        """Re-derive the next nonce from the chain and the journal; returns it."""
        with self._lock:
            self._next_nonce = self._nonce_from_chain_and_journal()
            return self._next_nonce

    def wait(self, tx_hash: str, *, timeout: float = 60.0, poll: float = 0.05) -> dict[str, Any]:
        """Wait until ``tx_hash`` is mined and return its receipt.

        A mined transaction that reverted raises ``ContractRevertError`` with the
        decoded error (replayed with ``eth_call`` at its block).
        """
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.client.receipt(tx_hash)
            if receipt is not None:
                break
            if time.monotonic() > deadline:
                raise TransactionError(f"transaction {tx_hash} not mined within {timeout:g} s")
            time.sleep(poll)
        if int(receipt["status"], 16) != 1:
            raise self._revert_reason(tx_hash, receipt)
        return receipt

    def _revert_reason(self, tx_hash: str, receipt: dict[str, Any]) -> ContractRevertError:
        # Besu with --revert-reason-enabled puts the revert data in the receipt:
        # exact even when state changed within the block, and no replay needed.
        recorded = receipt.get("revertReason")
        if isinstance(recorded, str) and recorded.startswith("0x"):
            try:
                return decode_revert_data(bytes.fromhex(recorded[2:]))
            except ValueError:
                pass  # not hex: replay below
        tx = self.client.transaction(tx_hash)
        if tx is None or tx.get("to") is None:
            return ContractRevertError("")
        block = int(receipt["blockNumber"], 16)
        try:
            self.client.call(
                tx["to"], bytes.fromhex(tx["input"][2:]), sender=tx["from"], block=block - 1
            )
        except ContractRevertError as exc:
            return exc
        return ContractRevertError("")  # ran out of gas, or state changed within the block

    def transact(
        self,
        to: str | None,
        data: bytes,
        *,
        value: int = 0,
        gas: int | None = None,
        label: str = "",
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        """Send one transaction and wait for its receipt."""
        sent = self.send(to, data, value=value, gas=gas, label=label)
        return self.wait(sent.tx_hash, timeout=timeout)

    def wait_all(self, hashes: Iterable[str], *, timeout: float = 120.0) -> list[dict[str, Any]]:
        """Wait for every transaction in ``hashes``; returns their receipts in order."""
        deadline = time.monotonic() + timeout
        return [self.wait(h, timeout=max(0.0, deadline - time.monotonic())) for h in hashes]

    def reconcile(self) -> ReconcileReport:
        """Bring the journal and the next nonce back in line with the chain.

        For each journaled transaction: forget it once it has ``finality_depth``
        confirmations; forget it if another transaction took its nonce; otherwise
        rebroadcast its stored raw bytes (after a restart, a dropped transaction or
        a reorg that removed its block). Then re-derive the next nonce.
        """
        report = ReconcileReport()
        with self._lock:
            head = self.client.block_number()
            mined_nonce = self.client.nonce(self.address, "latest")
            for entry in self.journal.entries():
                receipt = self.client.receipt(entry.tx_hash)
                if receipt is not None and receipt.get("blockNumber") is not None:
                    confirmations = head - int(receipt["blockNumber"], 16) + 1
                    if confirmations >= self.finality_depth:
                        self.journal.forget(entry.nonce)
                        report.final.append(entry.tx_hash)
                    else:
                        report.pending.append(entry.tx_hash)
                    continue
                if entry.nonce < mined_nonce:
                    self.journal.forget(entry.nonce)
                    report.superseded.append(entry.tx_hash)
                    log.warning(
                        "journaled transaction superseded",
                        extra={"tx_hash": entry.tx_hash, "nonce": entry.nonce},
                    )
                    continue
                try:
                    self._broadcast(entry)
                except NonceTooLowError:
                    self.journal.forget(entry.nonce)
                    report.superseded.append(entry.tx_hash)
                    continue
                report.rebroadcast.append(entry.tx_hash)
            self._next_nonce = self._nonce_from_chain_and_journal()
            report.next_nonce = self._next_nonce
        if report.rebroadcast:
            log.info("rebroadcast journaled transactions", extra={"count": len(report.rebroadcast)})
        return report


class NonceTooLowError(ChainError):
    """The node says the transaction's nonce was already used by another transaction."""

"""Named Python exceptions for the consortium contracts' custom errors.

``ledger.chain.node.reverts`` decodes every revert into a ``ContractRevertError``
carrying the Solidity error's name and arguments. The bindings
(``registry``, ``credential_anchor``, ``audit_anchor``) re-raise it as the
specific subclass below, with the same fields, so callers write
``except CredentialAnchorDuplicateRootError`` instead of comparing strings.
``REVERT_ERRORS`` maps each Solidity error name to its class; a test checks
that it covers every error in the compiled ABIs.

The module also holds the two helpers every binding uses to talk to its
contract (``call_named``, ``transact_named``) and their result type
``TxOutcome``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import BoundContract, DecodedEvent
from ledger.chain.errors import ChainError, ContractRevertError
from ledger.chain.node.client import BlockId, checksum
from ledger.chain.node.transactions import NonceManager


class ConsortiumRevertError(ContractRevertError):
    """A consortium contract reverted with one of its named custom errors."""

    @property
    def fields(self) -> dict[str, Any]:
        """The error's arguments by their Solidity parameter names (addresses checksummed)."""
        params = _error_parameters().get(self.error_name, ())
        return {
            name: checksum(value) if kind == "address" else value
            for (name, kind), value in zip(params, self.error_args, strict=False)
        }


# --------------------------------------------------------------- IssuerRegistry


class IssuerRegistryError(ConsortiumRevertError):
    """Base of the IssuerRegistry's custom errors."""


class IssuerRegistryNotGovernorError(IssuerRegistryError):
    """The caller (``account``) is not a governor."""


class IssuerRegistryInvalidGovernorCountError(IssuerRegistryError):
    """A governor set must have between 1 and ``max`` members."""


class IssuerRegistryGovernorExistsError(IssuerRegistryError):
    """The account is already a governor."""


class IssuerRegistryGovernorUnknownError(IssuerRegistryError):
    """The account to remove is not a governor."""


class IssuerRegistryInvalidThresholdError(IssuerRegistryError):
    """The threshold would leave 1 <= M <= N."""


class IssuerRegistryGovernanceOnlyError(IssuerRegistryError):
    """Roles change only through governance proposals (grant/revoke/renounce disabled)."""


class IssuerRegistryUnknownActionError(IssuerRegistryError):
    """The proposal's action is not a governance action."""


class IssuerRegistryInvalidExpiryError(IssuerRegistryError):
    """The proposal's expiry is in the past or too far in the future."""


class IssuerRegistryUnknownProposalError(IssuerRegistryError):
    """No proposal has this id."""


class IssuerRegistryProposalExpiredError(IssuerRegistryError):
    """The proposal expired."""


class IssuerRegistryProposalStaleError(IssuerRegistryError):
    """The governor set changed since the proposal was made; propose again."""


class IssuerRegistryProposalAlreadyExecutedError(IssuerRegistryError):
    """The proposal was already executed."""


class IssuerRegistryAlreadyApprovedError(IssuerRegistryError):
    """The governor already approved the proposal."""


class IssuerRegistryInvalidIssuerIdError(IssuerRegistryError):
    """Issuer id 0 is reserved."""


class IssuerRegistryIssuerExistsError(IssuerRegistryError):
    """An issuer with this id was already admitted."""


class IssuerRegistryUnknownIssuerError(IssuerRegistryError):
    """No issuer with this id was admitted."""


class IssuerRegistryIssuerNotActiveError(IssuerRegistryError):
    """The issuer is suspended."""


class IssuerRegistryIssuerNotSuspendedError(IssuerRegistryError):
    """The issuer is not suspended."""


class IssuerRegistryInvalidDivisionCodeError(IssuerRegistryError):
    """A GB/T 2260 division code has six digits."""


class IssuerRegistryInvalidNameError(IssuerRegistryError):
    """A display name has 1..128 bytes of UTF-8."""


class IssuerRegistryInvalidAccountError(IssuerRegistryError):
    """The zero address, or an account that cannot take this role."""


class IssuerRegistryInvalidTargetError(IssuerRegistryError):
    """The epoch-reset target is not an AuditAnchor bound to this registry."""


class IssuerRegistryNotIssuerAdminError(IssuerRegistryError):
    """The caller is not the issuer's admin."""


class IssuerRegistryWriterTakenError(IssuerRegistryError):
    """The account is already a current writer of an issuer."""


class IssuerRegistryNotWriterError(IssuerRegistryError):
    """The account is not a current writer of the issuer."""


class IssuerRegistryInvalidKeyIdError(IssuerRegistryError):
    """Key id 0 is reserved."""


class IssuerRegistryKeyExistsError(IssuerRegistryError):
    """The issuer already has a key with this id."""


class IssuerRegistryUnknownKeyError(IssuerRegistryError):
    """The issuer has no key with this id."""


class IssuerRegistryInvalidPublicKeyError(IssuerRegistryError):
    """Not a 33-byte compressed SM2 point (0x02/0x03 prefix, x below the field prime)."""


class IssuerRegistryKeyBackdatedError(IssuerRegistryError):
    """The key's valid-from lies before the current block time."""


class IssuerRegistryKeyAlreadyRetiredError(IssuerRegistryError):
    """The key was already retired."""


class IssuerRegistryIndexOutOfRangeError(IssuerRegistryError):
    """No writer or key history entry at this index."""


class IssuerRegistryCompromiseNotEarlierError(IssuerRegistryError):
    """The key is already compromised from an earlier or equal time."""


class AccessControlUnauthorizedAccountError(ConsortiumRevertError):
    """OpenZeppelin AccessControl: the account lacks the role."""


class AccessControlBadConfirmationError(ConsortiumRevertError):
    """OpenZeppelin AccessControl: renounceRole was not confirmed by the caller."""


# ------------------------------------------------------------- CredentialAnchor


class CredentialAnchorError(ConsortiumRevertError):
    """Base of the CredentialAnchor's custom errors."""


class CredentialAnchorInvalidRegistryError(CredentialAnchorError):
    """The registry address given to the constructor has no code."""


class CredentialAnchorNotWriterError(CredentialAnchorError):
    """The caller is not a current writer of the issuer."""


class CredentialAnchorIssuerNotActiveError(CredentialAnchorError):
    """The issuer is suspended (or was never admitted)."""


class CredentialAnchorDuplicateRootError(CredentialAnchorError):
    """The issuer already anchored this root; ``anchoredAtBlock`` says where."""


class CredentialAnchorInvalidRootError(CredentialAnchorError):
    """The zero root is not a Merkle root."""


class CredentialAnchorInvalidTreeSizeError(CredentialAnchorError):
    """A batch has at least one credential."""


class CredentialAnchorEmptyBatchError(CredentialAnchorError):
    """An array call needs at least one digest."""


class CredentialAnchorBatchTooLargeError(CredentialAnchorError):
    """An array call takes at most ``max`` digests."""


class CredentialAnchorInvalidTransitionError(CredentialAnchorError):
    """The digest cannot go from its current status to the requested one."""


# ------------------------------------------------------------------ AuditAnchor


class AuditAnchorError(ConsortiumRevertError):
    """Base of the AuditAnchor's custom errors."""


class AuditAnchorInvalidRegistryError(AuditAnchorError):
    """The registry address given to the constructor has no code."""


class AuditAnchorNotWriterError(AuditAnchorError):
    """The caller is not a current writer of the log's issuer."""


class AuditAnchorIssuerNotActiveError(AuditAnchorError):
    """The log's issuer is suspended."""


class AuditAnchorInvalidRootError(AuditAnchorError):
    """The zero root is not a Merkle root."""


class AuditAnchorTreeSizeNotGrowingError(AuditAnchorError):
    """The tree size does not exceed the last one of the current epoch."""


class AuditAnchorNotRegistryError(AuditAnchorError):
    """Only the IssuerRegistry (executing a governance proposal) resets epochs."""


class AuditAnchorCheckpointOutOfRangeError(AuditAnchorError):
    """No checkpoint at this index."""


REVERT_ERRORS: dict[str, type[ConsortiumRevertError]] = {
    cls.__name__.removesuffix("Error"): cls
    for cls in (
        IssuerRegistryNotGovernorError,
        IssuerRegistryInvalidGovernorCountError,
        IssuerRegistryGovernorExistsError,
        IssuerRegistryGovernorUnknownError,
        IssuerRegistryInvalidThresholdError,
        IssuerRegistryGovernanceOnlyError,
        IssuerRegistryUnknownActionError,
        IssuerRegistryInvalidExpiryError,
        IssuerRegistryUnknownProposalError,
        IssuerRegistryProposalExpiredError,
        IssuerRegistryProposalStaleError,
        IssuerRegistryProposalAlreadyExecutedError,
        IssuerRegistryAlreadyApprovedError,
        IssuerRegistryInvalidIssuerIdError,
        IssuerRegistryIssuerExistsError,
        IssuerRegistryUnknownIssuerError,
        IssuerRegistryIssuerNotActiveError,
        IssuerRegistryIssuerNotSuspendedError,
        IssuerRegistryInvalidDivisionCodeError,
        IssuerRegistryInvalidNameError,
        IssuerRegistryInvalidAccountError,
        IssuerRegistryInvalidTargetError,
        IssuerRegistryNotIssuerAdminError,
        IssuerRegistryWriterTakenError,
        IssuerRegistryNotWriterError,
        IssuerRegistryInvalidKeyIdError,
        IssuerRegistryKeyExistsError,
        IssuerRegistryUnknownKeyError,
        IssuerRegistryInvalidPublicKeyError,
        IssuerRegistryKeyBackdatedError,
        IssuerRegistryKeyAlreadyRetiredError,
        IssuerRegistryIndexOutOfRangeError,
        IssuerRegistryCompromiseNotEarlierError,
        AccessControlUnauthorizedAccountError,
        AccessControlBadConfirmationError,
        CredentialAnchorInvalidRegistryError,
        CredentialAnchorNotWriterError,
        CredentialAnchorIssuerNotActiveError,
        CredentialAnchorDuplicateRootError,
        CredentialAnchorInvalidRootError,
        CredentialAnchorInvalidTreeSizeError,
        CredentialAnchorEmptyBatchError,
        CredentialAnchorBatchTooLargeError,
        CredentialAnchorInvalidTransitionError,
        AuditAnchorInvalidRegistryError,
        AuditAnchorNotWriterError,
        AuditAnchorIssuerNotActiveError,
        AuditAnchorInvalidRootError,
        AuditAnchorTreeSizeNotGrowingError,
        AuditAnchorNotRegistryError,
        AuditAnchorCheckpointOutOfRangeError,
    )
}
"""Solidity custom-error name -> the Python exception the bindings raise for it."""

CONSORTIUM_ARTIFACTS = ("IssuerRegistry", "CredentialAnchor", "AuditAnchor")
"""The deployable consortium contracts, by artifact name."""


@cache
def _error_parameters() -> dict[str, tuple[tuple[str, str], ...]]:
    params: dict[str, tuple[tuple[str, str], ...]] = {}
    for artifact in CONSORTIUM_ARTIFACTS:
        for entry in load_artifact(artifact).abi:
            if entry.get("type") == "error":
                params[str(entry["name"])] = tuple(
                    (str(i["name"]), str(i["type"])) for i in entry["inputs"]
                )
    return params


def named_revert(error: ContractRevertError) -> ContractRevertError:
    """Return ``error`` as its named subclass (same fields), or unchanged if it has none."""
    if isinstance(error, ConsortiumRevertError):
        return error
    cls = REVERT_ERRORS.get(error.error_name)
    if cls is None:
        return error
    return cls(error.error_name, error.error_args, error.data)


@contextmanager
def raising_named_reverts() -> Iterator[None]:
    """Re-raise any ``ContractRevertError`` inside the block as its named subclass."""
    try:
        yield
    except ContractRevertError as exc:
        named = named_revert(exc)
        if named is exc:
            raise
        raise named from None


@dataclass(frozen=True)
class TxOutcome:
    """A mined, successful transaction of a binding: hash, block, gas and decoded events."""

    tx_hash: str
    block_number: int
    gas_used: int
    events: tuple[DecodedEvent, ...]

    def named(self, name: str) -> list[DecodedEvent]:
        """The events called ``name``, in log order."""
        return [e for e in self.events if e.name == name]

    def event(self, name: str) -> DecodedEvent:
        """The first event called ``name``; ``ChainError`` if the transaction emitted none."""
        for candidate in self.events:
            if candidate.name == name:
                return candidate
        raise ChainError(f"transaction {self.tx_hash} emitted no {name} event")


def call_named(
    contract: BoundContract, function: str, *args: Any, block: BlockId = "latest"
) -> Any:
    """Read ``function(*args)``; a revert is raised as its named subclass."""
    with raising_named_reverts():
        return contract.call(function, *args, block=block)


def transact_named(
    contract: BoundContract,
    sender: NonceManager,
    function: str,
    *args: Any,
    extra: tuple[BoundContract, ...] = (),
    timeout: float = 60.0,
) -> TxOutcome:
    """Send ``function(*args)`` from ``sender``, wait for it and decode its events.

    A revert (found when estimating gas, or replayed after mining) is raised as its
    named subclass. The gas limit is the sender's estimate with headroom (capped at
    the block gas limit by ``NonceManager``). Events of ``contract`` and of every contract in
    ``extra`` are decoded (a governance action may make another contract emit).
    """
    data = contract.encode(function, *args)
    with raising_named_reverts():
        receipt = sender.transact(
            contract.address, data, label=f"{contract.artifact.name}.{function}", timeout=timeout
        )
    logs = receipt.get("logs", [])
    events: list[DecodedEvent] = []
    for bound in (contract, *extra):
        events.extend(bound.decode_logs(logs))
    events.sort(key=lambda e: e.log_index)
    return TxOutcome(
        tx_hash=str(receipt["transactionHash"]),
        block_number=int(receipt["blockNumber"], 16),
        gas_used=int(receipt["gasUsed"], 16),
        events=tuple(events),
    )

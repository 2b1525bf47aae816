"""Named Python exceptions for the consortium contracts' custom errors.

``ledger.chain.node.reverts`` decodes every revert into a ``ContractRevertError``
carrying the Solidity error's name and arguments. The bindings
(``registry``, ``credential_anchor``, ``audit_anchor``) re-raise it as the
specific subclass below, with the same fields, so callers write
``except CredentialAnchorDuplicateRootError`` instead of comparing strings.
``REVERT_ERRORS`` maps each Solidity error name to its class; a test checks
that it covers every error in the compiled ABIs.

The helpers that raise these (``named_revert``, ``call_named``, ``transact_named``...)
are in ``ledger.chain.contracts.calls``.
"""

from __future__ import annotations

from typing import Any

from ledger.chain.contracts.artifacts import error_parameters
from ledger.chain.errors import ContractRevertError
from ledger.chain.node.client import checksum


class ConsortiumRevertError(ContractRevertError):
    """A consortium contract reverted with one of its named custom errors."""

    @property
    def fields(self) -> dict[str, Any]:
        """The error's arguments by their Solidity parameter names (addresses checksummed)."""
        params = error_parameters().get(self.error_name, ())
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

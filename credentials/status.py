"""Credential status on chain: revocation, suspension, reinstatement, and their reason codes.

Status lives in ``CredentialAnchor`` per (issuer, credential digest), changed only by
the issuer's writers: None -> Suspended, None -> Revoked, Suspended -> None
(reinstate), Suspended -> Revoked; Revoked is final. The ``reason`` of each change
is a ``uint16`` from ``StatusReason`` (never change a value; add new ones).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from ledger.chain.contracts.credential_anchor import ALLOWED_TRANSITIONS, DigestStatus

__all__ = ["ALLOWED_TRANSITIONS", "DigestStatus", "StatusAction", "StatusReason", "target_status"]


class StatusReason(IntEnum):
    """Why a credential's status changed (on chain as ``uint16``; never change a value)."""

    UNSPECIFIED = 0
    KEY_COMPROMISE = 1
    SUPERSEDED = 2
    ISSUED_IN_ERROR = 3
    HOLDER_REQUEST = 4
    DATA_CHANGED = 5
    LEGAL_ORDER = 6
    UNDER_REVIEW = 7
    REVIEW_CLEARED = 8


class StatusAction(StrEnum):
    """A status change an issuer can request."""

    REVOKE = "revoke"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


def target_status(action: StatusAction) -> DigestStatus:
    """The status a digest has after ``action``."""
    return {
        StatusAction.REVOKE: DigestStatus.REVOKED,
        StatusAction.SUSPEND: DigestStatus.SUSPENDED,
        StatusAction.REINSTATE: DigestStatus.NONE,
    }[action]

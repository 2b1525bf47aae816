"""The audit package's one exception tree. Messages never carry event contents."""

from __future__ import annotations


class AuditError(Exception):
    """Base of every audit error."""


class EventRejectedError(AuditError):
    """A submitted event breaks a field rule; names the field, never its value."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"event field {field!r} {rule}")
        self.field = field
        self.rule = rule


class ReceiptError(AuditError):
    """A receipt does not verify (signature, batch root, or log id)."""


class CheckpointError(AuditError):
    """A checkpoint note is malformed or its signature does not verify."""


class LogCorruptedError(AuditError):
    """The stored log is inconsistent with itself (found while serving proofs or exporting)."""

"""Administrative actions as events in the province's audit log.

Every governance and issuer-administration request is recorded, whatever its
end: ``success`` when it was carried out or handed to the outbox, ``invalid``
when it was refused (the contract or the province's own rules), ``not_found``
when it named a key, writer or proposal that does not exist, ``error`` when
the store or chain failed. Nothing personal is involved: resources are
record types (``record:issuer_key``), never key ids or accounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from api.http.auth import POLICY_BASIS
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AuditLog

__all__ = [
    "ADMINISTRATION_PURPOSE",
    "AdminInputError",
    "AdminNotFoundError",
    "AdminRefusedError",
    "audited",
]

ADMINISTRATION_PURPOSE = "administration"
"""The purpose code of administrative events."""


class AdminRefusedError(Exception):
    """Base of refusals an administrative request can get (logged as ``invalid``)."""


class AdminInputError(AdminRefusedError):
    """A request field breaks a rule the model could not check (``field``: a JSON pointer)."""

    def __init__(self, field: str, rule: str) -> None:
        """``rule`` names the rule, never the value sent."""
        super().__init__(f"{field} {rule}")
        self.field = field
        self.rule = rule


class AdminNotFoundError(Exception):
    """Base of "no such key / writer / proposal" answers (logged as ``not_found``)."""


@contextmanager
def audited(
    audit_log: AuditLog, caller: Caller, action: str, resource: str, request_id: str
) -> Iterator[None]:
    """Append the event for ``action`` on ``resource`` once the block ends, with its outcome.

    The exception, if any, is re-raised after the event is appended.
    """
    outcome = Outcome.SUCCESS
    try:
        yield
    except AdminNotFoundError:
        outcome = Outcome.NOT_FOUND
        raise
    except AdminRefusedError:
        outcome = Outcome.INVALID
        raise
    except Exception:
        outcome = Outcome.ERROR
        raise
    finally:
        audit_log.append(
            caller,
            EventInput(
                action=action,
                resource=resource,
                purpose=ADMINISTRATION_PURPOSE,
                legal_basis=POLICY_BASIS,
                outcome=outcome,
                request_id=request_id,
            ),
        )

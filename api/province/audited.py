"""Administrative actions as events in the province's audit log.

Every governance and issuer-administration request is recorded, whatever its
end: ``success`` when it was carried out or handed to the outbox, ``invalid``
when it was refused (the contract or the province's own rules), ``not_found``
when it named a key, writer or proposal that does not exist, ``error`` when
the store or chain failed. Nothing personal is involved: resources are
record types (``record:issuer_key``), never key ids or accounts.

Administrative events are not access events (``api.province.access``): the
province records them under its own policy (legal basis ``POLICY_BASIS``,
purpose ``administration`` or ``access-control``), and they name no data
subject. Access-control changes and refusals (``api.denied``,
``api.client_create``...) are recorded with ``record_administrative`` too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from api.errors import ApiError, FieldRule, ProblemCode
from api.province.access import Declaration
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AuditLog

__all__ = [
    "ACCESS_CONTROL_PURPOSE",
    "ADMINISTRATION",
    "ADMINISTRATION_PURPOSE",
    "POLICY_BASIS",
    "AdminInputError",
    "AdminNotFoundError",
    "AdminRefusedError",
    "audited",
    "record_administrative",
]

POLICY_BASIS = "tongban.policy"
"""The legal basis of the province's own administrative and access-control events."""

ADMINISTRATION_PURPOSE = "administration"
"""The purpose code of administrative events."""

ACCESS_CONTROL_PURPOSE = "access-control"
"""The purpose code of access-control events (refusals, clients created or revoked)."""

ADMINISTRATION = Declaration(ADMINISTRATION_PURPOSE, POLICY_BASIS)
"""Purpose and legal basis of what the province does to its own data as administrator."""


class AdminRefusedError(ApiError):
    """Base of refusals an administrative request can get (logged as ``invalid``)."""

    code = ProblemCode.CONFLICT


class AdminInputError(AdminRefusedError):
    """A request field breaks a rule the model could not check (``field``: a JSON pointer)."""

    code = ProblemCode.VALIDATION_FAILED

    def __init__(self, field: str, rule: str) -> None:
        """``rule`` names the rule, never the value sent."""
        super().__init__(f"{field} {rule}", fields=[FieldRule(field, rule)])
        self.detail = "the request breaks a field rule"
        self.field = field
        self.rule = rule


class AdminNotFoundError(ApiError):
    """Base of "no such key / writer / proposal" answers (logged as ``not_found``)."""

    code = ProblemCode.NOT_FOUND


def record_administrative(
    audit_log: AuditLog,
    caller: Caller,
    action: str,
    resource: str,
    request_id: str,
    *,
    purpose: str = ADMINISTRATION_PURPOSE,
    outcome: Outcome = Outcome.SUCCESS,
) -> None:
    """Append the administrative event ``action`` on ``resource`` (legal basis the policy)."""
    audit_log.append(
        caller,
        EventInput(
            action=action,
            resource=resource,
            purpose=purpose,
            legal_basis=POLICY_BASIS,
            outcome=outcome,
            request_id=request_id,
        ),
    )


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
        record_administrative(audit_log, caller, action, resource, request_id, outcome=outcome)

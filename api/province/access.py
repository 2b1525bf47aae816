"""The one access-event path: no answer about personal data without its access event.

Every route that touches personal data records its access events here before
it answers (which routes, and which events, is ``api.http.routes.table``):

- ``access_event`` builds an event under the caller's declared purpose and
  legal basis (``Declaration``); the verifier builds its own from a result
  (``Verifier.access_event``), and it is recorded here all the same;
- ``record_access`` appends them in one group commit and waits until they are
  durable (thread-pool routes);
- ``record_access_async`` does the same from the event loop: it awaits the
  audit log's group-commit future (``asyncio.wrap_future``), so no thread is
  parked while the commit reaches the disk.

- ``record_presentation`` evaluates a presentation with its challenge use
  deferred (``credentials.verify.checks.deferred_challenges``) and uses the
  challenge up in the transaction that appends the access event (the audit
  log's guard): one durable write per presentation. When another presentation
  used the challenge first, the guard refuses, nothing is appended, and the
  presentation is evaluated again without deferring: check (6) is then
  ``challenge_used`` and its event records ``invalid``, exactly as when the
  challenge was used up first in its own transaction. A failed append rolls the
  challenge's use back with it.

When the events cannot be recorded, there is no answer. For a *verdict* (the
verification routes: nothing happened but the answer) any failure becomes
``AccessNotRecordedError``, 503 ``access-log-unavailable``. Otherwise the log's
own error propagates (``AuditError``, ``StoreError``, with their codes): the
request's effect may already have happened (a credential is stored) and the
failure is reported as what it is.

Administrative events (``api.denied``, clients, issuer and governance
administration) are another kind, recorded by ``api.province.audited``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from api.errors import ApiError, ProblemCode
from credentials.verify.checks import deferred_challenges
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AppendResult, AuditLog, Guard, GuardRefusedError

__all__ = [
    "AccessNotRecordedError",
    "Declaration",
    "access_event",
    "record_access",
    "record_access_async",
    "record_presentation",
]

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Declaration:
    """Why personal data is accessed: a purpose code and a legal basis code."""

    purpose: str
    legal_basis: str


class AccessNotRecordedError(ApiError):
    """The access event of a verdict could not be recorded, so the verdict is not given."""

    code = ProblemCode.ACCESS_LOG_UNAVAILABLE

    def __init__(self) -> None:
        """The one message: nothing about the event or the failure."""
        super().__init__("the access event could not be recorded; no verification answer is given")


def access_event(
    declared: Declaration,
    request_id: str,
    action: str,
    resource: str,
    *,
    outcome: Outcome = Outcome.SUCCESS,
    subject_id: str | None = None,
) -> EventInput:
    """The access event ``action`` on ``resource``, for ``declared`` reasons, in ``request_id``.

    ``subject_id`` is the data subject (the holder DID whenever one is known);
    the log stores only its keyed pseudonym.
    """
    return EventInput(
        action=action,
        resource=resource,
        purpose=declared.purpose,
        legal_basis=declared.legal_basis,
        outcome=outcome,
        request_id=request_id,
        subject_id=subject_id,
    )


def record_access(
    audit_log: AuditLog,
    caller: Caller,
    events: Sequence[EventInput],
    *,
    verdict: bool = False,
    guard: Guard | None = None,
) -> list[AppendResult]:
    """Append ``events`` for ``caller`` in one group commit; returns once they are durable.

    ``verdict``: the answer is a verification verdict, withheld on any failure
    (``AccessNotRecordedError``). Otherwise the log's error propagates.
    ``guard``: run in the commit transaction (``AuditLog.submit``); its refusal is
    ``GuardRefusedError`` even for a verdict, since the caller decides what it means.
    """
    try:
        return audit_log.submit(caller, events, guard=guard).result()
    except GuardRefusedError:
        raise
    except Exception as exc:
        if not verdict:
            raise
        log.exception("access event could not be appended")
        raise AccessNotRecordedError from exc


async def record_access_async(
    audit_log: AuditLog,
    caller: Caller,
    events: Sequence[EventInput],
    *,
    verdict: bool = False,
    guard: Guard | None = None,
) -> list[AppendResult]:
    """``record_access`` from the event loop, awaiting the group commit without a thread."""
    try:
        return await asyncio.wrap_future(audit_log.submit(caller, events, guard=guard))
    except GuardRefusedError:
        raise
    except Exception as exc:
        if not verdict:
            raise
        log.exception("access event could not be appended")
        raise AccessNotRecordedError from exc


def record_presentation(
    audit_log: AuditLog, caller: Caller, evaluate: Callable[[], tuple[T, EventInput]]
) -> T:
    """Evaluate a presentation and record its access event with its challenge in one commit.

    ``evaluate`` runs the verifier and returns the answer and its access event. It
    runs with the challenge's use deferred; the challenge is used up as the guard of
    the event's append (one durable write). If another presentation used it first,
    ``evaluate`` runs again without deferring, so its answer and event say
    ``challenge_used``. Any failure to record is ``AccessNotRecordedError`` (503), and
    then the challenge stays unused.
    """
    with deferred_challenges() as deferred:
        answer, event = evaluate()
    if deferred.guard is None:  # no challenge was found usable: nothing to use up
        record_access(audit_log, caller, [event], verdict=True)
        return answer
    try:
        record_access(audit_log, caller, [event], verdict=True, guard=deferred.use)
    except GuardRefusedError:
        answer, event = evaluate()
        record_access(audit_log, caller, [event], verdict=True)
    return answer

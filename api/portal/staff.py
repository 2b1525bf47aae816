"""The signed-in staff member of a portal page, through the sign-in package (``api.http.signin``).

``VERIFIER_STAFF`` is ``require_staff("verifier")`` on an app with staff sign-in:
without a session a page request is sent to ``/signin`` (303), anything else gets
401; a session without the role 403. On an app without staff sign-in (no identity
provider configured) every staff page is 503, never served unsigned. The access
event of a page action names the staff member as the package maps them
(``StaffSession.actor``, a keyed digest of the provider's ``sub``, and
``organisation``): ``staff_caller``.
"""

from __future__ import annotations

from fastapi import Request

from api.errors import ProblemCode
from api.http.problems import Problem
from api.http.signin import StaffSession, check_csrf, require_staff
from api.http.signin.session import signin_of
from ledger.audit.events import Caller

__all__ = ["VERIFIER_ROLE", "VERIFIER_STAFF", "check_form_csrf", "staff_caller"]

VERIFIER_ROLE = "verifier"
"""The Tongban role the verifier page requires."""

_VERIFIER = require_staff(VERIFIER_ROLE)


def VERIFIER_STAFF(request: Request) -> StaffSession:  # noqa: N802 - a dependency, named as one
    """The page dependency: a signed-in staff member holding the verifier role."""
    if signin_of(request) is None:
        raise Problem(ProblemCode.UNAVAILABLE, "staff sign-in is not configured in this service")
    return _VERIFIER(request)


def check_form_csrf(session: StaffSession, submitted: str | None) -> None:
    """The sign-in package's CSRF check of a form POST (403 problem on mismatch)."""
    check_csrf(session, submitted)


def staff_caller(session: StaffSession) -> Caller:
    """The access event's caller: the staff member as the sign-in package records them."""
    return Caller(session.actor, session.organisation)

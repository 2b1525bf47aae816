"""The signed-in staff member of a portal page, through the sign-in package (``api.http.signin``).

The portal codes against the interface ``api.http.signin`` provides
(``require_staff``, ``check_csrf``, ``StaffSession``; docs/portal.md). It is
looked up when the app is assembled: when the sign-in package is not installed
in this tree, the page dependency refuses every request (503 page, fail closed),
never signs anyone in. Tests replace ``VERIFIER_STAFF`` through FastAPI's
``app.dependency_overrides`` only.
"""

from __future__ import annotations

import hmac
import importlib
from types import ModuleType
from typing import Any, Protocol

from fastapi import Request

from api.errors import ProblemCode
from api.http.problems import Problem
from ledger.audit.events import Caller
from ledger.crypto.sm3 import sm3_hex

__all__ = [
    "SIGNIN_MODULE",
    "VERIFIER_ROLE",
    "VERIFIER_STAFF",
    "StaffView",
    "check_form_csrf",
    "signin_available",
    "staff_caller",
]

SIGNIN_MODULE = "api.http.signin"
"""The sign-in package (relying party, sessions, CSRF) the portal depends on."""
VERIFIER_ROLE = "verifier"
"""The Tongban role the verifier page requires."""


class StaffView(Protocol):
    """What the portal reads of ``api.http.signin.StaffSession``."""

    @property
    def subject(self) -> str:
        """The identity provider's ``sub`` (pseudonymous)."""

    @property
    def display_name(self) -> str:
        """The name shown in the header."""

    @property
    def roles(self) -> frozenset[str]:
        """Tongban roles mapped from the provider's claims."""

    @property
    def csrf_token(self) -> str:
        """The session's CSRF token, put into every form."""


def _signin() -> ModuleType | None:
    try:
        return importlib.import_module(SIGNIN_MODULE)
    except ModuleNotFoundError as error:
        if error.name == SIGNIN_MODULE:
            return None
        raise


def signin_available() -> bool:
    """Whether the sign-in package is present in this installation."""
    return _signin() is not None


def _signin_missing(request: Request) -> StaffView:
    """Fail closed: without the sign-in package no staff page is served."""
    raise Problem(ProblemCode.UNAVAILABLE, "staff sign-in is not available in this service")


def _verifier_dependency() -> Any:
    signin = _signin()
    if signin is None:
        return _signin_missing
    return signin.require_staff(VERIFIER_ROLE)


VERIFIER_STAFF: Any = _verifier_dependency()
"""The page dependency: a signed-in staff member holding the verifier role."""


def check_form_csrf(session: StaffView, submitted: str | None) -> None:
    """The sign-in package's CSRF check of a form POST (403 problem on mismatch)."""
    signin = _signin()
    if signin is not None:
        signin.check_csrf(session, submitted)
        return
    # Reached only under a test's dependency override (the page dependency above
    # refuses otherwise): the same constant-time rule.
    if submitted is None or not hmac.compare_digest(
        submitted.encode("utf-8"), session.csrf_token.encode("utf-8")
    ):
        raise Problem(ProblemCode.FORBIDDEN, "the form's CSRF token is missing or wrong")


def staff_caller(session: StaffView, org: str) -> Caller:
    """The access event's caller for ``session``: the sign-in package's mapping when it has one.

    Otherwise ``staff:`` and the first 32 hex digits of SM3 of the provider's
    ``sub``: pseudonymous, stable per staff member, within the actor pattern.
    """
    signin = _signin()
    mapping = None if signin is None else getattr(signin, "staff_caller", None)
    if mapping is not None:
        caller: Caller = mapping(session)
        return caller
    return Caller(f"staff:{sm3_hex(session.subject.encode('utf-8'))[:32]}", org)

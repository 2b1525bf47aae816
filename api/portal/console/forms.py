"""The consoles' form fields: read, CSRF-checked, each checked by the API's rule for it.

A console form is ``application/x-www-form-urlencoded`` (the export check's
upload is multipart, in ``api.portal.console.audit_export``). A bad field is a
``FormError`` naming the field (never its value); a missing or wrong CSRF token
is the sign-in package's 403 problem.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from fastapi import Request

from api.http.auth import check_declaration
from api.http.problems import Problem
from api.http.signin import StaffSession
from api.portal.staff import check_form_csrf
from api.province.access import Declaration

__all__ = [
    "CHINA",
    "FormError",
    "clean",
    "declaration",
    "local_time_ms",
    "read_fields",
    "report_day",
]

CHINA = timezone(timedelta(hours=8), "CST")
"""China Standard Time: the consoles' times and days (UTC+8 all year)."""

_FIELD_CAP = 256
_FIELDS_CAP = 40
_PATTERNS = {
    "actor": re.compile(r"^[a-z0-9][a-z0-9_.:\-]{0,127}$"),
    "organisation": re.compile(r"^[a-z0-9][a-z0-9_.:\-]{0,127}$"),
    "agency": re.compile(r"^[0-9A-Z]{18}$"),
    "action": re.compile(r"^[a-z][a-z0-9_.\-]{0,63}$"),
    "event_purpose": re.compile(r"^[a-z][a-z0-9_.\-]{0,63}$"),
    "outcome": re.compile(r"^(success|denied|not_found|invalid|error)$"),
    "cursor": re.compile(r"^[0-9]{1,16}$"),
    "client_id": re.compile(r"^[a-z0-9][a-z0-9_.:\-]{0,127}$"),
    "key_id": re.compile(r"^[A-Za-z0-9._-]{1,32}$"),
}


class FormError(ValueError):
    """A form field that breaks its rule; ``field`` names it (the value is never kept)."""

    def __init__(self, field: str) -> None:
        """``field``: the form field at fault."""
        super().__init__(field)
        self.field = field


async def read_fields(request: Request, staff: StaffSession) -> dict[str, str]:
    """The form's fields (first value of each), after its CSRF token is checked.

    Raises the 403 problem for a missing or wrong token, ``FormError`` for a form
    that is not one of ours (too many or too long fields).
    """
    form = await request.form(max_files=0, max_fields=_FIELDS_CAP)
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if not isinstance(value, str) or len(value) > _FIELD_CAP:
            raise FormError(name if len(name) <= 64 else "form")
        fields.setdefault(name, value)
    check_form_csrf(staff, fields.get("csrf_token") or None)
    return fields


def clean(fields: dict[str, str], name: str) -> str | None:
    """Field ``name`` stripped, None when empty; ``FormError`` when it breaks its pattern."""
    value = fields.get(name, "").strip()
    if not value:
        return None
    pattern = _PATTERNS.get(name)
    if pattern is not None and not pattern.fullmatch(value):
        raise FormError(name)
    return value


def declaration(purpose: str | None, legal_basis: str | None) -> Declaration:
    """The declared purpose and legal basis of an audit access (the API's headers' rule)."""
    try:
        return check_declaration(purpose or None, (legal_basis or "").strip() or None)
    except Problem:
        raise FormError("purpose") from None


def local_time_ms(fields: dict[str, str], name: str) -> int | None:
    """A ``datetime-local`` field read in China Standard Time, in ms since the epoch."""
    value = clean(fields, name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FormError(name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return int(moment.timestamp() * 1000)


def report_day(fields: dict[str, str], name: str) -> date | None:
    """A ``date`` field (a UTC+8 day)."""
    value = clean(fields, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError(name) from None

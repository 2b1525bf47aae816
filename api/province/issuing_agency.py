"""Which issuing agency (颁发机构) an issuance is for, and whether its client may ask for it.

An issuing request names the agency by its 统一社会信用代码, or leaves it out.
``issuing_agency`` answers the ``Agency`` that goes into the credential:

1. A named agency must be well formed (``validation-failed`` naming the field),
   one the client may issue for (``agency-not-allowed``, 403, asked before the
   registry so a client learns nothing about agencies not its own), and, in the
   registry, active and allowed the template (``agency-refused``, 422).
2. Left out: the one agency the client may issue for that is active and may
   issue the template. None such, or several, is ``validation-failed`` naming
   the field, unless the template has no national metadata (it is not a
   电子证照), in which case the credential has no agency.

The field is the request's JSON pointer (``/agency``, ``/requests/3/agency``,
``/options/agency``), so the problem names the member to fix. Nothing here
echoes a code.
"""

from __future__ import annotations

from api.errors import ApiError, FieldRule, ProblemCode
from api.province.clients import ApiClient
from credentials.templates import TEMPLATES
from credentials.zhengzhao.agencies import (
    AgencyError,
    AgencyInputError,
    candidates,
    event_org,
    resolve,
    validate_code,
)
from credentials.zhengzhao.profile import Agency
from ledger.audit.events import Caller
from ledger.store.database import Database

__all__ = ["AgencyRefusedError", "agency_caller", "issuing_agency"]

_REASONS = {
    "unknown": "must be an agency registered in this province",
    "retired": "names a retired agency, which issues no more certificates",
    "template_not_allowed": "names an agency that may not issue this template",
}


class AgencyRefusedError(ApiError):
    """An issuing request's agency cannot be used; ``fields`` names the member and the rule."""

    def __init__(self, code: ProblemCode, field: str, rule: str) -> None:
        """``field``: the request's JSON pointer; ``rule``: what is wrong, never the value."""
        super().__init__(f"{field}: {rule}", code=code, fields=[FieldRule(field, rule)])


def _named(db: Database, client: ApiClient, template: str, code: str, field: str) -> Agency:
    try:
        validate_code(code, field=field)
    except AgencyInputError as exc:
        raise AgencyRefusedError(ProblemCode.VALIDATION_FAILED, field, exc.rule) from None
    if not client.may_issue_for(code):
        raise AgencyRefusedError(
            ProblemCode.AGENCY_NOT_ALLOWED, field, "names an agency this client may not issue for"
        )
    try:
        return resolve(db, template, code)
    except AgencyError as exc:
        rule = _REASONS.get(exc.reason, "names an agency that cannot issue this template")
        raise AgencyRefusedError(ProblemCode.AGENCY_REFUSED, field, rule) from None


def _only_one(db: Database, client: ApiClient, template: str, field: str) -> Agency | None:
    found = candidates(db, template, client.agencies)
    if len(found) == 1:
        return found[0].agency
    if TEMPLATES[template].national is None and not found:
        return None
    if not found:
        rule = "is required: this client may issue this template for no agency"
    else:
        rule = "is required: this client may issue this template for several agencies; name one"
    raise AgencyRefusedError(ProblemCode.VALIDATION_FAILED, field, rule)


def issuing_agency(
    db: Database, client: ApiClient, template: str, code: str | None, *, field: str
) -> Agency | None:
    """The agency an issuance of ``template`` by ``client`` is for (see the module docstring).

    ``code`` is the agency the request names (None: left out); ``field`` the
    request's pointer to it. Raises ``AgencyRefusedError``.
    """
    if template not in TEMPLATES:
        return None  # the issuer refuses it, naming the template
    if code is not None:
        return _named(db, client, template, code, field)
    return _only_one(db, client, template, field)


def agency_caller(caller: Caller, agency: Agency | None) -> Caller:
    """The audit identity of an issuance for ``agency``: the client, acting for the agency.

    The event's ``actorOrg`` is the agency (``event_org``); the actor stays the
    client, whose own organisation the client registry keeps.
    """
    if agency is None:
        return caller
    return Caller(caller.actor, event_org(agency.code))

"""The issuing agency of an issue request, in both dialects of ``POST /credentials/issue``.

The Tongban dialect names the agency in ``agency`` (per request in a batch),
the VC API dialect in ``options.agency``; ``api.province.issuing_agency``
decides which agency that is, or refuses. These functions put the answer into
the domain request (``IssueRequest.agency``, ``SubmittedCredential.agency``),
and ``as_sent`` gives the requests an ``Idempotency-Key`` stands for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from api.errors import ProblemCode
from api.http.schemas.vcapi import VcApiIssueIn, submitted_credential
from api.province.clients import ApiClient
from api.province.issuing_agency import AgencyRefusedError, issuing_agency
from credentials.credential import IssueRequest
from credentials.submitted import CredentialRequest, SubmittedCredential, submitted_template
from ledger.store.database import Database

__all__ = ["as_sent", "submitted_with_agency", "with_agency"]


def with_agency(
    db: Database, client: ApiClient, request: IssueRequest, code: str | None, field: str
) -> IssueRequest:
    """``request`` issued for the agency ``code`` names (or the one chosen when None)."""
    agency = issuing_agency(db, client, request.template, code, field=field)
    return request if agency is None else replace(request, agency=agency)


def submitted_with_agency(
    db: Database, client: ApiClient, body: VcApiIssueIn
) -> SubmittedCredential:
    """The VC API request of ``body``, issued for the agency ``options.agency`` names.

    Only a credential of a certificate template is issued for an agency; naming
    one for any other credential is ``agency-refused``.
    """
    request = submitted_credential(body)
    code, field = body.options.agency, "/options/agency"
    template = submitted_template(body.credential)
    if template is None:
        if code is not None:
            raise AgencyRefusedError(
                ProblemCode.AGENCY_REFUSED,
                field,
                "only a credential of a certificate template is issued for an agency",
            )
        return request
    agency = issuing_agency(db, client, template.name, code, field=field)
    return request if agency is None else replace(request, agency=agency)


def as_sent(
    requests: Sequence[CredentialRequest], named: Sequence[bool]
) -> list[CredentialRequest]:
    """``requests`` as their body was sent: without the agencies the requests did not name.

    An ``Idempotency-Key`` stands for the body as sent, so a retry replays
    whatever agency was chosen the first time, and a key stored before agencies
    existed still matches its retry. ``named[i]``: request ``i`` named its agency
    (``agency``, or ``options.agency`` in the VC API dialect).
    """
    return [r if keep else replace(r, agency=None) for r, keep in zip(requests, named, strict=True)]

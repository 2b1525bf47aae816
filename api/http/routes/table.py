"""Every route of the API in one table: whether it touches personal data, what it records.

``ROUTE_TABLE`` maps ``(method, path template)`` to a ``RouteUse``. A route
that touches personal data answers only after its access events are durable
(``api.province.access``: the caller's purpose and legal basis, the data
subject as a keyed pseudonym); a route that does not records no access event.
Administrative events (``api.province.audited``: the province's own policy as
legal basis, no data subject) are listed apart. ``api.denied`` is left out:
any authenticated route records it for a refused token (``api.http.auth``).

``create_app`` refuses to build an app whose routes and this table differ,
and publishes each operation's entry as ``x-personal-data`` and
``x-access-events`` in the OpenAPI document; the route tests call every route
and compare what it appended to the log with its entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

__all__ = [
    "NONE",
    "ROUTE_TABLE",
    "RouteUse",
    "app_routes",
    "document_route_table",
    "table_mismatch",
]


@dataclass(frozen=True)
class RouteUse:
    """What one route does with personal data and which events a successful call records."""

    personal_data: bool = False
    """It answers with or changes personal data: no answer before its access events."""
    access_events: tuple[str, ...] = ()
    """Actions of the access events it records (one per credential, presentation, read...)."""
    admin_events: tuple[str, ...] = ()
    """Actions of the administrative events it records (access control, administration)."""
    caller_events: bool = False
    """It appends the access events the caller states (``/audit/events``): theirs, not its own."""


NONE = RouteUse()
"""No personal data and no event (health, proofs, reads of digests and chain state)."""


def _personal(*access: str, admin: tuple[str, ...] = ()) -> RouteUse:
    return RouteUse(personal_data=True, access_events=access, admin_events=admin)


def _administrative(*admin: str) -> RouteUse:
    return RouteUse(admin_events=admin)


ROUTE_TABLE: dict[tuple[str, str], RouteUse] = {
    # health and documentation
    ("GET", "/healthz"): NONE,
    ("GET", "/readyz"): NONE,
    ("GET", "/metrics"): NONE,
    ("GET", "/docs"): NONE,
    # the counter portal (api.portal, docs/portal.md): the verifier page verifies as the API
    ("GET", "/"): NONE,
    ("POST", "/"): _personal("credential.verify", "presentation.verify"),
    ("GET", "/static/{name}"): NONE,
    # a camera frame's QR text handed back to the clerk who sent it: nothing verified, read
    # or kept; the verification that follows (POST /) is the audited access
    ("POST", "/scan"): NONE,
    # staff sign-in's pages in the portal's layout (api.portal.signin_pages): they name nobody
    ("GET", "/signed-out"): NONE,
    ("GET", "/signin/refused"): NONE,
    # the consoles (api.portal.console, docs/consoles.md): reading the log is an audit.read
    # access as on /audit/*; the operator's actions record the API routes' events
    ("GET", "/console/"): NONE,
    ("GET", "/console/audit"): NONE,
    ("POST", "/console/audit/search"): _personal("audit.read"),
    ("GET", "/console/audit/events/{index}"): _personal("audit.read"),
    ("POST", "/console/audit/anomalies"): _personal("audit.read"),
    ("POST", "/console/audit/export"): _personal("audit.read"),
    ("POST", "/console/audit/export/verify"): NONE,
    # the auditor's own chain node for the in-browser proof, kept in their browser's cookie
    ("POST", "/console/audit/node"): NONE,
    ("GET", "/console/operator"): NONE,
    ("POST", "/console/operator/clients"): _administrative("api.client_create"),
    ("POST", "/console/operator/clients/{client_id}/revoke"): _administrative("api.client_revoke"),
    ("POST", "/console/operator/keys"): _administrative("issuer.key.rotate"),
    ("POST", "/console/operator/proposals/{proposal_id}/approve"): _administrative(
        "governance.approve"
    ),
    # asking the citizen to present (api.portal.ask, docs/oid4vp.md): the wallet's answer is
    # the one access; the clerk's own session then reads the outcome it recorded
    ("GET", "/ask"): NONE,
    ("POST", "/ask"): NONE,
    ("GET", "/ask/{request_id}"): NONE,
    ("GET", "/ask/{request_id}/qr.svg"): NONE,
    ("GET", "/oid4vp/requests/{request_id}"): NONE,
    ("GET", "/oid4vp/requests/{request_id}/result"): NONE,
    ("POST", "/oid4vp/responses/{request_id}"): _personal("presentation.verify"),
    # the audit log: appends are the callers' own events; reading events is an access
    ("POST", "/audit/events"): RouteUse(caller_events=True),
    ("POST", "/audit/events/batch"): RouteUse(caller_events=True),
    ("GET", "/audit/events/{index}"): _personal("audit.read"),
    ("GET", "/audit/export"): _personal("audit.read"),
    ("GET", "/audit/checkpoints"): NONE,
    ("GET", "/audit/proofs/inclusion"): NONE,
    ("GET", "/audit/proofs/consistency"): NONE,
    # the consoles' data (api.http.routes.consoles): searching the log and its anomaly
    # views are reads of the log; the operator's overview names nobody
    ("GET", "/audit/events"): _personal("audit.read"),
    ("GET", "/audit/anomalies"): _personal("audit.read"),
    ("GET", "/operator/overview"): NONE,
    # the citizen view (its event is appended by ledger.audit.citizen.CitizenView.answer)
    ("POST", "/citizen/challenge"): NONE,
    ("POST", "/citizen/access-history"): _personal("audit.citizen_view"),
    ("GET", "/.well-known/tongban-directory.json"): NONE,  # the consortium directory
    # API clients
    ("POST", "/clients"): _administrative("api.client_create"),
    ("GET", "/clients"): NONE,
    ("POST", "/clients/{client_id}/revoke"): _administrative("api.client_revoke"),
    ("POST", "/clients/{client_id}/agencies"): _administrative("api.client_agencies"),
    # Issuing agencies (organisations, not people)
    ("POST", "/agencies"): _administrative("api.agency_add"),
    ("GET", "/agencies"): NONE,
    ("PUT", "/agencies/{code}/templates"): _administrative("api.agency_templates"),
    ("POST", "/agencies/{code}/retire"): _administrative("api.agency_retire"),
    # credentials: issuing and reading hold personal data; digests and chain state do not
    ("POST", "/credentials/issue"): _personal("credential.issue"),
    ("POST", "/credentials/issue/batch"): _personal("credential.issue"),
    ("GET", "/credentials/{digest}"): _personal("credential.read"),
    ("GET", "/credentials/{digest}/anchoring"): NONE,
    ("GET", "/credentials/{digest}/anchor-proof"): NONE,
    ("GET", "/credentials/{digest}/certificate.pdf"): _personal("credential.print"),
    ("GET", "/credentials/{digest}/status"): NONE,
    ("POST", "/credentials/status"): NONE,
    ("GET", "/credentials/status-requests/{request_id}"): NONE,
    # the credential offer (OpenID4VCI pre-authorized code, docs/oid4vci.md): the issuer
    # system hands over the claims (kept sealed); the wallet's redemption is the issuance
    ("POST", "/credential-offers"): _personal("credential.offer"),
    ("GET", "/credential-offers/{handle}"): NONE,
    ("GET", "/.well-known/openid-credential-issuer"): NONE,
    ("GET", "/.well-known/oauth-authorization-server"): NONE,
    ("POST", "/token"): NONE,
    ("POST", "/nonce"): NONE,
    ("POST", "/credential"): _personal("credential.issue"),
    # verification
    ("POST", "/challenges"): NONE,
    ("POST", "/credentials/verify"): _personal("credential.verify"),
    ("POST", "/credentials/verify/batch"): _personal("credential.verify"),
    ("POST", "/presentations/verify"): _personal("presentation.verify"),
    ("POST", "/documents/verify"): _personal("credential.verify"),
    ("GET", "/dids/{did}"): NONE,
    # the certificate catalogue
    ("GET", "/templates"): NONE,
    ("GET", "/templates/{name}"): NONE,
    # the purpose catalogue (用证事由)
    ("GET", "/purposes"): NONE,
    # 证照标识 lookup: names a citizen's certificate; claims only with the holder's VP
    ("POST", "/zhengzhao/lookup"): _personal("zhengzhao.lookup"),
    # governance
    ("GET", "/governance"): NONE,
    ("GET", "/governance/proposals"): NONE,
    ("POST", "/governance/proposals"): _administrative("governance.propose"),
    ("GET", "/governance/proposals/{proposal_id}"): NONE,
    ("POST", "/governance/proposals/{proposal_id}/approvals"): _administrative(
        "governance.approve"
    ),
    # the province's issuer: re-issuing after a compromise handles personal data
    ("GET", "/issuer"): NONE,
    ("POST", "/issuer/keys"): _administrative("issuer.key.rotate"),
    ("POST", "/issuer/keys/{key_id}/retire"): _administrative("issuer.key.retire"),
    ("POST", "/issuer/keys/{key_id}/compromise"): _administrative("issuer.key.compromise"),
    ("POST", "/issuer/keys/{key_id}/compromise-response"): _personal(
        "credential.reissue", admin=("issuer.key.compromise_response",)
    ),
    ("POST", "/issuer/writers"): _administrative("issuer.writer.add"),
    ("POST", "/issuer/writers/{account}/retire"): _administrative("issuer.writer.retire"),
    ("GET", "/operations/{operation_id}"): NONE,
    # public status lists: bits at random indexes, no token, no access event
    ("GET", "/status-lists/{list_number}/{purpose}"): NONE,
}
"""Every route of the app, by method and path template."""


def app_routes(routes: Sequence[BaseRoute]) -> set[tuple[str, str]]:
    """``(method, path template)`` of every API route in ``routes`` (included routers too)."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(routes):
        path = route.path_format
        if not isinstance(route.original_route, APIRoute) or path is None:
            continue
        found.update((method, path) for method in route.methods or ())
    return found


def table_mismatch(routes: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Routes missing from ``ROUTE_TABLE``, and entries that name no route."""
    present = set(routes)
    missing = sorted(f"{m} {p}" for m, p in present - ROUTE_TABLE.keys())
    stale = sorted(f"{m} {p}" for m, p in ROUTE_TABLE.keys() - present)
    return missing, stale


def document_route_table(document: dict[str, Any]) -> None:
    """Add ``x-personal-data`` (and ``x-access-events``) to each operation of ``document``."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            use = ROUTE_TABLE.get((method.upper(), path))
            if use is None:
                continue
            operation["x-personal-data"] = use.personal_data
            if use.access_events:
                operation["x-access-events"] = list(use.access_events)

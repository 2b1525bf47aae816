"""Every route against the route table: no answer about personal data without its access event.

``api.http.routes.table.ROUTE_TABLE`` declares, for each route, whether it
touches personal data, the access events a successful call records and its
administrative events. Here:

1. the table names exactly the app's routes (no route missing, no stale
   entry), and the published ``x-personal-data``/``x-access-events`` say the
   same;
2. every route is called once, successfully, on one province, and what the
   call appended to the log is compared with its entry: a personal-data route
   appends exactly its access events (one per credential issued, read,
   verified or re-issued, per presentation, per log read, per citizen
   answer), any other route none; ``/audit/events`` appends exactly the events
   the caller sent and nothing of its own; every route appends exactly its
   administrative events; every event carries the call's request id;
3. a verification whose event cannot be recorded gets no verdict.

Access events and administrative events are told apart by what the log
holds, not by a list of action names: an administrative event (``api.denied``,
``api.client_create``, ``issuer.key.rotate``, ``governance.approve``...) has
the province's own policy as its legal basis (``tongban.policy``) and names
no data subject; an access event names a data subject, or has a legal basis
the caller declared (``X-Legal-Basis``) or the data subject's own (the citizen
view's ``prc.pipl.art45``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.http.routes.table import ROUTE_TABLE, RouteUse, app_routes
from api.province.clients import Role
from credentials.holder import Holder
from ledger.audit.citizen_request import request_payload
from ledger.audit.events import AccessEvent
from tests.helpers.admin_province import admin_province, drive
from tests.helpers.certificate_files import form_body, sample_pdf
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import issue_body
from tests.helpers.server import Province, Reply, event_body

POLICY_BASIS = "tongban.policy"
CHOSEN = ["degreeLevel", "awardingInstitution"]
ID_NUMBER = "110101199003071234"


def is_access_event(event: AccessEvent) -> bool:
    """An access to personal data, as opposed to an administrative event (see above)."""
    return event.subject is not None or event.legal_basis != POLICY_BASIS


def test_the_table_names_every_route_of_the_app_and_is_published(province: Province) -> None:
    routes = app_routes(province.app.routes)
    assert sorted(routes - ROUTE_TABLE.keys()) == [], "routes missing from the table"
    assert sorted(ROUTE_TABLE.keys() - routes) == [], "table entries naming no route"
    for (method, path), use in ROUTE_TABLE.items():
        if use.personal_data:
            assert use.access_events, f"{method} {path} touches personal data but records nothing"
            assert not use.caller_events
        else:
            assert not use.access_events, f"{method} {path} records access events"
    document = province.request("GET", "/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            use = ROUTE_TABLE[(method.upper(), path)]
            assert operation["x-personal-data"] is use.personal_data, (method, path)
            assert operation.get("x-access-events", []) == list(use.access_events), (method, path)


@dataclass
class Calls:
    """Calls routes and compares what each appended to the log with its table entry."""

    province: ServedProvince
    called: set[tuple[str, str]] = field(default_factory=set)
    wrong: list[str] = field(default_factory=list)

    def __call__(
        self,
        method: str,
        template: str,
        role: Role | None = None,
        *,
        path: str | None = None,
        status: int = 200,
        count: int = 1,
        **kwargs: Any,
    ) -> Reply:
        """``method template`` (at ``path`` if given) as ``role``; ``count``: data touched."""
        log = self.province.parts.audit_log
        before = log.size()
        reply = self.province.request(method, path or template, role, **kwargs)
        assert reply.status == status, (method, path or template, reply.status, reply.text)
        appended = [r.event for r in log.iterate(before)]
        key = (method, template)
        self.called.add(key)
        sent = kwargs.get("json_body")
        self.wrong.extend(_differences(key, ROUTE_TABLE[key], appended, count, sent, reply))
        return reply


def _differences(
    key: tuple[str, str],
    use: RouteUse,
    appended: list[AccessEvent],
    count: int,
    sent: Any,
    reply: Reply,
) -> list[str]:
    name = " ".join(key)
    access = [e.action for e in appended if is_access_event(e)]
    admin = [e.action for e in appended if not is_access_event(e)]
    if use.caller_events:
        stated = sent.get("events", [sent])
        expected = [event["action"] for event in stated]
    elif use.personal_data:
        assert count >= 1, f"{name}: the call touched no personal data, it proves nothing"
        expected = [action for action in use.access_events for _ in range(count)]
    else:
        expected = []
    found = []
    if access != expected:
        found.append(f"{name}: access events {access}, declared {expected}")
    if admin != list(use.admin_events):
        found.append(f"{name}: administrative events {admin}, declared {list(use.admin_events)}")
    request_id = reply.header("X-Request-Id")
    if any(e.request_id != request_id for e in appended):
        found.append(f"{name}: an event of another request was appended")
    return found


def _issue_and_read(call: Calls, holders: list[Holder]) -> tuple[str, dict[str, Any]]:
    province = call.province
    first = call(
        "POST",
        "/credentials/issue",
        Role.ISSUER,
        status=201,
        json_body=issue_body(holders[0].did),
        headers=PERSONAL,
    ).json()
    batch = {"requests": [issue_body(h.did) for h in holders[1:]]}
    call(
        "POST",
        "/credentials/issue/batch",
        Role.ISSUER,
        status=201,
        count=len(holders) - 1,
        json_body=batch,
        headers=PERSONAL,
    )
    province.anchor_all()
    digest: str = first["digest"]
    read = call(
        "GET", "/credentials/{digest}", Role.HOLDER, path=f"/credentials/{digest}", headers=PERSONAL
    )
    credential: dict[str, Any] = read.json()["credential"]
    for suffix, role in (("anchoring", Role.ISSUER), ("anchor-proof", Role.HOLDER)):
        template = "/credentials/{digest}/" + suffix
        call("GET", template, role, path=f"/credentials/{digest}/{suffix}")
    call("GET", "/credentials/{digest}/status", Role.VERIFIER, path=f"/credentials/{digest}/status")
    printed = "/credentials/{digest}/certificate.pdf"
    call(
        "GET", printed, Role.ISSUER, path=f"/credentials/{digest}/certificate.pdf", headers=PERSONAL
    )
    return digest, credential


def _verify(call: Calls, holder: Holder, credential: dict[str, Any]) -> None:
    province = call.province
    verdict = call(
        "POST",
        "/credentials/verify",
        Role.VERIFIER,
        json_body={"verifiableCredential": credential},
        headers=PERSONAL,
    )
    assert verdict.json()["verdict"] == "VALID", verdict.text
    # A malformed item is no access: two credentials verified, two events.
    batch = call(
        "POST",
        "/credentials/verify/batch",
        Role.VERIFIER,
        count=2,
        json_body={"verifiableCredentials": [credential, 42, credential]},
        headers=PERSONAL,
    )
    assert [r.get("verdict") for r in batch.json()["results"]] == ["VALID", None, "VALID"]
    challenge = call("POST", "/challenges", Role.VERIFIER, status=201).json()["challenge"]
    presentation = holder.present([(credential, CHOSEN)], challenge=challenge, domain=province.did)
    shown = call(
        "POST",
        "/presentations/verify",
        Role.VERIFIER,
        json_body={"verifiablePresentation": presentation},
        headers=PERSONAL,
    )
    assert shown.json()["verdict"] == "VALID", shown.text
    # The credential names no file: a verification all the same (file_not_named), one event.
    body, content_type = form_body({"file": sample_pdf(), "credential": credential})
    document = call(
        "POST",
        "/documents/verify",
        Role.VERIFIER,
        body=body,
        headers={**PERSONAL, "Content-Type": content_type},
    )
    assert document.json()["file"]["reasonCode"] == "file_not_named", document.text
    call("GET", "/dids/{did}", Role.VERIFIER, path=f"/dids/{holder.did}")
    call("GET", "/templates", Role.ISSUER)
    call("GET", "/templates/{name}", Role.ISSUER, path="/templates/degree-certificate")
    call("GET", "/purposes", Role.VERIFIER)
    identifier = credential["zhengzhao"]["identifier"]
    found = call(
        "POST",
        "/zhengzhao/lookup",
        Role.VERIFIER,
        json_body={"identifier": identifier},
        headers=PERSONAL,
    )
    assert "claims" not in found.json(), found.text


def _citizen_and_audit(call: Calls, holder: Holder) -> None:
    asked = call("POST", "/citizen/challenge", json_body={"holder": holder.did}).json()
    challenge = asked["challenge"]
    signature = holder.signer.sign(request_payload(ZJ, holder.did, challenge)).hex()
    history = call(
        "POST",
        "/citizen/access-history",
        json_body={"holder": holder.did, "challenge": challenge, "signature": signature},
    ).json()
    assert history["records"], "the holder's credential was issued, read and verified"
    call("POST", "/audit/events", Role.VERIFIER, status=201, json_body=event_body(1))
    call(
        "POST",
        "/audit/events/batch",
        Role.ISSUER,
        status=201,
        json_body={"events": [event_body(2), event_body(3, action="credential.read")]},
    )
    call("GET", "/audit/events/{index}", Role.AUDITOR, path="/audit/events/0", headers=PERSONAL)
    call("GET", "/audit/checkpoints", Role.AUDITOR)
    inclusion = "/audit/proofs/inclusion?index=0&size=1"
    call("GET", "/audit/proofs/inclusion", Role.AUDITOR, path=inclusion)
    consistency = "/audit/proofs/consistency?from=1&to=1"
    call("GET", "/audit/proofs/consistency", Role.AUDITOR, path=consistency)
    call("GET", "/audit/export", Role.AUDITOR, headers=PERSONAL)
    # The consoles' data (api.http.routes.consoles): the search and the anomaly report
    # read the log (audit.read); the overview names nobody.
    search = "/audit/events?purpose=cross-province.enrolment&limit=5"
    call("GET", "/audit/events", Role.AUDITOR, path=search, headers=PERSONAL)
    call("GET", "/audit/anomalies", Role.AUDITOR, headers=PERSONAL)
    call("GET", "/operator/overview", Role.OPERATOR)


def _clients(call: Calls) -> None:
    call("GET", "/clients", Role.OPERATOR)
    body = {"name": "spare", "organisation": "330000", "roles": ["auditor"], "clientId": "spare"}
    call("POST", "/clients", Role.OPERATOR, status=201, json_body=body)
    agencies = "/clients/{client_id}/agencies"
    call(
        "POST", agencies, Role.OPERATOR, path="/clients/spare/agencies", json_body={"agencies": []}
    )
    revoke = "/clients/{client_id}/revoke"
    call("POST", revoke, Role.OPERATOR, path="/clients/spare/revoke")
    _agencies(call)


def _agencies(call: Calls) -> None:
    code = "11330000TB0000001D"
    body = {"code": code, "name": "演示省教育厅", "templates": ["degree-certificate"]}
    call("POST", "/agencies", Role.OPERATOR, status=201, json_body=body)
    call("GET", "/agencies", Role.OPERATOR)
    templates = {"templates": ["degree-certificate", "business-licence"]}
    path = f"/agencies/{code}/templates"
    call("PUT", "/agencies/{code}/templates", Role.OPERATOR, path=path, json_body=templates)
    retire = f"/agencies/{code}/retire"
    call("POST", "/agencies/{code}/retire", Role.OPERATOR, path=retire)


def _issuer(call: Calls, world: World, issued: int, digest: str) -> None:
    province = call.province
    call("GET", "/issuer", Role.OPERATOR)
    rotated = call(
        "POST", "/issuer/keys", Role.OPERATOR, status=202, json_body={"keyId": "key-2"}
    ).json()
    drive(province)
    anchored = province.parts.issuer.anchoring_status(bytes.fromhex(digest)).block_time
    assert anchored is not None
    call(
        "POST",
        "/issuer/keys/{key_id}/compromise",
        Role.OPERATOR,
        path="/issuer/keys/key-1/compromise",
        status=202,
        json_body={"compromisedFrom": anchored - 1},
    )
    drive(province)
    # Every credential key-1 signed is re-issued: one access event each.
    call(
        "POST",
        "/issuer/keys/{key_id}/compromise-response",
        Role.OPERATOR,
        path="/issuer/keys/key-1/compromise-response",
        count=issued,
    )
    call(
        "POST",
        "/issuer/keys/{key_id}/retire",
        Role.OPERATOR,
        path="/issuer/keys/key-1/retire",
        status=202,
    )
    account = world.new_sender().address
    call("POST", "/issuer/writers", Role.OPERATOR, status=202, json_body={"account": account})
    drive(province)
    retire = "/issuer/writers/{account}/retire"
    call("POST", retire, Role.OPERATOR, path=f"/issuer/writers/{account}/retire", status=202)
    operation = rotated["operation"]["operationId"]
    call("GET", "/operations/{operation_id}", Role.OPERATOR, path=f"/operations/{operation}")


def _governance(call: Calls, world: World) -> None:
    # Last: the governor's operations stay queued (no processor of its account runs here).
    call.province.context.governor_account = world.accounts.governors[0].address
    call("GET", "/governance", Role.GOVERNOR)
    body = {"action": "suspend-issuer", "issuerId": GD}
    call("POST", "/governance/proposals", Role.GOVERNOR, status=202, json_body=body)
    proposal = world.registry.propose_suspend_issuer(world.governors[1], GD).proposal_id
    call("GET", "/governance/proposals", Role.GOVERNOR)
    one = "/governance/proposals/{proposal_id}"
    call("GET", one, Role.GOVERNOR, path=f"/governance/proposals/{proposal}")
    approvals = "/governance/proposals/{proposal_id}/approvals"
    path = f"/governance/proposals/{proposal}/approvals"
    call("POST", approvals, Role.GOVERNOR, path=path, status=202)


def test_each_route_records_exactly_the_events_of_its_table_entry(
    world: World, tmp_path: Path
) -> None:
    holders = [Holder.generate() for _ in range(3)]
    with admin_province(world, tmp_path) as province:
        context = province.context
        # /readyz wants some writer to hold the lease (no writer runs here).
        lease = context.leases.acquire(context.writer_lease, "test", 3_600_000, context.clock())
        assert lease is not None
        call = Calls(province)
        for health in ("/healthz", "/readyz", "/metrics", "/docs"):
            call("GET", health)
        # The consortium directory (api.http.citizen_cors): public, no event; none configured.
        call("GET", "/.well-known/tongban-directory.json", status=404)
        # Staff sign-in's pages (api.portal.signin_pages): public, no event.
        call("GET", "/signed-out")
        call("GET", "/signin/refused", path="/signin/refused?reason=no-role", status=403)
        call(
            "GET",
            "/status-lists/{list_number}/{purpose}",
            path="/status-lists/1/revocation",
            status=404,
        )
        digest, credential = _issue_and_read(call, holders)
        _verify(call, holders[0], credential)
        change = {"action": "suspend", "digests": [digest]}
        changed = call("POST", "/credentials/status", Role.ISSUER, status=202, json_body=change)
        request_id = changed.json()["requests"][0]["requestId"]
        status_request = "/credentials/status-requests/{request_id}"
        path = f"/credentials/status-requests/{request_id}"
        call("GET", status_request, Role.ISSUER, path=path)
        _citizen_and_audit(call, holders[0])
        _clients(call)
        _issuer(call, world, len(holders), digest)
        _governance(call, world)
        assert not call.wrong, "\n".join(call.wrong)
        # The portal's staff pages take a signed-in session, not a token: their events are
        # held to the table by tests/portal/test_pages.py (test_the_page_records_...).
        portal = {("GET", "/"), ("POST", "/"), ("GET", "/static/{name}")}
        portal.add(("POST", "/scan"))  # tests/portal/test_scan.py: no event, ever
        # Asking the citizen (api.portal.ask): tests/portal/test_ask.py holds them to the table.
        portal |= {k for k in ROUTE_TABLE if k[1].startswith(("/ask", "/oid4vp/"))}
        # The consoles (api.portal.console): tests/portal/test_console_pages.py holds them
        # to the table.
        portal |= {k for k in ROUTE_TABLE if k[1].startswith("/console/")}
        # The credential offer (OpenID4VCI): tests/e2e/test_credential_offer.py holds them
        # to the table (an offer, its redemption with a key proof, and the public routes).
        portal |= {k for k in ROUTE_TABLE if k[1] in OID4VCI_PATHS}
        not_called = ROUTE_TABLE.keys() - call.called - portal
        assert sorted(not_called) == [], "routes the test did not call"


OID4VCI_PATHS = {
    "/credential-offers",
    "/credential-offers/{handle}",
    "/.well-known/openid-credential-issuer",
    "/.well-known/oauth-authorization-server",
    "/token",
    "/nonce",
    "/credential",
}


WELL_FORMED = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {"id": f"urn:id:{ID_NUMBER}"},
}
WELL_FORMED_VP = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiablePresentation"],
    "holder": f"urn:id:{ID_NUMBER}",
}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # Well formed (VCDM 2.0), so verified: a malformed one is a 400 and no access.
        ("/credentials/verify", {"verifiableCredential": WELL_FORMED}),
        ("/presentations/verify", {"verifiablePresentation": WELL_FORMED_VP}),
        ("/credentials/verify/batch", {"verifiableCredentials": [WELL_FORMED, WELL_FORMED]}),
    ],
)
def test_no_verdict_without_its_access_event(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, body: Any
) -> None:
    with served_province(world, tmp_path) as province:
        log = province.parts.audit_log
        before = log.size()

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise OSError("the disk is full")

        monkeypatch.setattr(log, "submit", refuse)
        reply = province.request("POST", path, Role.VERIFIER, json_body=body, headers=PERSONAL)
        monkeypatch.undo()
        assert reply.status == 503, reply.text
        assert reply.json()["code"] == ProblemCode.ACCESS_LOG_UNAVAILABLE.value
        assert reply.header("Retry-After") is not None
        assert "verdict" not in reply.text
        assert ID_NUMBER not in reply.text
        assert log.size() == before

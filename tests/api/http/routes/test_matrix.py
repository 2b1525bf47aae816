"""Authorization matrix: every route of the app x every role x no token.

The table below is written by hand from the design (who may do what), not
read from the app: the test checks that the app admits exactly these
combinations, that the table names every operation the app publishes (a new
route must be added here), and that each operation's documented ``x-roles``
says the same.

A combination is admitted when the answer is neither 401 nor 403: the role
check runs before the body is read, so a 4xx about the body, a 404 for a
made-up id, or a 409 for a repeated change still shows the caller got past
authorization. No answer may be a 5xx.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from api.province.clients import Role
from tests.helpers.contracts import World
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.server import event_body

OP, ISS, VER, AUD, GOV, HOL = (
    Role.OPERATOR,
    Role.ISSUER,
    Role.VERIFIER,
    Role.AUDITOR,
    Role.GOVERNOR,
    Role.HOLDER,
)
ANY = set(Role)
DIGEST = "ab" * 32
ACCOUNT = "0x" + "11" * 20
HOLDER_DID = "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"

# (method, path, request keyword arguments, roles admitted; None = no token needed)
ROUTES: list[tuple[str, str, dict[str, Any], set[Role] | None]] = [
    ("GET", "/healthz", {}, None),
    ("GET", "/readyz", {}, None),
    ("GET", "/metrics", {}, None),
    ("POST", "/audit/events", {"json_body": event_body()}, {ISS, VER, OP}),
    ("POST", "/audit/events/batch", {"json_body": {"events": [event_body(1)]}}, {ISS, VER, OP}),
    ("GET", "/audit/events/0", {"headers": PERSONAL}, {AUD}),
    ("GET", "/audit/checkpoints", {}, {AUD}),
    ("GET", "/audit/proofs/inclusion?index=0&size=1", {}, {AUD}),
    ("GET", "/audit/proofs/consistency?from=1&to=1", {}, {AUD}),
    ("GET", "/audit/export", {"headers": PERSONAL}, {AUD}),
    ("GET", "/audit/events?purpose=audit.review", {"headers": PERSONAL}, {AUD}),
    ("GET", "/audit/anomalies", {"headers": PERSONAL}, {AUD}),
    ("GET", "/operator/overview", {}, {OP}),
    ("POST", "/citizen/challenge", {"json_body": {"holder": HOLDER_DID}}, None),
    ("POST", "/citizen/access-history", {"json_body": {}}, None),
    ("GET", "/clients", {}, {OP}),
    (
        "POST",
        "/clients",
        {"json_body": {"name": "new", "organisation": "330000", "roles": ["auditor"]}},
        {OP},
    ),
    ("POST", "/clients/spare/revoke", {}, {OP}),
    ("POST", "/clients/spare/agencies", {"json_body": {"agencies": []}}, {OP}),
    ("GET", "/agencies", {}, {OP}),
    ("POST", "/agencies", {"json_body": {}}, {OP}),
    ("PUT", "/agencies/11330000TB0000001D/templates", {"json_body": {}}, {OP}),
    ("POST", "/agencies/11330000TB0000001D/retire", {}, {OP}),
    ("POST", "/challenges", {}, {VER}),
    ("GET", "/templates", {}, ANY),
    ("GET", "/templates/degree-certificate", {}, ANY),
    ("GET", "/purposes", {}, ANY),
    (
        "POST",
        "/credentials/verify",
        {"json_body": {"verifiableCredential": {}}, "headers": PERSONAL},
        {VER},
    ),
    (
        "POST",
        "/credentials/verify/batch",
        {"json_body": {"verifiableCredentials": [{}]}, "headers": PERSONAL},
        {VER},
    ),
    (
        "POST",
        "/presentations/verify",
        {"json_body": {"verifiablePresentation": {}}, "headers": PERSONAL},
        {VER},
    ),
    (
        "POST",
        "/zhengzhao/lookup",
        {"json_body": {"identifier": "1.2.156"}, "headers": PERSONAL},
        {VER, ISS},
    ),
    (
        "POST",
        "/documents/verify",
        {
            "body": b"",
            "headers": {**PERSONAL, "Content-Type": "multipart/form-data; boundary=x"},
        },
        {VER},
    ),
    ("POST", "/credentials/issue", {"json_body": {}, "headers": PERSONAL}, {ISS}),
    ("POST", "/credential-offers", {"json_body": {}, "headers": PERSONAL}, {ISS}),
    (
        "POST",
        "/credentials/issue/batch",
        {"json_body": {"requests": []}, "headers": PERSONAL},
        {ISS},
    ),
    (
        "POST",
        "/credentials/status",
        {"json_body": {"action": "revoke", "digests": [DIGEST]}},
        {ISS},
    ),
    ("GET", "/credentials/status-requests/1", {}, {ISS}),
    ("GET", f"/credentials/{DIGEST}", {"headers": PERSONAL}, {ISS, HOL}),
    ("GET", f"/credentials/{DIGEST}/anchoring", {}, {ISS, HOL}),
    ("GET", f"/credentials/{DIGEST}/anchor-proof", {}, {ISS, HOL}),
    ("GET", f"/credentials/{DIGEST}/certificate.pdf", {"headers": PERSONAL}, {ISS}),
    ("GET", f"/credentials/{DIGEST}/status", {}, {ISS, VER, HOL}),
    ("GET", f"/dids/{HOLDER_DID}", {}, ANY),
    ("GET", "/governance", {}, {GOV}),
    ("GET", "/governance/proposals", {}, {GOV}),
    ("POST", "/governance/proposals", {"json_body": {}}, {GOV}),
    ("GET", "/governance/proposals/999", {}, {GOV}),
    ("POST", "/governance/proposals/999/approvals", {}, {GOV}),
    ("GET", "/issuer", {}, {OP}),
    ("POST", "/issuer/keys", {"json_body": {"keyId": "bad key id"}}, {OP}),
    ("POST", "/issuer/keys/key-9/retire", {}, {OP}),
    ("POST", "/issuer/keys/key-9/compromise", {"json_body": {}}, {OP}),
    ("POST", "/issuer/keys/key-9/compromise-response", {}, {OP}),
    ("POST", "/issuer/writers", {"json_body": {}}, {OP}),
    ("POST", f"/issuer/writers/{ACCOUNT}/retire", {}, {OP}),
    ("GET", "/operations/999", {}, {OP, GOV}),
    ("GET", "/status-lists/1/revocation", {}, None),
]


def _operation(method: str, path: str, published: dict[tuple[str, str], Any]) -> tuple[str, str]:
    """The published operation a concrete request of the table goes to (most literal wins)."""
    concrete = path.split("?")[0]
    matches = [
        template
        for (m, template) in published
        if m == method and re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), concrete)
    ]
    assert matches, f"no published operation for {method} {path}"
    return method, min(matches, key=lambda template: template.count("{"))


def _prepare(province: ServedProvince, world: World) -> None:
    context = province.context
    # Serve every feature: act for governor 0 and hold the writer lease (no writer runs here).
    context.governor_account = world.accounts.governors[0].address
    assert context.leases.acquire(context.writer_lease, "matrix-writer", 3_600_000, context.clock())
    context.clients.create("spare", "330000", [Role.AUDITOR], client_id="spare")


def test_the_table_names_every_published_operation_with_its_documented_roles(
    world: World, tmp_path: Path
) -> None:
    with served_province(world, tmp_path) as province:
        document = province.request("GET", "/openapi.json").json()
    published = {
        (method.upper(), path): operation.get("x-roles")
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    table = {_operation(m, p, published): roles for m, p, _, roles in ROUTES}
    assert len(table) == len(ROUTES), "two rows of the table reach the same operation"
    assert sorted(table) == sorted(published), "the table and the app's operations differ"
    for key, roles in table.items():
        documented = published[key]
        assert (None if documented is None else set(documented)) == roles, key


def test_every_route_admits_exactly_its_roles(world: World, tmp_path: Path) -> None:
    with served_province(world, tmp_path) as province:
        _prepare(province, world)
        wrong: list[str] = []
        for method, path, kwargs, allowed in ROUTES:
            for role in [None, *Role]:
                reply = province.request(method, path, role, **kwargs)
                assert reply.status < 500, (method, path, role, reply.status, reply.text)
                got = str(reply.status) if reply.status in (401, 403) else "ok"
                expected = (
                    "ok"
                    if allowed is None or role in allowed
                    else ("401" if role is None else "403")
                )
                if got != expected:
                    wrong.append(f"{method} {path} as {role}: {reply.status}, expected {expected}")
        assert not wrong, "\n".join(wrong)
        # Every refusal left an access event naming the client (or "anonymous").
        refused = [
            "anonymous" if role is None else f"{role.value}-app"
            for _, _, _, allowed in ROUTES
            if allowed is not None
            for role in [None, *Role]
            if role is None or role not in allowed
        ]
        denied = [
            r.event.actor
            for r in province.parts.audit_log.iterate()
            if r.event.action == "api.denied"
        ]
        assert sorted(denied) == sorted(refused)

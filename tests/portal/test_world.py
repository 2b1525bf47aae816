"""The browser tests' shared world keeps its promises (tests/portal/world.py), without a page.

Its chain is its own (the suite's per-test snapshot reverts cannot touch it); a
licence from ``issue_licence`` is VALID at 440000 at once; ``anchor`` is what
makes 440000 see 330000's newest anchors and statuses: before its index sync the
verifier there cannot decide, after it the revocation is read.
"""

from __future__ import annotations

from typing import Any

from api.province.clients import Role
from credentials.holder import Holder
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL
from tests.helpers.routes import issue, verify_at
from tests.portal.world import LICENCE, PortalWorld


def _status(result: dict[str, Any]) -> dict[str, Any]:
    checks: list[dict[str, Any]] = result["checks"]
    return next(c for c in checks if c["number"] == 4)


def test_the_world_runs_on_a_chain_of_its_own_not_the_suites_snapshotted_anvil(
    portal_world: PortalWorld, world: World
) -> None:
    assert portal_world.world.client.url != world.client.url
    assert portal_world.issuing.world.client.url == portal_world.verifying.world.client.url
    assert (portal_world.issuing.issuer_id, portal_world.verifying.issuer_id) == (1, 2)
    assert portal_world.portal.base != portal_world.issuing_portal.base


def test_a_licence_from_issue_licence_is_valid_at_the_second_province(
    portal_world: PortalWorld,
) -> None:
    _, credential = portal_world.issue_licence()
    assert credential["issuer"].endswith(":1")
    result = verify_at(portal_world.verifying, credential)
    assert result["verdict"] == "VALID", result


def test_the_second_province_sees_the_issuers_anchor_and_revocation_only_after_its_sync(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
    digest = issue(world.issuing, Holder.generate().did, template=LICENCE, claims=claims)["digest"]
    world.issuing.anchor_all()  # anchored at 330000; 440000's index not synced
    reply = world.issuing.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    credential = reply.json()["credential"]
    undecided = world.verifying.request(
        "POST",
        "/credentials/verify",
        Role.VERIFIER,
        json_body={"verifiableCredential": credential},
        headers=PERSONAL,
    )
    assert undecided.status == 503, undecided.text
    world.anchor()
    assert verify_at(world.verifying, credential)["verdict"] == "VALID"

    change = {"action": "revoke", "digests": [digest]}
    revoked = world.issuing.request("POST", "/credentials/status", Role.ISSUER, json_body=change)
    assert revoked.status == 202, revoked.text
    world.issuing.anchor_all()
    before_sync = verify_at(world.verifying, credential)
    assert before_sync["verdict"] == "VALID", "440000 reads statuses from its own index"
    world.anchor()
    after = verify_at(world.verifying, credential)
    assert after["verdict"] == "INVALID", after
    assert "revoked" in _status(after)["reasonCode"]

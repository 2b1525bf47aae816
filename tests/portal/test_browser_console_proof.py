"""The consoles' chain checks in Debian's Chromium (``portal_world``, 440000).

- The auditor names the world's anvil as their node (with the chain id and the
  AuditAnchor address, from the test's own deployment, not from the province's
  pages), opens a verification event, and the page's script (``console.js`` over
  ``auditproof.js``) verifies the receipt and inclusion proof against the root read
  from that node: "verified in the browser against block N", N the anchoring block.
  The checkpoint timeline is verified the same way, each link by its consistency proof.
- A checkpoint root altered directly in 440000's SQLite file (no hook in the app;
  put back afterwards): the browser check flags the event (``anchor.root_mismatch``)
  and the timeline row.
- The operator approves a governance proposal of another governor on the operator
  console; 440000's governor outbox item is sent and the proposal's approvals on chain grow.

Every page: no CSP violation or script error, no serious axe-core violation.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from playwright.sync_api import Page

from api.portal.console.words import CONSOLE_TEXT
from ledger.audit.anchoring import CheckpointState
from tests.portal.browser import DESKTOP, PageWatch, axe_violations, screenshot, serious
from tests.portal.test_browser_console import _verification
from tests.portal.world import CHAIN_ID, PortalWorld

ZH = CONSOLE_TEXT["zh"]
WAIT_MS = 30_000  # the page's node requests: at most 15 s each by auditproof.js's own rule


def _accessible(page: Page) -> None:
    found = axe_violations(page)
    assert serious(found) == [], found


def _set_node(world: PortalWorld, page: Page) -> None:
    """The auditor names the world's anvil, its chain id and the deployed AuditAnchor."""
    page.goto(f"{world.portal.base}/console/audit")
    page.fill("#rpc_url", world.world.client.url)
    page.fill("#chain_id", str(CHAIN_ID))
    page.fill("#anchor_address", world.world.addresses.audit_anchor)
    page.fill("#confirmations", "1")
    page.click("#node-form button[type=submit]")
    page.wait_for_selector("#console-notice")


def _open_event(world: PortalWorld, page: Page, index: int) -> None:
    page.goto(f"{world.portal.base}/console/audit/events/{index}")
    page.click("#event-declare button[type=submit]")
    page.wait_for_selector("#browser-proof")


def _settled(page: Page, selector: str) -> str:
    page.wait_for_selector(
        f'{selector}:not([data-state="running"]):not([data-state="not-run"])', timeout=WAIT_MS
    )
    state = page.locator(selector).get_attribute("data-state")
    assert state is not None
    return state


def test_the_event_and_the_timeline_are_verified_in_the_browser_through_the_auditors_node(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    _verification(world)  # an earlier one: the proof of the next has nodes
    index = _verification(world)
    page = world.new_page(DESKTOP, signed_in_as="auditor1")
    watch = PageWatch()
    watch.attach(page)
    _set_node(world, page)
    _open_event(world, page, index)
    policy = page.evaluate("document.querySelector('#auditor-node').dataset.rpcUrl")
    assert policy == world.world.client.url
    assert _settled(page, "#event-browser") == "verified"
    block = page.locator("#browser-proof").get_attribute("data-block")
    assert block
    assert page.locator("#event-browser").get_attribute("data-block") == block
    verdict = page.locator("#event-browser").inner_text()
    assert ZH["browser_verified"].format(block=block) in verdict
    steps = page.locator("#browser-steps li")
    codes = {
        steps.nth(i).get_attribute("data-step"): steps.nth(i).get_attribute("data-code")
        for i in range(steps.count())
    }
    assert codes == {
        s: "ok"
        for s in (
            "input",
            "chain",
            "key",
            "event",
            "receipt",
            "note",
            "anchor",
            "finality",
            "inclusion",
        )
    }
    # The node was asked, from the browser, and nothing but the node and the province's origin.
    assert any(url.startswith(world.world.client.url) for url in watch.urls)
    _accessible(page)
    screenshot(page, "console-event-browser-proof-desktop")
    page.goto(f"{world.portal.base}/console/audit")
    assert _settled(page, "#timeline-browser") == "verified"
    anchored = [
        c.tree_size
        for c in world.verifying.parts.checkpoints.checkpoints(limit=50, newest_first=True)
        if c.state is CheckpointState.ANCHORED
    ]
    for size in anchored:
        cell = page.locator(f'#checkpoints tr[data-tree-size="{size}"] .browser-cell')
        assert cell.get_attribute("data-state") == "verified", size
    _accessible(page)
    page.context.close()
    assert watch.errors == [], watch.errors


def _root(store: Path, tree_size: int) -> bytes:
    with sqlite3.connect(store, timeout=30) as connection:
        row = connection.execute(
            "SELECT root FROM audit_checkpoints WHERE tree_size = ?", (tree_size,)
        ).fetchone()
    return bytes(row[0])


def _write_root(store: Path, tree_size: int, root: bytes) -> None:
    connection = sqlite3.connect(store, timeout=30)
    try:
        with connection:
            connection.execute(
                "UPDATE audit_checkpoints SET root = ? WHERE tree_size = ?", (root, tree_size)
            )
    finally:
        connection.close()


def test_a_checkpoint_root_altered_in_the_provinces_database_is_flagged_in_the_browser(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    index = _verification(world)
    store = world.verifying.parts.settings.store_path
    page = world.new_page(DESKTOP, signed_in_as="auditor1")
    watch = PageWatch()
    watch.attach(page)
    _set_node(world, page)
    _open_event(world, page, index)
    size = int(page.locator("#browser-proof").get_attribute("data-tree-size") or "0")
    assert size > index
    original = _root(store, size)
    _write_root(store, size, bytes(b ^ 0xFF for b in original))
    try:
        _open_event(world, page, index)
        assert _settled(page, "#event-browser") == "failed"
        anchor = page.locator('#browser-steps li[data-step="anchor"]')
        assert anchor.get_attribute("data-code") == "anchor.root_mismatch"
        assert ZH["code_anchor.root_mismatch"] in anchor.inner_text()
        _accessible(page)
        screenshot(page, "console-event-browser-altered-desktop")
        page.goto(f"{world.portal.base}/console/audit")
        assert _settled(page, "#timeline-browser") == "failed"
        row = page.locator(f'#checkpoints tr[data-tree-size="{size}"]')
        assert row.locator(".browser-cell").get_attribute("data-state") == "failed"
        assert row.get_attribute("class") == "flagged"
        page.context.close()
    finally:
        _write_root(store, size, original)
    assert watch.errors == [], watch.errors


def _governor_items(world: PortalWorld, governor: str) -> list[str]:
    """The states of the outbox items pinned to 440000's governor account."""
    with world.verifying.parts.db.read() as tx:
        rows = tx.fetchall(
            "SELECT state FROM outbox WHERE lower(account) = lower(?) ORDER BY id", (governor,)
        )
    return [str(row[0]) for row in rows]


def test_the_operator_approves_another_governors_proposal_and_it_reaches_the_chain(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    chain = world.world
    # A harmless action if it executes: admitting an issuer no test uses.
    issuer = 900_000 + uuid.uuid4().int % 90_000
    proposed = chain.registry.propose_admit_issuer(
        chain.governors[0], issuer, 110000, "Test issuer", chain.accounts.governors[0].address
    )
    proposal = proposed.proposal_id
    before = chain.registry.proposal(proposal).approvals
    page = world.new_page(DESKTOP, signed_in_as="operator1")
    watch = PageWatch()
    watch.attach(page)
    page.goto(f"{world.portal.base}/console/operator")
    form = page.locator(f'form[action="/console/operator/proposals/{proposal}/approve"]')
    assert form.count() == 1
    _accessible(page)
    form.locator("button").click()
    page.wait_for_selector("#console-notice")
    _accessible(page)
    page.context.close()
    governor = world.governor.sender.address
    assert _governor_items(world, governor) == ["queued"]
    world.governor.run_until_final(timeout=60, poll=0.01)
    assert _governor_items(world, governor) == ["final"]
    after = chain.registry.proposal(proposal)
    assert after.approvals == before + 1
    assert watch.errors == [], watch.errors

"""One two-province browser world: one chain, two provinces, one provider, one browser.

``open_portal_world`` starts, on its own anvil (never the suite's session anvil,
whose per-test ``evm_snapshot`` reverts would pull the chain from under a world
that lives for the whole run):

- the test consortium (``deploy_test_consortium``: three governors, issuers
  Zhejiang and Guangdong);
- Zhejiang, 330000 (``issuing``: issues and revokes through its API) and
  Guangdong, 440000 (``verifying``: the clerk's province), each built by the
  service's own assembly (``build_province``) and served on loopback;
- one demo OpenID provider (``idp/server.mjs``) with one client per province,
  and each province's app with staff sign-in over it (``portal``: 440000's,
  ``issuing_portal``: 330000's);
- the citizen's wallet (``api.webwallet.app``) on an origin of its own (``wallet``),
  talking to 440000, whose OpenID4VP public routes allow that origin (docs/wallet.md);
- one headless Chromium (Debian's, through Playwright);
- 440000 acts for the consortium's third governor (``governor``: its outbox
  processor, taking the items pinned to that account, as the writer's
  ``governor_outbox`` does), so that its operator console can approve proposals.

Tests share it, so each one issues its own credential and filters the audit log
by what it did. ``close`` stops everything, in the reverse order, even when a
part failed to start.
"""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from api.http.app import create_app
from api.http.signin import Provider, Signin, SigninConfig, SigninStore, install_signin
from api.province.clients import Role
from api.runtime.idp import IdpProcess, start_idp
from api.webwallet.app import WalletConfig, wallet_app
from credentials.holder import Holder
from ledger.chain.node.client import ChainClient
from ledger.chain.node.processes import start_anvil
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from tests.helpers.contracts import GD, ZJ, World, deploy_test_consortium
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import ORGS, PERSONAL, ServedProvince, build_province
from tests.helpers.routes import issue
from tests.helpers.server import ApiServer
from tests.portal.browser import ACCOUNTS, PortalServer, launch_chromium

CHAIN_ID = 31337
LICENCE = "business-licence"
SECRET = "rp-" + "p" * 40
GROUP_ROLES = {
    "counter-verifiers": frozenset({Role.VERIFIER}),
    "ledger-auditors": frozenset({Role.AUDITOR}),
    "province-operators": frozenset({Role.OPERATOR}),
}


def client_id(province: ServedProvince) -> str:
    """The province's client at the demo provider."""
    return f"tongban-portal-{ORGS[province.issuer_id]}"


@dataclass
class PortalWorld:
    """The running two-province world (see the module's docstring)."""

    world: World
    issuing: ServedProvince
    verifying: ServedProvince
    portal: PortalServer
    issuing_portal: PortalServer
    idp: IdpProcess
    playwright: Playwright
    browser: Browser
    governor: OutboxProcessor
    """440000's governor outbox processor (the account is ``world.accounts.governors[2]``)."""
    wallet: PortalServer
    """The wallet at ``/wallet`` on its own origin, talking to 440000's portal origin."""

    def anchor(self) -> None:
        """Anchor everything pending at 330000, then bring 440000's chain index to the head.

        The verifying province reads anchors and statuses (revocation) from its own
        chain index; without the sync its verifier answers "anchor not yet indexed"
        (503) or the status as of its last sync.
        """
        self.issuing.anchor_all()
        self.verifying.sync()

    def issue_licence(self, holder_did: str | None = None) -> tuple[str, dict[str, Any]]:
        """Issue a business licence at 330000 to ``holder_did`` (default: a new holder) and
        anchor it; its digest and credential JSON (with its anchor proof), visible at 440000."""
        holder = holder_did or Holder.generate().did
        claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
        digest: str = issue(self.issuing, holder, template=LICENCE, claims=claims)["digest"]
        self.anchor()
        reply = self.issuing.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
        assert reply.status == 200, reply.text
        credential: dict[str, Any] = reply.json()["credential"]
        return digest, credential

    def sign_in(self, page: Page, account: str, next_path: str = "/") -> None:
        """Sign ``page`` in at 440000's portal as ``account`` and wait for ``next_path``."""
        # The demo provider signs in the account named by login_hint (no password).
        page.goto(f"{self.portal.base}/signin?next={next_path}&login_hint={account}")
        page.wait_for_url(f"{self.portal.base}{next_path}")

    def new_page(
        self,
        viewport: ViewportSize,
        *,
        locale: str = "zh-CN",
        signed_in_as: str | None = "clerk1",
        java_script_enabled: bool = True,
        is_mobile: bool = False,
    ) -> Page:
        """A page in a fresh browser context, signed in at 440000 through the real provider
        when ``signed_in_as`` names an account (the caller closes ``page.context``)."""
        context = self.browser.new_context(
            viewport=viewport,
            locale=locale,
            java_script_enabled=java_script_enabled,
            is_mobile=is_mobile,
        )
        page = context.new_page()
        if signed_in_as is not None:
            self.sign_in(page, signed_in_as)
        return page


def _with_signin(province: ServedProvince, app: FastAPI, base: str, idp: IdpProcess) -> None:
    """Install staff sign-in over ``idp`` on ``app``, the province's app served at ``base``."""
    config = SigninConfig(
        issuer=idp.issuer,
        client_id=client_id(province),
        client_secret=SECRET,
        redirect_uri=f"{base}/signin/callback",
        organisation=ORGS[province.issuer_id],
        subject_key=secrets.token_bytes(32),
        group_roles=GROUP_ROLES,
        secure_cookies=False,  # plain HTTP on loopback in tests
    )
    context = province.context
    signin = Signin(config, SigninStore(context.db), context.audit_log, Provider(idp.issuer))
    install_signin(app, signin)


def open_portal_world(tmp: Path, stack: ExitStack) -> PortalWorld:
    """Start the world in ``tmp``; ``stack`` stops every part it started, last first."""
    node = start_anvil(CHAIN_ID, log_path=tmp / "anvil.log")
    stack.callback(node.stop)
    client = ChainClient(node.url, CHAIN_ID)
    accounts, addresses = deploy_test_consortium(client)
    world = World(client, accounts, addresses)
    provinces: list[ServedProvince] = []
    for issuer_id in (ZJ, GD):
        province = build_province(world, tmp / "provinces", issuer_id)
        stack.callback(province.close)
        province.server.start()
        provinces.append(province)
    issuing, verifying = provinces
    governor = accounts.governors[2]
    verifying.context.governor_account = governor.address
    sender = NonceManager(client, governor, OutboxJournal(verifying.parts.db, governor.address))
    governor_outbox = OutboxProcessor(verifying.parts.db, sender, shared=False)
    # A second app over each province's parts (as ``tongban serve`` would serve with an
    # identity provider configured); the province's own server keeps the plain API.
    apps = {p.issuer_id: create_app(p.context) for p in provinces}
    servers = {i: ApiServer(app) for i, app in apps.items()}
    bases = {i: f"http://127.0.0.1:{s.port}" for i, s in servers.items()}
    config = {
        "port": 0,
        "resource": "urn:tongban:portal-test",
        "apiScopes": ["tongban:verify"],
        "accounts": ACCOUNTS,
        "clients": [
            {
                "client_id": client_id(p),
                "client_secret": SECRET,
                "redirect_uris": [f"{bases[p.issuer_id]}/signin/callback"],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }
            for p in provinces
        ],
    }
    idp = start_idp(config, tmp / "idp.json", tmp / "idp.log")
    stack.callback(idp.stop)
    portals: dict[int, PortalServer] = {}
    for p in provinces:
        _with_signin(p, apps[p.issuer_id], bases[p.issuer_id], idp)
        servers[p.issuer_id].start()
        stack.callback(servers[p.issuer_id].stop)
        portals[p.issuer_id] = PortalServer(servers[p.issuer_id], bases[p.issuer_id])
    # A worker serves the wallet on a socket of its own (api.runtime.worker); here a server.
    wallet_server = ApiServer(wallet_app(WalletConfig(bases[GD])))  # type: ignore[arg-type]
    wallet_base = f"http://127.0.0.1:{wallet_server.port}"
    apps[GD].state.wallet_origins = (wallet_base,)
    wallet_server.start()
    stack.callback(wallet_server.stop)
    playwright = stack.enter_context(sync_playwright())
    browser = launch_chromium(playwright, [])
    stack.callback(browser.close)
    return PortalWorld(
        world=world,
        issuing=issuing,
        verifying=verifying,
        portal=portals[GD],
        issuing_portal=portals[ZJ],
        idp=idp,
        playwright=playwright,
        browser=browser,
        governor=governor_outbox,
        wallet=PortalServer(wallet_server, wallet_base),
    )

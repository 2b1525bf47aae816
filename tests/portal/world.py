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
- a consortium directory signed by both provinces (``directory``), served by both apps at
  ``/.well-known/tongban-directory.json``, naming for each province a citizen server of its
  own (``citizen``: the province's app on a fixed loopback port, which a test may stop and
  start again to see the province unreachable in the wallet's timeline), both allowing the
  wallet's origin on the citizen routes (docs/citizen-timeline.md);
- one headless Chromium (Debian's, through Playwright);
- 440000 acts for the consortium's third governor (``governor``: its outbox
  processor, taking the items pinned to that account, as the writer's
  ``governor_outbox`` does), so that its operator console can approve proposals.

Tests share it, so each one issues its own credential and filters the audit log
by what it did. ``close`` stops everything, in the reverse order, even when a
part failed to start.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from api.http.app import create_app
from api.http.signin import Provider, Signin, SigninConfig, SigninStore, install_signin
from api.province.clients import Role
from api.province.directory import DIRECTORY_TYPE, sign_directory
from api.province.status_lists import StatusListPublisher
from api.runtime.idp import IdpProcess, start_idp
from api.webwallet.app import WalletConfig, wallet_app
from credentials.holder import Holder
from credentials.issuance import status_slots
from ledger.audit.events import format_time
from ledger.chain.node.client import ChainClient
from ledger.chain.node.processes import start_anvil
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from ledger.crypto.keystore import Keystore
from ledger.crypto.signer import LocalSigner
from tests.helpers.contracts import GD, ZJ, World, deploy_test_consortium
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import (
    ORGS,
    PASSPHRASE,
    PERSONAL,
    ServedProvince,
    build_province,
)
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


DAY_MS = 86_400_000
NAMES = {ZJ: "浙江省", GD: "广东省"}
DIVISIONS = {ZJ: "330000", GD: "440000"}


class CitizenServer:
    """A province's app served on one loopback port that survives ``stop`` and ``start``."""

    def __init__(self, app: FastAPI) -> None:
        """Pick a free port for ``app`` (not yet serving)."""
        self.app = app
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.bind(("127.0.0.1", 0))
        self.port: int = probe.getsockname()[1]
        probe.close()
        self.base = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def start(self) -> None:
        """Serve on the port (again)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self._server, self._thread, self._socket = server, thread, sock

    def stop(self) -> None:
        """Stop serving: connections to the port are refused until ``start``."""
        if self._server is None or self._thread is None or self._socket is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        self._server = self._thread = self._socket = None


def _published_lists(province: ServedProvince, base: str) -> StatusListPublisher:
    """The writer's status-list duty for ``province``, run once over a first reserved slot.

    Lists exist only once a slot of theirs is reserved; reserving one here makes list 1 (where
    the next credentials' slots fall) published from the start, so a wallet that shows a new
    credential's status finds its list (as a province whose writer runs the duty would).
    Tests that change a status run ``PortalWorld.status_lists`` again after the chain index
    has it.
    """
    parts = province.parts
    publisher = StatusListPublisher(
        parts.db,
        parts.index,
        parts.settings.issuer_id,
        parts.issuer_config.did,
        parts.keyring.credential_signer,
        lambda: base,
    )
    status_slots.reserve(parts.db, 1)
    province.sync()
    publisher.run()
    return publisher


def _signer(province: ServedProvince, tmp: Path) -> LocalSigner:
    """The province's registered signing key, as ``tongban directory sign`` unlocks it."""
    issuer = province.issuer_id
    key_id = "key-1" if issuer == ZJ else "key-1x"
    keys = Keystore(tmp / "provinces" / f"province-{issuer}" / "keys")
    key = keys.load(f"signing-{key_id}", PASSPHRASE)
    return LocalSigner(f"did:tongban:{CHAIN_ID}:{issuer}#{key_id}", key)


def _directory(
    world: World,
    provinces: list[ServedProvince],
    citizen: dict[int, CitizenServer],
    wallet: str,
    tmp: Path,
) -> dict[str, Any]:
    """The consortium directory of the two provinces, signed by both."""
    now = world.now() * 1000
    wall = int(time.time() * 1000)
    document: dict[str, Any] = {
        "type": DIRECTORY_TYPE,
        "chainId": CHAIN_ID,
        "version": 1,
        "issuedAt": format_time(now),
        # Wide: the browser checks it against its own clock, tests may move the chain's.
        "validFrom": format_time(min(now, wall) - DAY_MS),
        "validUntil": format_time(max(now, wall) + 365 * DAY_MS),
        "threshold": 2,
        "provinces": [
            {
                "issuerId": p.issuer_id,
                "divisionCode": DIVISIONS[p.issuer_id],
                "name": NAMES[p.issuer_id],
                "apiBaseUrl": citizen[p.issuer_id].base,
                "walletOrigin": wallet if p.issuer_id == GD else None,
            }
            for p in provinces
        ],
    }
    for p in provinces:
        document = sign_directory(document, p.issuer_id, _signer(p, tmp))
    return document


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
    citizen: dict[int, CitizenServer]
    """Each province's citizen server by issuer id: the ``apiBaseUrl`` the directory names."""
    directory: dict[str, Any]
    """The consortium directory both provinces serve (signed by both)."""
    status_lists: StatusListPublisher
    """330000's status-list duty (run once at start; run it again after a status change)."""

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
    # The issuer names its status lists under its served base (as ``public_url`` would in
    # production), so a browser wallet can fetch them (tests/portal/test_browser_wallet_status.py).
    issuing_base = f"http://127.0.0.1:{issuing.server.port}"
    issuing.parts.issuer.status_base = lambda: issuing_base
    status_lists = _published_lists(issuing, issuing_base)
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
    citizen = {i: CitizenServer(app) for i, app in apps.items()}
    # A worker serves the wallet on a socket of its own (api.runtime.worker); here a server.
    # Its page may fetch from both provinces (status lists, the timeline) and the chain node.
    wallet_config = WalletConfig(
        bases[GD],
        connect_origins=(
            *(f"http://127.0.0.1:{p.server.port}" for p in provinces),
            *bases.values(),
            *(c.base for c in citizen.values()),
        ),
        chain_rpc_url=node.url,
        audit_anchor=world.audit.address,
    )
    wallet_server = ApiServer(wallet_app(wallet_config))  # type: ignore[arg-type]
    wallet_base = f"http://127.0.0.1:{wallet_server.port}"
    apps[GD].state.wallet_origins = (wallet_base,)
    directory = _directory(world, provinces, citizen, wallet_base, tmp)
    for app in apps.values():
        # As api.runtime.citizen_web wires a served province: the bytes as signed, and the
        # directory's wallet origins allowed on the citizen routes.
        app.state.consortium_directory = json.dumps(directory, ensure_ascii=False).encode()
        app.state.citizen_origins = (wallet_base,)
    for server in citizen.values():
        server.start()
        stack.callback(server.stop)
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
        citizen=citizen,
        directory=directory,
        status_lists=status_lists,
    )

"""The portal in a real browser: a province on the test chain, staff sign-in over the real
identity provider, and Debian's Chromium driven by Playwright.

``portal_with_signin`` serves the province's app with ``install_signin`` against the
demo OpenID provider (``idp/server.mjs``, oidc-provider on loopback; account
``clerk1`` in group ``counter-verifiers`` -> role verifier). ``chromium`` launches
``/usr/bin/chromium`` (never a downloaded browser; missing: the test fails, it does
not skip). ``PageWatch`` collects console errors (CSP violations among them),
uncaught page errors and every URL the page asked for; ``axe_violations`` runs
axe-core from ``node_modules`` in the page.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    ViewportSize,
    sync_playwright,
)

from api.http.app import create_app
from api.http.signin import Provider, Signin, SigninConfig, SigninStore, install_signin
from api.province.clients import Role
from api.runtime.idp import start_idp
from tests.helpers.provinces import ServedProvince
from tests.helpers.server import ApiServer

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
IMAGES = REPO / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
CLIENT = "tongban-portal-test"
SECRET = "rp-" + "p" * 40
ACCOUNTS = {
    "clerk1": {"name": "窗口一号", "groups": ["counter-verifiers"]},
    "nobody1": {"name": "No Role", "groups": ["visitors"]},
    "auditor1": {"name": "Audit Desk", "groups": ["ledger-auditors"]},
}
DESKTOP = ViewportSize(width=1366, height=768)
PHONE = ViewportSize(width=390, height=844)
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@dataclass
class PortalServer:
    """The app with sign-in, served; ``base`` is its origin."""

    server: ApiServer
    base: str


@contextmanager
def portal_with_signin(province: ServedProvince, tmp: Path) -> Iterator[PortalServer]:
    """``province``'s app with staff sign-in over the real demo provider."""
    app = create_app(province.context)
    server = ApiServer(app)
    base = f"http://127.0.0.1:{server.port}"
    config = {
        "port": 0,
        "resource": "urn:tongban:portal-test",
        "apiScopes": ["tongban:verify"],
        "accounts": ACCOUNTS,
        "clients": [
            {
                "client_id": CLIENT,
                "client_secret": SECRET,
                "redirect_uris": [f"{base}/signin/callback"],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }
        ],
    }
    idp = start_idp(config, tmp / "idp.json", tmp / "idp.log")
    try:
        signin = SigninConfig(
            issuer=idp.issuer,
            client_id=CLIENT,
            client_secret=SECRET,
            redirect_uri=f"{base}/signin/callback",
            organisation="330000",
            subject_key=secrets.token_bytes(32),
            group_roles={
                "counter-verifiers": frozenset({Role.VERIFIER}),
                "ledger-auditors": frozenset({Role.AUDITOR}),
            },
            secure_cookies=False,  # plain HTTP on loopback in tests
        )
        context = province.context
        install_signin(
            app,
            Signin(signin, SigninStore(context.db), context.audit_log, Provider(idp.issuer)),
        )
        server.start()
        try:
            yield PortalServer(server, base)
        finally:
            server.stop()
    finally:
        idp.stop()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, through Playwright (fails when it is not installed)."""
    assert shutil.which("chromium") or Path(CHROMIUM).exists(), (
        "Debian's chromium is missing: apt-get install -y --no-install-recommends chromium "
        "(make test does it as root)"
    )
    # Root (the CI container) cannot use Chromium's user-namespace sandbox.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageWatch:
    """What a page said and asked for while a test drove it."""

    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        """Listen on ``page``."""

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(message.text)

        def request(sent: Request) -> None:
            self.urls.append(sent.url)

        page.on("console", console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", request)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations on ``page`` (id, impact, targets)."""
    # Evaluated through the DevTools protocol, not a <script>: the page's CSP stays as is.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await window.axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')),
            }));
        }""",
        WCAG,
    )
    return found


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The serious and critical ones."""
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def screenshot(page: Page, name: str) -> None:
    """Save the whole page as ``docs/images/portal-<name>.png`` (shown in docs/portal.md)."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"portal-{name}.png"), full_page=True)

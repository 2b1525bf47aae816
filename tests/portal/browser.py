"""The portal in a real browser: Debian's Chromium driven by Playwright, and what tests check.

The world the browser tests run in (two provinces, one chain, one provider, this
browser) is ``tests/portal/world.py``; this module holds the browser's parts.
``launch_chromium`` launches ``/usr/bin/chromium`` (never a downloaded browser;
missing: the test fails, it does not skip). ``PageWatch`` collects console errors
(CSP violations among them), uncaught page errors and every URL the page asked
for; ``axe_violations`` runs axe-core from ``node_modules`` in the page;
``screenshot`` saves a page for docs/portal.md.
"""

from __future__ import annotations

import os
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
    Playwright,
    Request,
    ViewportSize,
    sync_playwright,
)

from tests.helpers.server import ApiServer

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = "TONGBAN_SCREENSHOTS"
"""Where ``screenshot`` writes (``make screenshots``: docs/images); unset: build/screenshots."""
CHROMIUM = "/usr/bin/chromium"
ACCOUNTS = {
    "clerk1": {"name": "窗口一号", "groups": ["counter-verifiers"]},
    "nobody1": {"name": "No Role", "groups": ["visitors"]},
    "auditor1": {"name": "Audit Desk", "groups": ["ledger-auditors"]},
    "operator1": {"name": "Ops Desk", "groups": ["province-operators"]},
}
DESKTOP = ViewportSize(width=1366, height=768)
PHONE = ViewportSize(width=390, height=844)
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@dataclass
class PortalServer:
    """The app with sign-in, served; ``base`` is its origin."""

    server: ApiServer
    base: str


def launch_chromium(playwright: Playwright, extra_args: list[str]) -> Browser:
    """Debian's Chromium, headless, with ``extra_args`` (fails when it is not installed)."""
    assert shutil.which("chromium") or Path(CHROMIUM).exists(), (
        "Debian's chromium is missing: apt-get install -y --no-install-recommends chromium "
        "(make test does it as root)"
    )
    # Root (the CI container) cannot use Chromium's user-namespace sandbox.
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*sandbox, *extra_args])


@contextmanager
def chromium(extra_args: list[str] | None = None) -> Iterator[Browser]:
    """A Chromium of its own for one test (``launch_chromium``), closed afterwards."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, extra_args or [])
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
    """Save the whole page as ``portal-<name>.png`` in ``$TONGBAN_SCREENSHOTS``, else in
    build/screenshots (``make screenshots`` refreshes docs/images, shown in docs/portal.md)."""
    folder = Path(os.environ.get(SCREENSHOTS) or REPO / "build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"portal-{name}.png"), full_page=True)

"""Staff sign-in's own pages in Debian's Chromium, over the real provider (``portal_world``).

A refused sign-in (an account whose groups map to no Tongban role) is a page in
the portal's layout with status 403, in Chinese with a working English switch;
sign-out goes through the provider's own confirmation (RP-Initiated Logout 1.0),
lands on Tongban's signed-out page, and the provider's session is gone: the next
sign-in asks who is signing in instead of passing silently. Every page: no
serious or critical axe-core violation, no CSP violation or script error, nothing
personal in any URL the browser asked for.
"""

from __future__ import annotations

from playwright.sync_api import Page

from api.portal.signin_text import SIGNIN_TEXT
from tests.portal.browser import ACCOUNTS, DESKTOP, PHONE, PageWatch, axe_violations, screenshot
from tests.portal.browser import serious as serious_of
from tests.portal.world import PortalWorld

ZH, EN = SIGNIN_TEXT["zh"], SIGNIN_TEXT["en"]


def _accessible(page: Page) -> None:
    found = axe_violations(page)
    assert serious_of(found) == [], found


def _nothing_personal(urls: list[str], account: str) -> None:
    details = ACCOUNTS[account]
    # The demo provider's test-only shortcut names the account in login_hint (a real
    # provider asks for it on its own page); nothing else may.
    for url in (u for u in urls if "login_hint=" not in u):
        assert account not in url, url
        assert str(details["name"]) not in url, url


def test_a_refused_sign_in_is_a_403_page_in_the_portals_layout_with_an_english_switch(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    page = world.new_page(PHONE, signed_in_as=None)
    watch = PageWatch()
    watch.attach(page)
    answer = page.goto(f"{world.portal.base}/signin?next=/&login_hint=nobody1")
    assert answer is not None
    assert answer.status == 403
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == ZH["no-role_title"]
    main = page.locator("main").inner_text()
    assert ZH["no-role_what"] in main
    assert ZH["no-role_do"] in main
    assert page.locator("form.signout").count() == 0
    assert "No Role" not in page.content()
    _accessible(page)
    screenshot(page, "signin-refused-phone")
    page.click("a.lang")
    page.wait_for_url(f"{world.portal.base}/signin/refused?reason=no-role&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == EN["no-role_title"]
    assert EN["no-role_do"] in page.locator("main").inner_text()
    _accessible(page)
    page.context.close()
    # Chromium logs the 403s themselves; nothing else (no CSP violation, no script error).
    assert [e for e in watch.errors if "status of 403" not in e] == [], watch.errors
    _nothing_personal(watch.urls, "nobody1")


def test_sign_out_confirms_at_the_provider_lands_signed_out_and_ends_the_providers_session(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    page = world.new_page(DESKTOP)  # signed in as clerk1 through the provider
    watch = PageWatch()
    watch.attach(page)
    page.goto(f"{world.portal.base}/")
    page.click("form.signout button")
    # The provider's own confirmation, a plain form under its strict CSP.
    page.wait_for_url(f"{world.idp.issuer}/**")
    page.click("button[name=logout]")
    page.wait_for_url(f"{world.portal.base}/signed-out?**")
    assert page.locator("h1").inner_text() == ZH["signed_out_title"]
    assert ZH["signed_out_what"] in page.locator("main").inner_text()
    assert page.locator("form.signout").count() == 0
    _accessible(page)
    screenshot(page, "signed-out-desktop")
    # Signing in again now needs the provider's login step (its account list): before
    # sign-out the same request passed silently, straight back to the portal.
    page.goto(f"{world.portal.base}/signin?next=/")
    page.wait_for_url(f"{world.idp.issuer}/interaction/**")
    assert "clerk1" in page.locator("main").inner_text()  # the provider's demo chooser
    page.context.close()
    assert watch.errors == [], watch.errors
    _nothing_personal(watch.urls, "clerk1")


def test_before_sign_out_a_new_sign_in_passes_the_provider_silently(
    portal_world: PortalWorld,
) -> None:
    world = portal_world
    page = world.new_page(DESKTOP)
    page.goto(f"{world.portal.base}/signin?next=/")
    page.wait_for_url(f"{world.portal.base}/")
    assert page.locator("form.signout").count() == 1
    page.context.close()

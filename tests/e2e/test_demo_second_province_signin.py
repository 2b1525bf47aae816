"""The demo's second province signs its clerks in at the demo provider too.

A real ``tongban serve`` with ``TONGBAN_DEMO`` on a fixed port (the second
province's redirect URI is built from it), then the second province started
by hand from the file the first wrote, as the README says. A 440000 clerk
signs in at 440000; a 330000 clerk is refused there (no role in that province).
"""

from __future__ import annotations

import json
import random
import re
import socket
import stat
import urllib.parse
from pathlib import Path

from tests.api.http.signin.portal import Browser
from tests.helpers.processes import Served, serve


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _demo_ports() -> int:
    """A port p with p, p + 1 (440000) and p + 10 (the demo's wallet) free on 127.0.0.1.

    Drawn below Linux's ephemeral range (32768-60999), where the kernel hands out
    ports to every ``bind(0)`` and outgoing connection of the parallel tests.
    """
    for _ in range(200):
        port = random.randrange(20_000, 32_000)
        if all(_free(port + offset) for offset in (0, 1, 10)):
            return port
    raise AssertionError("no free demo ports on 127.0.0.1")


def _sign_in(browser: Browser, served: Served, issuer: str, account: str) -> int:
    """Sign ``account`` in at ``served`` through the provider's chooser; the callback's status."""
    start = browser.request(f"{served.url}/signin")
    assert start.status == 303
    chooser = browser.request(browser.follow_to(start.location, f"{issuer}/interaction/"))
    assert chooser.status == 200
    links = re.findall(rf'href="([^"]+account={account})"', chooser.body.decode())
    assert len(links) == 1, chooser.body[:400]
    callback = browser.follow_to(urllib.parse.urljoin(issuer, links[0]), served.url)
    return browser.request(callback).status


def test_a_clerk_of_the_second_demo_province_signs_in_there(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = _demo_ports()
    first = serve(
        tmp_path / "a.log", "--data-dir", str(data), TONGBAN_DEMO="1", TONGBAN_HTTP_PORT=str(port)
    )
    second: Served | None = None
    try:
        config = data / "demo" / "440000" / "tongban.toml"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600, "it holds the client secret"
        # (The test environment sets TONGBAN_HTTP_PORT=0, which outranks the file's port.)
        second = serve(
            tmp_path / "b.log",
            "--config",
            str(config),
            "--chain",
            first.description["rpcUrl"],
            TONGBAN_HTTP_PORT=str(port + 1),
        )
        assert second.url == f"http://127.0.0.1:{port + 1}"
        staff = json.loads((data / "demo" / "440000" / "staff.json").read_text())
        assert staff["accounts"]["440000-clerk"] == "verifier"
        assert staff["signIn"] == f"{second.url}/signin"
        assert "machineClient" not in staff
        issuer = staff["identityProvider"]

        clerk = Browser()
        assert _sign_in(clerk, second, issuer, "440000-clerk") == 303
        page = clerk.request(f"{second.url}/")
        assert page.status == 200
        assert "verify-form" in page.body.decode()

        # The first province's clerk has no role in the second province.
        assert _sign_in(Browser(), second, issuer, "330000-clerk") == 403
    finally:
        if second is not None:
            assert second.stop() == 0, second.log.read_text()[-3000:]
        assert first.stop() == 0, first.log.read_text()[-3000:]
    assert "440000-clerk" not in second.log.read_text()

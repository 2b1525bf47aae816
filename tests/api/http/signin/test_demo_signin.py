"""``make run``'s demo sign-in: the service starts the demo provider, writes staff.json, stops it.

A real ``tongban serve`` with ``TONGBAN_DEMO`` (embedded chain, two workers).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import urllib.parse
import urllib.request
from pathlib import Path

from tests.api.http.signin.portal import Browser
from tests.helpers.processes import serve
from tests.helpers.server import PURPOSE


def _port_open(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((parts.hostname or "", parts.port or 80)) == 0


def test_demo_service_signs_staff_in_and_stops_its_provider(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = serve(tmp_path / "serve.log", "--data-dir", str(data), TONGBAN_DEMO="1")
    try:
        staff_file = data / "demo" / "330000" / "staff.json"
        assert staff_file.stat().st_mode & 0o777 == 0o600
        staff = json.loads(staff_file.read_text())
        assert staff["accounts"]["330000-clerk"] == "verifier"
        issuer = staff["identityProvider"]

        browser = Browser()
        start = browser.request(f"{served.url}/signin")
        assert start.status == 303
        chooser_url = browser.follow_to(start.location, f"{issuer}/interaction/")
        chooser = browser.request(chooser_url)
        assert chooser.status == 200
        links = re.findall(r'href="([^"]+account=330000-clerk)"', chooser.body.decode())
        assert len(links) == 1
        callback = browser.follow_to(urllib.parse.urljoin(issuer, links[0]), served.url)
        answer = browser.request(callback)
        assert answer.status == 303, answer.body
        assert browser.cookie("tb_session") is not None
        # A live session: sign-out without its CSRF token is refused (without one, 303).
        assert browser.request(f"{served.url}/signout", data=b"").status == 403

        machine = staff["machineClient"]
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "scope": "tongban:auditor",
                "resource": machine["resource"],
            }
        ).encode()
        basic = base64.b64encode(f"{machine['clientId']}:{machine['clientSecret']}".encode())
        request = urllib.request.Request(
            machine["tokenEndpoint"],
            data=form,
            headers={"Authorization": f"Basic {basic.decode()}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            token = json.loads(response.read())["access_token"]
        api = urllib.request.Request(
            f"{served.url}/audit/events/0", headers={"Authorization": f"Bearer {token}"} | PURPOSE
        )
        with urllib.request.urlopen(api, timeout=30) as response:
            assert response.status == 200
    finally:
        assert served.stop() == 0
    assert not _port_open(issuer)
    # Nothing personal in the service's log: not the account (the provider's sub), not its name.
    service_log = served.log.read_text()
    assert "330000-clerk" not in service_log
    assert "窗口核验员" not in service_log

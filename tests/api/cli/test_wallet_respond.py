"""``tongban wallet respond URL`` as a real process against a served province's portal.

The clerk asks (``POST /ask``) for two claims; the CLI wallet reads the
``openid4vp://`` link, presents exactly those over the request's nonce and posts
``direct_post``; the clerk's page shows VALID with exactly those claims. The
issuer revokes (through the API); once final, the same flow shows INVALID with
the reason in words. A refused request is a clear line, never a traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from api.client import oid4vp
from api.client.wallet import Wallet
from api.portal.labels import PAGE_TEXT
from api.province.clients import Role
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import FAST, PERSONAL, ServedProvince, served_province
from tests.helpers.routes import issue
from tests.helpers.server import ApiServer
from tests.portal.helpers import CSRF, LEGAL_BASIS, PURPOSE, portal, visible_text

PASSPHRASE = "correct horse battery staple"
LICENCE = "business-licence"
ZH = PAGE_TEXT["zh"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


def _respond(link: str, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    environment = tongban_env(TONGBAN_WALLET=str(home), TONGBAN_WALLET_PASSPHRASE=PASSPHRASE)
    return subprocess.run(
        [TONGBAN, "wallet", "respond", link, *extra],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def _ask(server: ApiServer) -> tuple[str, str]:
    """The request's page path and its openid4vp:// link, as the clerk's page shows them."""
    form = {
        "csrf_token": CSRF,
        "lang": "zh",
        "claims": "registeredCapital,legalRepresentative",
        "purpose": PURPOSE,
        "legal_basis": LEGAL_BASIS,
    }
    asked = server.request("POST", "/ask", body=urlencode(form).encode(), headers=FORM)
    assert asked.status == 303, asked.text
    page_path = urlsplit(asked.header("Location") or "").path
    page = server.request("GET", page_path)
    found = re.search(r'href="(openid4vp://[^"]+)"', page.text)
    assert found is not None
    return page_path, found.group(1).replace("&amp;", "&")


def _wallet_with_licence(province: ServedProvince, home: Path) -> tuple[Wallet, str]:
    wallet = Wallet.create(home, PASSPHRASE, kdf=FAST)
    claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
    digest: str = issue(province, wallet.did, template=LICENCE, claims=claims)["digest"]
    province.anchor_all()
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    credential: dict[str, Any] = reply.json()["credential"]
    wallet.receive(credential)
    return wallet, digest


def test_the_cli_wallet_answers_with_two_claims_then_a_revoked_credential_shows_invalid(
    province: ServedProvince, tmp_path: Path
) -> None:
    home = tmp_path / "wallet"
    _, digest = _wallet_with_licence(province, home)
    with portal(province) as server:
        page_path, link = _ask(server)
        answered = _respond(link, home, "--json")
        assert answered.returncode == 0, answered.stderr
        assert json.loads(answered.stdout) == {"answered": True, "verdict": "VALID"}
        page = visible_text(server.request("GET", page_path).text)
        assert ZH["verdict_valid"] in page
        face = re.search(
            r'<dl class="face">(.*?)</dl>', server.request("GET", page_path).text, re.S
        )
        assert face is not None
        names = re.findall(r"<dt>(.*?)</dt>", face.group(1))
        assert "注册资本" in names
        assert "法定代表人" in names
        assert "经营范围" not in names  # not asked for, not disclosed
        again = _respond(link, home)
        assert again.returncode != 0
        assert "Traceback" not in again.stderr
        assert "no such open presentation request" in again.stderr  # answered: closed

        change = {"action": "revoke", "digests": [digest]}
        revoked = province.request("POST", "/credentials/status", Role.ISSUER, json_body=change)
        assert revoked.status == 202, revoked.text
        province.anchor_all()
        page_path, link = _ask(server)
        answered = _respond(link, home)
        assert answered.returncode == 0, answered.stderr
        assert "INVALID" in answered.stdout
        page = visible_text(server.request("GET", page_path).text)
    assert ZH["verdict_invalid"] in page
    assert "证照已被撤销" in page


def test_the_answer_binds_the_requests_purpose_into_the_proof(
    province: ServedProvince, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wallet, _ = _wallet_with_licence(province, tmp_path / "wallet")
    posted: list[bytes] = []
    real_exchange = oid4vp._exchange

    def recording(method: str, url: str, body: bytes | None = None, kind: str | None = None) -> Any:
        if method == "POST" and body is not None:
            posted.append(body)
        return real_exchange(method, url, body, kind)

    # A recording pass-through: the real request goes to the real province.
    monkeypatch.setattr(oid4vp, "_exchange", recording)
    with portal(province) as server:
        _, link = _ask(server)
        request = oid4vp.read_request(link)
        assert request.purpose == PURPOSE
        answer = oid4vp.respond(wallet, request)
    assert answer["tongban_verdict"] == "VALID"
    [body] = posted
    [token] = parse_qs(body.decode())["vp_token"]
    [presentation] = json.loads(token)["credential"]
    assert presentation["termsOfUse"] == {"type": "TongbanPurposeOfUse", "purpose": PURPOSE}


def test_a_bad_link_is_refused_in_words(tmp_path: Path) -> None:
    home = tmp_path / "wallet"
    Wallet.create(home, PASSPHRASE, kdf=FAST)
    refused = _respond("openid4vp://?client_id=x", home)
    assert refused.returncode != 0
    assert "request_uri" in refused.stderr
    assert "Traceback" not in refused.stderr

"""The wallet's own origin (issue #18, docs/wallet.md), through a real ``tongban serve``.

One service with ``TONGBAN_WALLET_HTTP_PORT=0``: its workers accept on the API's
socket and the wallet's; each socket answers only its own routes, every wallet
answer carries the wallet's headers, and the API's OpenID4VP public routes let
the wallet's origin (and no other) read their answers.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from api.runtime.settings import Settings
from api.webwallet import STATIC_DIR
from api.webwallet.app import STATIC_FILES
from tests.helpers.processes import TONGBAN, Served, e2e_env, serve

EXPECTED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' {api}; manifest-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'"
)
FIXED_HEADERS = {
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "permissions-policy": "camera=(self)",
}


@dataclass
class Answer:
    """One HTTP answer: status, headers (lower-case names), body."""

    status: int
    headers: dict[str, str]
    body: bytes


def fetch(
    origin: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Answer:
    """One request to ``origin`` (``http://host:port``), on a fresh connection."""
    parts = urlsplit(origin)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        found = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, found, response.read())
    finally:
        connection.close()


@dataclass
class Service:
    """The served province: its API origin and its wallet origin."""

    served: Served
    api: str
    wallet: str
    connect: str
    """connect-src after 'self': the API's origin and the chain node's (docs/wallet.md)."""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("wallet-origin")
    served = serve(
        root / "serve.log",
        "--data-dir",
        str(root / "data"),
        TONGBAN_CHAIN="anvil",
        TONGBAN_WORKERS="1",
        TONGBAN_WALLET_HTTP_PORT="0",
    )
    try:
        wallet_url = served.description["walletUrl"]
        assert isinstance(wallet_url, str)
        assert wallet_url.endswith("/wallet"), wallet_url
        rpc = urlsplit(str(served.description["rpcUrl"]))
        connect = f"{served.url} {rpc.scheme}://{rpc.netloc}"
        yield Service(served, served.url, wallet_url.removesuffix("/wallet"), connect)
    finally:
        assert served.stop() == 0


def _assert_wallet_headers(answer: Answer, api: str) -> None:
    assert answer.headers["content-security-policy"] == EXPECTED_CSP.format(api=api)
    for name, value in FIXED_HEADERS.items():
        assert answer.headers[name] == value, name


def test_the_wallet_origin_is_its_own_port(service: Service) -> None:
    api, wallet = urlsplit(service.api), urlsplit(service.wallet)
    assert wallet.hostname == api.hostname == "127.0.0.1"
    assert wallet.port != api.port


def test_the_wallet_socket_serves_the_wallet_page(service: Service) -> None:
    page = fetch(service.wallet, "/wallet")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    html = page.body.decode()
    assert '<html lang="zh-CN">' in html
    assert "通办 证照钱包" in html
    english = fetch(service.wallet, "/wallet?lang=en").body.decode()
    assert '<html lang="en">' in english
    assert "Tongban wallet" in english


@pytest.mark.parametrize(
    "path",
    ["/", "/healthz", "/static/portal.css", "/ask", "/oid4vp/requests/x", "/openapi.json", "/x"],
)
def test_the_wallet_socket_has_no_other_route(service: Service, path: str) -> None:
    answer = fetch(service.wallet, path)
    assert answer.status == 404
    _assert_wallet_headers(answer, service.connect)


def test_the_api_socket_has_no_wallet(service: Service) -> None:
    assert fetch(service.api, "/healthz").status == 200
    for path in ("/wallet", "/wallet/manifest.webmanifest"):
        assert fetch(service.api, path).status == 404
    hashed = STATIC_FILES["wallet-app.js"].name
    assert fetch(service.api, f"/wallet/static/{hashed}").status == 404


def test_a_host_header_naming_the_wallet_does_not_reach_it(service: Service) -> None:
    # The socket decides, not the Host header a client chooses.
    wallet_host = urlsplit(service.wallet).netloc
    answer = fetch(service.api, "/wallet", headers={"Host": wallet_host})
    assert answer.status == 404
    assert "content-security-policy" not in answer.headers or (
        "trusted-types" not in answer.headers["content-security-policy"]
    )


def test_every_wallet_answer_carries_the_wallet_headers(service: Service) -> None:
    paths = ["/wallet", "/wallet/manifest.webmanifest", "/wallet/static/nothing.js"]
    paths += [f"/wallet/static/{f.name}" for f in STATIC_FILES.values()]
    for path in paths:
        _assert_wallet_headers(fetch(service.wallet, path), service.connect)


def test_the_shell_loads_only_hashed_files_of_its_own_origin(service: Service) -> None:
    html = fetch(service.wallet, "/wallet").body.decode()
    assert "<script>" not in html
    assert " style=" not in html
    assert "on" + "click" not in html
    linked = re.findall(r'(?:src|href)="([^"]+)"', html)
    static = [url for url in linked if url.startswith("/wallet/static/")]
    assert len(static) == 3  # icon, stylesheet, module
    for url in static:
        answer = fetch(service.wallet, url)
        assert answer.status == 200, url
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert not url.startswith("http")
    module = fetch(service.wallet, f"/wallet/static/{STATIC_FILES['wallet-app.js'].name}")
    assert module.headers["content-type"] == "text/javascript; charset=utf-8"
    imports = re.findall(r'from "\./([^"]+)"', module.body.decode())
    assert sorted(imports) == sorted(
        [
            STATIC_FILES["wallet.js"].name,
            STATIC_FILES["checks.js"].name,
            STATIC_FILES["wallet-offer.js"].name,
            STATIC_FILES["wallet-status.js"].name,
            STATIC_FILES["wallet-timeline.js"].name,
        ]
    )
    for name in imports:
        assert fetch(service.wallet, f"/wallet/static/{name}").status == 200


def test_the_manifest_makes_the_wallet_installable(service: Service) -> None:
    answer = fetch(service.wallet, "/wallet/manifest.webmanifest")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(answer.body)
    assert manifest["start_url"] == "/wallet"
    assert manifest["display"] == "standalone"
    icon = manifest["icons"][0]
    assert icon["type"] == "image/svg+xml"
    assert fetch(service.wallet, icon["src"]).status == 200


def test_the_openid4vp_public_routes_allow_the_wallet_origin_only(service: Service) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    calls = [
        ("GET", "/oid4vp/requests/unknown", {}, None),
        ("POST", "/oid4vp/responses/unknown", form, b"vp_token=x&state=y"),
    ]
    for method, path, headers, body in calls:
        allowed = fetch(
            service.api,
            path,
            method=method,
            headers={**headers, "Origin": service.wallet},
            body=body,
        )
        assert allowed.status in (400, 404), allowed.body
        assert allowed.headers["access-control-allow-origin"] == service.wallet
        assert allowed.headers["vary"] == "Origin"
        for other in (service.api, "http://127.0.0.1:1", "null"):
            refused = fetch(
                service.api, path, method=method, headers={**headers, "Origin": other}, body=body
            )
            assert "access-control-allow-origin" not in refused.headers, other
    # Nothing wider: another API route does not let the wallet read it.
    health = fetch(service.api, "/healthz", headers={"Origin": service.wallet})
    assert "access-control-allow-origin" not in health.headers


def test_a_wallet_port_in_use_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [TONGBAN, "serve", "--data-dir", str(tmp_path / "data")],
            env=e2e_env(TONGBAN_CHAIN="anvil", TONGBAN_WALLET_HTTP_PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        taken.close()
    assert result.returncode == 2, result.stderr
    assert "TONGBAN_WALLET_HTTP_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_wallet_public_url_is_an_origin() -> None:
    assert Settings(wallet_public_url="https://wallet.example.gov.cn").wallet_public_url
    for bad in ("https://wallet.example/wallet", "wallet.example", "https://a@b"):
        with pytest.raises(ValueError):
            Settings(wallet_public_url=bad)


def test_the_page_script_uses_no_html_sink_eval_or_math_random() -> None:
    source = (STATIC_DIR / "wallet-app.js").read_text("utf-8")
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert forbidden not in source, forbidden
    assert "Math.random" not in source
    assert not re.search(r"\beval\s*\(|\bnew Function\b|setTimeout\(\s*[\"'`]", source)
    assert sorted(re.findall(r'from "([^"]+)"', source)) == [
        "./checks.js",
        "./wallet-offer.js",
        "./wallet-status.js",
        "./wallet-timeline.js",
        "./wallet.js",
    ]

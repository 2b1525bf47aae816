"""A province app with staff sign-in over the real oidc-provider, and a cookie-keeping browser.

``SigninWorld`` starts the demo identity provider (``idp/server.mjs``) on
loopback with clients and demo accounts for the tests, serves a province app
with ``install_signin`` on a socket bound first (the provider must know the
redirect URI), and adds a probe page guarded by ``require_staff``.
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import secrets
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI

from api.http.app import create_app
from api.http.signin import (
    AccessTokens,
    Provider,
    Signin,
    SigninConfig,
    SigninStore,
    StaffSession,
    install_access_tokens,
    install_signin,
    require_staff,
)
from api.province.clients import Role
from api.runtime.idp import IdpProcess, start_idp
from tests.helpers.server import Province

RESOURCE = "urn:tongban:test-province"
RP_CLIENT = "tongban-test"
RP_SECRET = "rp-" + "s" * 40
OTHER_CLIENT = "another-relying-party"
OTHER_SECRET = "other-" + "o" * 40
"""A second relying party at the same provider: its ID tokens are not for Tongban."""
M2M_CLIENT = "verifier-system"
M2M_SECRET = "m2m-" + "m" * 40
ACCOUNTS = {
    "clerk1": {"name": "Clerk One", "groups": ["counter-verifiers"]},
    "auditor1": {"name": "Auditor One", "groups": ["auditors"]},
    "nobody1": {"name": "No Role", "groups": ["visitors"]},
}
GROUP_ROLES = {
    "counter-verifiers": frozenset({Role.VERIFIER}),
    "auditors": frozenset({Role.AUDITOR}),
}


@dataclass
class Answer:
    """One HTTP answer, redirects not followed."""

    status: int
    headers: Message
    body: bytes

    @property
    def location(self) -> str:
        """The ``Location`` header (a redirect's target)."""
        value = self.headers.get("Location")
        assert value is not None, f"no Location in a {self.status}"
        return value

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """A cookie jar over urllib that never follows redirects by itself."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(
        self, url: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        """GET (or POST with ``data``) ``url``."""
        sent = {"Accept": "text/html"} | (headers or {})
        req = urllib.request.Request(url, data=data, headers=sent)
        try:
            with self.opener.open(req, timeout=30) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.headers, exc.read())

    def cookie(self, name: str) -> str | None:
        """The value of cookie ``name``, if the jar holds it."""
        return next((c.value for c in self.jar if c.name == name), None)

    def follow_to(self, url: str, prefix: str) -> str:
        """Follow redirects from ``url`` until one points at ``prefix``; that URL, unvisited."""
        for _ in range(20):
            if url.startswith(prefix):
                return url
            answer = self.request(url)
            assert answer.status in (302, 303), (answer.status, answer.body[:300])
            url = urllib.parse.urljoin(url, answer.location)
        raise AssertionError("too many redirects")


class SigninWorld:
    """The provider, the province app with sign-in, and helpers to drive both."""

    def __init__(self, tmp: Path) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.callback = f"{self.base}/signin/callback"
        idp_config = {
            "port": 0,
            "resource": RESOURCE,
            "apiScopes": ["tongban:verify", "tongban:audit"],
            "accounts": ACCOUNTS,
            "clients": [
                {
                    "client_id": RP_CLIENT,
                    "client_secret": RP_SECRET,
                    "redirect_uris": [self.callback],
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                },
                {
                    "client_id": OTHER_CLIENT,
                    "client_secret": OTHER_SECRET,
                    "redirect_uris": [self.callback],
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                },
                {
                    "client_id": M2M_CLIENT,
                    "client_secret": M2M_SECRET,
                    "grant_types": ["client_credentials"],
                    "response_types": [],
                    "redirect_uris": [],
                    "scope": "tongban:verify tongban:audit",
                },
            ],
        }
        self.idp: IdpProcess = start_idp(idp_config, tmp / "idp.json", tmp / "idp.log")
        self.issuer = self.idp.issuer
        self.province = Province(tmp, None)
        self.config = SigninConfig(
            issuer=self.issuer,
            client_id=RP_CLIENT,
            client_secret=RP_SECRET,
            redirect_uri=self.callback,
            organisation="330000",
            subject_key=secrets.token_bytes(32),
            group_roles=GROUP_ROLES,
            api_audience=RESOURCE,
            scope_roles={
                "tongban:verify": frozenset({Role.VERIFIER}),
                "tongban:audit": frozenset({Role.AUDITOR}),
            },
            secure_cookies=False,
        )
        self.clock_offset = 0.0
        self.store = SigninStore(self.province.db)
        self.signin = Signin(
            self.config,
            self.store,
            self.province.log,
            Provider(self.issuer),
            clock=lambda: time.time() + self.clock_offset,
        )
        self.app: FastAPI = create_app(self.province.context)
        install_signin(self.app, self.signin)
        self.access_tokens = AccessTokens(
            Provider(self.issuer), RESOURCE, "330000", self.config.scope_roles
        )
        install_access_tokens(self.app, self.access_tokens)

        # A test page: what a portal page sees through the interface.
        @self.app.get("/probe", include_in_schema=False)
        def probe(
            session: StaffSession = Depends(require_staff(Role.VERIFIER)),  # noqa: B008
        ) -> dict[str, Any]:
            return {
                "actor": session.actor,
                "roles": sorted(session.roles),
                "name": session.display_name,
            }

        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def close(self) -> None:
        """Stop the app and the provider."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        self.idp.stop()
        self.province.log.close()
        self.province.db.close()

    def to_callback(self, browser: Browser, account: str, next_path: str = "/probe") -> str:
        """Start sign-in as ``account``; the provider's redirect back to us (not yet visited)."""
        query = urllib.parse.urlencode({"next": next_path, "login_hint": account})
        answer = browser.request(f"{self.base}/signin?{query}")
        assert answer.status == 303, answer.body
        return browser.follow_to(answer.location, self.callback)

    def sign_in(self, browser: Browser, account: str = "clerk1") -> Answer:
        """The whole code flow as ``account``; the callback's answer."""
        return browser.request(self.to_callback(browser, account))

    def direct_code(
        self, nonce: str, account: str = "clerk1", client_id: str = RP_CLIENT
    ) -> tuple[str, str]:
        """Act as the client ourselves (own state, nonce, PKCE): a code and its verifier."""
        verifier = secrets.token_urlsafe(32)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": self.callback,
                "scope": "openid profile",
                "state": "s" * 20,
                "nonce": nonce,
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
                "login_hint": account,
            }
        )
        url = Browser().follow_to(f"{self.issuer}/auth?{query}", self.callback)
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["code"][0]
        return code, verifier

    def real_id_token(
        self, nonce: str, account: str = "clerk1", client: tuple[str, str] = (RP_CLIENT, RP_SECRET)
    ) -> str:
        """An ID token the real provider issued to ``client`` (default: ours) for ``nonce``."""
        code, verifier = self.direct_code(nonce, account, client[0])
        answer = self.signin.provider.exchange_code(
            code, verifier, self.callback, client[0], client[1]
        )
        token = answer["id_token"]
        assert isinstance(token, str)
        return token

    def client_credentials_token(self, scope: str = "tongban:verify") -> str:
        """An RFC 9068 access token from the real provider's client-credentials grant."""
        body = urllib.parse.urlencode(
            {"grant_type": "client_credentials", "scope": scope, "resource": RESOURCE}
        ).encode()
        basic = base64.b64encode(f"{M2M_CLIENT}:{M2M_SECRET}".encode()).decode()
        req = urllib.request.Request(
            f"{self.issuer}/token",
            data=body,
            headers={"Authorization": f"Basic {basic}"},
        )
        with urllib.request.urlopen(req, timeout=30) as response:
            token = json.loads(response.read())["access_token"]
        assert isinstance(token, str)
        return token

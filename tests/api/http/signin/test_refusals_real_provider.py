"""Sign-in refusals with tokens and answers the real provider (``idp/server.mjs``) produced.

Beside ``test_tokens.py``'s minted tokens: an ID token the provider really
issued, presented after its ``exp`` (OIDC Core 3.1.3.7 item 9) or issued to
another relying party (item 3, wrong audience); an authorization request
without a PKCE challenge (RFC 7636 section 4.4.1, the provider requires PKCE);
an authorization response without RFC 9207's ``iss``; a discovery document for
another issuer (OpenID Connect Discovery 1.0 section 4.3).
"""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from fastapi import Request

from api.http.signin.provider import Provider, ProviderError
from api.http.signin.refusal import RefusalKind, SigninRefused
from api.http.signin.routes import open_session
from api.http.signin.store import Pending
from tests.api.http.signin.portal import (
    OTHER_CLIENT,
    OTHER_SECRET,
    RP_CLIENT,
    Browser,
    SigninWorld,
)

API = {"Accept": "application/json"}


def _request(world: SigninWorld) -> Request:
    return Request(
        {"type": "http", "app": world.app, "method": "GET", "path": "/", "headers": [], "state": {}}
    )


def _claims(token: str) -> dict[str, object]:
    """The payload of a token (read only to learn its ``exp``: no check relies on it)."""
    payload = token.split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert isinstance(decoded, dict)
    return decoded


def _refused(world: SigninWorld, token: str, nonce: str, now_ms: int) -> SigninRefused:
    pending = Pending("state", nonce, "verifier", "/probe")
    with pytest.raises(SigninRefused) as raised:
        open_session(world.signin, _request(world), token, pending, now_ms)
    return raised.value


def test_real_id_token_presented_after_its_expiry_is_refused(world: SigninWorld) -> None:
    token = world.real_id_token(nonce="late-nonce")
    exp = _claims(token)["exp"]
    assert isinstance(exp, int)
    later_ms = (exp + world.config.leeway_seconds + 1) * 1000
    refused = _refused(world, token, "late-nonce", later_ms)
    assert refused.detail == "sign-in refused: expired"
    assert refused.kind is RefusalKind.UNTRUSTED


def test_real_id_token_issued_to_another_relying_party_is_refused(world: SigninWorld) -> None:
    token = world.real_id_token(nonce="other-nonce", client=(OTHER_CLIENT, OTHER_SECRET))
    assert _claims(token)["aud"] == OTHER_CLIENT
    refused = _refused(world, token, "other-nonce", world.signin.now_ms())
    assert refused.detail == "sign-in refused: wrong audience"


def test_authorization_request_without_a_pkce_challenge_is_refused_by_the_provider(
    world: SigninWorld,
) -> None:
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": RP_CLIENT,
            "redirect_uri": world.callback,
            "scope": "openid profile",
            "state": "s" * 20,
            "nonce": "n" * 20,
            "login_hint": "clerk1",
        }
    )
    url = Browser().follow_to(f"{world.issuer}/auth?{query}", world.callback)
    answer = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert answer["error"] == ["invalid_request"]
    assert "code" not in answer


def test_authorization_response_without_iss_is_refused_rfc9207(world: SigninWorld) -> None:
    browser = Browser()
    callback = world.to_callback(browser, "clerk1")
    parts = urllib.parse.urlsplit(callback)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "iss"]
    answer = browser.request(
        parts._replace(query=urllib.parse.urlencode(query)).geturl(), headers=API
    )
    assert answer.status == 403
    assert answer.json()["detail"] == (
        "sign-in refused: issuer mismatch in the authorization response"
    )
    assert browser.cookie("tb_session") is None


def test_discovery_document_naming_another_issuer_is_refused(world: SigninWorld) -> None:
    # The configured issuer differs (a trailing slash) from the one the provider names.
    with pytest.raises(ProviderError, match="another issuer"):
        Provider(world.issuer + "/").metadata()

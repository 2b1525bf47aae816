"""Machine clients with client-credentials JWT access tokens (RFC 9068) on the API routes.

The accepted token comes from the real provider; refused shapes are minted
with a key the test controls and checked through the same route.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from api.http.auth import DENIED_ACTION
from api.province.clients import Role
from tests.api.http.signin.minted import MintingIssuer, hs256
from tests.api.http.signin.portal import RESOURCE, Browser, SigninWorld
from tests.helpers.server import PURPOSE


def _get(world: SigninWorld, token: str) -> tuple[int, Any]:
    req = urllib.request.Request(
        f"{world.base}/audit/events/0",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"} | PURPOSE,
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def minting() -> Iterator[MintingIssuer]:
    """A loopback issuer whose key the test holds (not the app's provider)."""
    issuer = MintingIssuer()
    try:
        yield issuer
    finally:
        issuer.close()


def test_client_credentials_token_from_the_provider_reaches_an_auditor_route(
    world: SigninWorld,
) -> None:
    world.sign_in(Browser())  # so that the log has an event 0
    status, _body = _get(world, world.client_credentials_token("tongban:audit"))
    assert status == 200
    last = world.province.events()[-1]
    assert last.actor == "oauth:verifier-system"


def test_token_whose_scope_maps_to_no_route_role_is_403(world: SigninWorld) -> None:
    status, _body = _get(world, world.client_credentials_token("tongban:verify"))
    assert status == 403


def test_opaque_tokens_keep_working(world: SigninWorld) -> None:
    status, _body = _get(world, world.province.tokens[Role.AUDITOR])
    assert status == 200


def test_token_signed_by_a_key_the_provider_does_not_hold_is_401(
    world: SigninWorld, minting: MintingIssuer
) -> None:
    now = int(time.time())
    claims = {
        "iss": world.issuer,
        "aud": RESOURCE,
        "client_id": "intruder",
        "sub": "intruder",
        "iat": now,
        "exp": now + 300,
        "scope": "tongban:audit",
    }
    before = len(world.province.events())
    forged = minting.sign(claims, typ="at+jwt", kid="k-unknown-to-provider")
    status, _body = _get(world, forged)
    assert status == 401
    assert [e.action for e in world.province.events()[before:]] == [DENIED_ACTION]
    assert _get(world, hs256(claims, b"k" * 32, typ="at+jwt"))[0] == 401


def test_id_token_is_not_accepted_as_an_access_token(world: SigninWorld) -> None:
    status, _body = _get(world, world.real_id_token(nonce="n-as-at"))
    assert status == 401

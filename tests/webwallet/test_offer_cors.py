"""CORS of the OpenID4VCI wallet routes: the consortium's wallet origins, no other origin.

A browser wallet on its own origin redeems an offer of any province of the consortium (its
own province serves the wallet; another province issues), so the public offer routes
(offer by reference, both metadata documents, token, nonce, credential) name the caller's
``Origin`` when it is one the citizen routes allow (``app.state.wallet_origins`` and
``citizen_origins``), errors included, and ``POST /credential`` (JSON with a Bearer token)
answers its preflight. No other origin, and never ``*`` (docs/wallet.md "Receiving an offer").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.server import Province, running_province

WALLET = "https://wallet.zj.tongban.example"
OTHER_WALLET = "https://wallet.gd.tongban.example"
STRANGER = "https://evil.example"
ROUTES = [
    ("GET", "/credential-offers/unknown"),
    ("GET", "/.well-known/openid-credential-issuer"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("POST", "/token"),
    ("POST", "/nonce"),
    ("POST", "/credential"),
]


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Province]:
    """A province without a chain; its own wallet and one other consortium wallet allowed."""
    with running_province(tmp_path) as served:
        served.app.state.wallet_origins = (WALLET,)
        served.app.state.citizen_origins = (OTHER_WALLET,)
        yield served


@pytest.mark.parametrize("origin", [WALLET, OTHER_WALLET])
def test_every_offer_route_names_a_consortium_wallet_origin(
    province: Province, origin: str
) -> None:
    for method, path in ROUTES:
        reply = province.request(method, path, headers={"Origin": origin})
        assert reply.header("Access-Control-Allow-Origin") == origin, (method, path)
        assert reply.header("Vary") == "Origin", (method, path)
        assert reply.header("Access-Control-Allow-Credentials") is None


@pytest.mark.parametrize("origin", [STRANGER, "null", "http://127.0.0.1:1"])
def test_no_other_origin_is_named(province: Province, origin: str) -> None:
    for method, path in ROUTES:
        reply = province.request(method, path, headers={"Origin": origin})
        assert reply.header("Access-Control-Allow-Origin") is None, (method, path)
    reply = province.request("GET", "/.well-known/openid-credential-issuer")
    assert reply.header("Access-Control-Allow-Origin") is None


def _preflight(province: Province, origin: str, method: str = "POST") -> dict[str, str | None]:
    reply = province.request(
        "OPTIONS",
        "/credential",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert reply.status == 204
    names = ("Origin", "Methods", "Headers")
    return {name: reply.header(f"Access-Control-Allow-{name}") for name in names}


def test_the_credential_requests_preflight_is_answered_for_a_wallet_origin_only(
    province: Province,
) -> None:
    assert _preflight(province, OTHER_WALLET) == {
        "Origin": OTHER_WALLET,
        "Methods": "POST",
        "Headers": "Authorization, Content-Type",
    }
    closed = {"Origin": None, "Methods": None, "Headers": None}
    assert _preflight(province, STRANGER) == closed
    assert _preflight(province, WALLET, "DELETE") == closed


def test_the_issuer_systems_route_sends_no_cors_header(province: Province) -> None:
    reply = province.request("POST", "/credential-offers", headers={"Origin": WALLET})
    assert reply.header("Access-Control-Allow-Origin") is None

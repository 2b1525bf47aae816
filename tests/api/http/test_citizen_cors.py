"""CORS over the real app: open to the allowed wallet origins on the citizen routes only.

The app is the one ``create_app`` builds, served by uvicorn on 127.0.0.1
(tests/helpers/server.py); the allowed origins are set on ``app.state`` as the runtime sets
them (api/http/citizen_cors.py). Every other route of the route table is preflighted too: none
may name an origin, however the preflight is asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.http.citizen_cors import CITIZEN_PATHS, DIRECTORY_PATH
from api.http.routes.table import ROUTE_TABLE
from credentials.did import holder_did
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.api.province.directory_fixtures import signed
from tests.helpers.contracts import World
from tests.helpers.server import Province, Reply, running_province

WALLET = "https://wallet.zj.tongban.example"
OTHER_WALLET = "https://wallet.gd.tongban.example"
STRANGER = "https://evil.example"
OID4VP_WALLET_ROUTES = {
    ("GET", "/oid4vp/requests/{request_id}"),
    ("POST", "/oid4vp/responses/{request_id}"),
}
"""The OpenID4VP routes the province's own wallet reads by simple requests (api/portal/ask.py,
docs/wallet.md): they name that one origin, by design of their own; preflights stay closed."""
OID4VCI_WALLET_ROUTES = {
    ("GET", "/credential-offers/{handle}"),
    ("GET", "/.well-known/openid-credential-issuer"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("POST", "/token"),
    ("POST", "/nonce"),
    ("POST", "/credential"),
}
"""The offer routes a browser wallet redeems with: the citizen routes' origins, tested in
tests/webwallet/test_offer_cors.py."""


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Province]:
    """A province without a chain (its citizen routes answer 503), wallets allowed."""
    with running_province(tmp_path) as served:
        served.app.state.wallet_origins = (WALLET,)
        served.app.state.citizen_origins = (OTHER_WALLET,)
        yield served


def _preflight(province: Province, path: str, origin: str, headers: str = "content-type") -> Reply:
    asked = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return province.request("OPTIONS", path, headers=asked)


@pytest.mark.parametrize("path", sorted(CITIZEN_PATHS))
@pytest.mark.parametrize("origin", [WALLET, OTHER_WALLET])
def test_a_citizen_route_answers_an_allowed_wallets_preflight(
    province: Province, path: str, origin: str
) -> None:
    reply = _preflight(province, path, origin)
    assert reply.status == 204
    assert reply.header("Access-Control-Allow-Origin") == origin
    assert reply.header("Access-Control-Allow-Methods") == "POST"
    assert reply.header("Access-Control-Allow-Headers") == "Content-Type"
    assert reply.header("Access-Control-Allow-Credentials") is None
    assert reply.header("X-Request-Id")  # inside the request context, like any answer


@pytest.mark.parametrize("path", sorted(CITIZEN_PATHS))
def test_a_citizen_route_names_no_origin_for_a_stranger_or_an_unusual_preflight(
    province: Province, path: str
) -> None:
    for reply in (
        _preflight(province, path, STRANGER),
        _preflight(province, path, "null"),
        _preflight(province, path, WALLET, "content-type, authorization"),
        province.request(
            "OPTIONS", path, headers={"Origin": WALLET, "Access-Control-Request-Method": "PUT"}
        ),
    ):
        assert reply.status == 204
        assert reply.header("Access-Control-Allow-Origin") is None
        assert reply.header("Vary") == "Origin"


def test_a_citizen_answer_names_the_allowed_origin_and_never_a_wildcard(
    province: Province,
) -> None:
    body = {"holder": holder_did(Sm2PrivateKey.generate().public_key)}
    allowed = province.request(
        "POST", "/citizen/challenge", json_body=body, headers={"Origin": WALLET}
    )
    assert allowed.status == 503  # no chain here: even a refusal is readable by the wallet
    assert allowed.header("Access-Control-Allow-Origin") == WALLET
    assert "Origin" in (allowed.header("Vary") or "")
    stranger = province.request(
        "POST", "/citizen/challenge", json_body=body, headers={"Origin": STRANGER}
    )
    assert stranger.header("Access-Control-Allow-Origin") is None


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def test_no_other_route_of_the_table_sends_a_cors_header(province: Province) -> None:
    offers = {path for _, path in OID4VCI_WALLET_ROUTES}
    others = sorted({path for _, path in ROUTE_TABLE} - CITIZEN_PATHS - {DIRECTORY_PATH} - offers)
    assert len(others) > 20  # the sweep covers the table, not a handful
    for path in others:
        for method in ("GET", "POST", "DELETE"):
            reply = province.request(
                "OPTIONS",
                _concrete(path),
                headers={
                    "Origin": WALLET,
                    "Access-Control-Request-Method": method,
                    "Access-Control-Request-Headers": "content-type",
                },
            )
            assert reply.header("Access-Control-Allow-Origin") is None, (path, method)
            assert reply.header("Access-Control-Allow-Methods") is None, (path, method)
    for method, path in sorted(ROUTE_TABLE):
        if (method, path) in OID4VP_WALLET_ROUTES | OID4VCI_WALLET_ROUTES:
            continue
        if method == "GET" and path not in CITIZEN_PATHS | {DIRECTORY_PATH}:
            reply = province.request("GET", _concrete(path), headers={"Origin": WALLET})
            assert reply.header("Access-Control-Allow-Origin") is None, path


def test_the_directory_is_served_as_signed_to_any_origin(province: Province) -> None:
    missing = province.request("GET", DIRECTORY_PATH)
    assert missing.status == 404
    assert missing.json()["code"] == "not-found"
    document = json.dumps(signed(), ensure_ascii=False).encode()
    province.app.state.consortium_directory = document
    reply = province.request("GET", DIRECTORY_PATH, headers={"Origin": STRANGER})
    assert reply.status == 200
    assert reply.body == document
    assert reply.header("Access-Control-Allow-Origin") == "*"
    assert reply.header("Access-Control-Allow-Credentials") is None


def test_an_allowed_wallet_reads_a_real_access_history_answer(tmp_path: Path, world: World) -> None:
    with running_province(tmp_path, world) as served:
        served.app.state.citizen_origins = (OTHER_WALLET,)
        did = holder_did(Sm2PrivateKey.generate().public_key)
        reply = served.request(
            "POST",
            "/citizen/challenge",
            json_body={"holder": did},
            headers={"Origin": OTHER_WALLET},
        )
        assert reply.status == 200, reply.text
        assert reply.header("Access-Control-Allow-Origin") == OTHER_WALLET

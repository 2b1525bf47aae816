"""ID token and access-token checks: OIDC Core 3.1.3.7 and RFC 9068 (JWT access tokens).

Token shapes the real provider will not produce are minted with a key the test
controls (``minted.MintingIssuer``); the real provider's own tokens are used
for the accepted cases and the replay.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from api.http.signin.provider import Provider
from api.http.signin.tokens import TokenRefusedError, check_access_token, check_id_token
from tests.api.http.signin.minted import MintingIssuer, hs256, unsigned
from tests.api.http.signin.portal import RESOURCE, RP_CLIENT, SigninWorld

ALGS = ("RS256", "PS256", "ES256")


@pytest.fixture(scope="module")
def minting() -> Iterator[MintingIssuer]:
    """A loopback issuer whose key the test holds."""
    issuer = MintingIssuer()
    try:
        yield issuer
    finally:
        issuer.close()


def _id_claims(issuer: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": "subject-1",
        "aud": RP_CLIENT,
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _at_claims(issuer: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": "verifier-system",
        "client_id": "verifier-system",
        "aud": RESOURCE,
        "iat": now,
        "exp": now + 300,
        "jti": "j-1",
        "scope": "tongban:verify",
    }
    claims.update(changes)
    return claims


def _check_id(token: str, issuer: str, nonce: str = "n-1") -> dict[str, Any]:
    return check_id_token(
        token,
        Provider(issuer),
        client_id=RP_CLIENT,
        nonce=nonce,
        now=int(time.time()),
        leeway=30,
        algorithms=ALGS,
    )


def _check_at(token: str, provider: Provider) -> dict[str, Any]:
    return check_access_token(
        token, provider, audience=RESOURCE, now=int(time.time()), leeway=30, algorithms=ALGS
    )


def _refused(reason: str, call: Any, *args: Any) -> None:
    with pytest.raises(TokenRefusedError) as raised:
        call(*args)
    assert raised.value.reason == reason


def test_minted_id_token_with_every_claim_right_is_accepted(minting: MintingIssuer) -> None:
    claims = _check_id(minting.sign(_id_claims(minting.issuer)), minting.issuer)
    assert claims["sub"] == "subject-1"


def test_id_token_for_another_audience_is_refused(minting: MintingIssuer) -> None:
    token = minting.sign(_id_claims(minting.issuer, aud="some-other-client"))
    _refused("wrong audience", _check_id, token, minting.issuer)


def test_id_token_from_another_issuer_is_refused(minting: MintingIssuer) -> None:
    token = minting.sign(_id_claims("http://127.0.0.1:1"))
    _refused("wrong issuer", _check_id, token, minting.issuer)


def test_expired_id_token_is_refused(minting: MintingIssuer) -> None:
    past = int(time.time()) - 3600
    token = minting.sign(_id_claims(minting.issuer, iat=past - 300, exp=past))
    _refused("expired", _check_id, token, minting.issuer)


def test_id_token_issued_in_the_future_is_refused(minting: MintingIssuer) -> None:
    later = int(time.time()) + 3600
    token = minting.sign(_id_claims(minting.issuer, iat=later, exp=later + 300))
    _refused("issued in the future", _check_id, token, minting.issuer)


def test_alg_none_is_refused(minting: MintingIssuer) -> None:
    _refused(
        "algorithm not allowed", _check_id, unsigned(_id_claims(minting.issuer)), minting.issuer
    )


def test_hs256_keyed_with_the_public_key_is_refused(minting: MintingIssuer) -> None:
    public = json.dumps(minting.key.as_dict(private=False)).encode()
    token = hs256(_id_claims(minting.issuer), public)
    _refused("algorithm not allowed", _check_id, token, minting.issuer)


def test_unknown_kid_is_refused_after_one_jwks_refresh(minting: MintingIssuer) -> None:
    provider = Provider(minting.issuer)
    token = minting.sign_with_other_key(_id_claims(minting.issuer), kid="k-unknown")
    before = minting.jwks_requests
    for _ in range(3):
        with pytest.raises(TokenRefusedError, match="unknown key id"):
            check_id_token(
                token,
                provider,
                client_id=RP_CLIENT,
                nonce="n-1",
                now=int(time.time()),
                leeway=30,
                algorithms=ALGS,
            )
    # The first fetch fills the cache; the refresh is rate-limited, so three
    # tokens with a made-up kid cost one fetch, not three.
    assert minting.jwks_requests - before == 1


def test_signature_by_another_key_under_a_known_kid_is_refused(minting: MintingIssuer) -> None:
    token = minting.sign_with_other_key(_id_claims(minting.issuer), kid="k1")
    _refused("bad signature", _check_id, token, minting.issuer)


def test_access_token_presented_as_id_token_is_refused(minting: MintingIssuer) -> None:
    token = minting.sign(_id_claims(minting.issuer), typ="at+jwt")
    _refused("an access token is not an ID token", _check_id, token, minting.issuer)


def test_access_token_without_at_jwt_typ_is_refused_rfc9068_2_1(minting: MintingIssuer) -> None:
    token = minting.sign(_at_claims(minting.issuer), typ="JWT")
    _refused("typ is not at+jwt", _check_at, token, Provider(minting.issuer))


def test_access_token_for_another_resource_is_refused_rfc9068_4(minting: MintingIssuer) -> None:
    token = minting.sign(_at_claims(minting.issuer, aud="urn:other"), typ="at+jwt")
    _refused("wrong audience", _check_at, token, Provider(minting.issuer))


def test_expired_access_token_is_refused(minting: MintingIssuer) -> None:
    past = int(time.time()) - 3600
    token = minting.sign(_at_claims(minting.issuer, iat=past - 60, exp=past), typ="at+jwt")
    _refused("expired", _check_at, token, Provider(minting.issuer))


def test_hs256_access_token_is_refused(minting: MintingIssuer) -> None:
    token = hs256(_at_claims(minting.issuer), b"k" * 32, typ="at+jwt")
    _refused("algorithm not allowed", _check_at, token, Provider(minting.issuer))


def test_real_client_credentials_token_is_accepted(world: SigninWorld) -> None:
    claims = _check_at(world.client_credentials_token(), world.signin.provider)
    assert claims["client_id"] == "verifier-system"
    assert world.config.roles_for_scope(claims.get("scope")) == {"verifier"}


def test_real_id_token_passes_and_real_access_token_is_no_id_token(world: SigninWorld) -> None:
    token = world.real_id_token(nonce="n-real")
    claims = check_id_token(
        token,
        world.signin.provider,
        client_id=RP_CLIENT,
        nonce="n-real",
        now=int(time.time()),
        leeway=30,
        algorithms=ALGS,
    )
    assert claims["groups"] == ["counter-verifiers"]
    _refused(
        "typ is not at+jwt", _check_at, token, world.signin.provider
    )  # an ID token is not an access token

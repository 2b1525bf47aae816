"""Checks of the provider's JWTs: ID tokens (OIDC Core 3.1.3.7) and access tokens (RFC 9068).

Every check names its reason in a ``TokenRefusedError`` (safe to log: no claim
values). The order matters: the header (``alg`` in the allow-list, ``typ``,
a known ``kid``) is checked before any signature work, the signature before
any claim is trusted.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from api.http.signin.provider import Provider, ProviderError

ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
"""RFC 9068 section 2.1: the ``typ`` an access token must carry."""


class TokenRefusedError(Exception):
    """A token failed a check; ``reason`` is a short code for logs and problems."""

    def __init__(self, reason: str) -> None:
        """Refuse for ``reason``."""
        super().__init__(f"token refused: {reason}")
        self.reason = reason


def _header(token: str) -> dict[str, Any]:
    try:
        signature = jws.extract_compact(token.encode())
    except (JoseError, ValueError):
        raise TokenRefusedError("malformed") from None
    return dict(signature.protected)


def _verified_claims(token: str, provider: Provider, algorithms: Collection[str]) -> dict[str, Any]:
    header = _header(token)
    alg = header.get("alg")
    if alg not in algorithms:
        raise TokenRefusedError("algorithm not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise TokenRefusedError("no key id")
    try:
        key = provider.key(kid)
    except ProviderError:
        raise TokenRefusedError("provider keys unavailable") from None
    if key is None:
        raise TokenRefusedError("unknown key id")
    try:
        decoded = jwt.decode(token, key, algorithms=list(algorithms))
    except JoseError:
        raise TokenRefusedError("bad signature") from None
    return dict(decoded.claims)


def _check_times(claims: dict[str, Any], now: int, leeway: int) -> None:
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int) or not isinstance(iat, int):
        raise TokenRefusedError("exp or iat missing")
    if exp + leeway <= now:
        raise TokenRefusedError("expired")
    if iat - leeway > now:
        raise TokenRefusedError("issued in the future")
    nbf = claims.get("nbf")
    if isinstance(nbf, int) and nbf - leeway > now:
        raise TokenRefusedError("not yet valid")


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        return list(aud)
    return []


def check_id_token(
    token: str,
    provider: Provider,
    *,
    client_id: str,
    nonce: str,
    now: int,
    leeway: int,
    algorithms: Collection[str],
) -> dict[str, Any]:
    """The ID token's claims after every check, or ``TokenRefusedError``."""
    header = _header(token)
    if str(header.get("typ", "JWT")).lower() in ACCESS_TOKEN_TYPES:
        raise TokenRefusedError("an access token is not an ID token")
    claims = _verified_claims(token, provider, algorithms)
    if claims.get("iss") != provider.issuer:
        raise TokenRefusedError("wrong issuer")
    audiences = _audiences(claims)
    if client_id not in audiences:
        raise TokenRefusedError("wrong audience")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise TokenRefusedError("wrong authorized party")
    _check_times(claims, now, leeway)
    if claims.get("nonce") != nonce:
        raise TokenRefusedError("nonce mismatch")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenRefusedError("no subject")
    return claims


def check_access_token(
    token: str,
    provider: Provider,
    *,
    audience: str,
    now: int,
    leeway: int,
    algorithms: Collection[str],
) -> dict[str, Any]:
    """An RFC 9068 access token's claims after every check, or ``TokenRefusedError``."""
    header = _header(token)
    if str(header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
        raise TokenRefusedError("typ is not at+jwt")
    claims = _verified_claims(token, provider, algorithms)
    if claims.get("iss") != provider.issuer:
        raise TokenRefusedError("wrong issuer")
    if audience not in _audiences(claims):
        raise TokenRefusedError("wrong audience")
    _check_times(claims, now, leeway)
    if not isinstance(claims.get("client_id"), str):
        raise TokenRefusedError("no client_id")
    return claims


def looks_like_jwt(token: str) -> bool:
    """Whether a bearer token has the shape of a compact JWS (three base64url parts)."""
    return token.count(".") == 2 and not token.startswith("tb_")

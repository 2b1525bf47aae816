"""Machine clients with OAuth 2.0 client-credentials access tokens (RFC 9068 JWTs).

Beside the opaque ``tb_...`` tokens: a bearer token shaped like a JWT is
checked against the provider (``tokens.check_access_token``: signature from
the JWKS, ``iss``, ``aud`` = this province's API identifier, ``exp``, ``typ``
``at+jwt``, the algorithm allow-list, unknown ``kid`` refused) and becomes a
client for this request only, its roles mapped from ``scope`` by
configuration. Its actor in the audit log is ``oauth:<client_id>``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fastapi import FastAPI

from api.http.signin.config import ALLOWED_ALGORITHMS
from api.http.signin.provider import Provider
from api.http.signin.tokens import TokenRefusedError, check_access_token
from api.province.clients import ApiClient, Role

log = logging.getLogger(__name__)

_CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,100}", re.ASCII)


@dataclass(frozen=True)
class AccessTokens:
    """Turns a provider's access token into an ``ApiClient`` (or refuses it: None)."""

    provider: Provider
    audience: str
    organisation: str
    scope_roles: Mapping[str, frozenset[Role]]
    algorithms: tuple[str, ...] = ALLOWED_ALGORITHMS
    leeway_seconds: int = 30
    clock: Callable[[], float] = field(default=time.time)

    def client(self, token: str) -> ApiClient | None:
        """The client the token stands for, or None (the reason is logged, not the token)."""
        try:
            claims = check_access_token(
                token,
                self.provider,
                audience=self.audience,
                now=int(self.clock()),
                leeway=self.leeway_seconds,
                algorithms=self.algorithms,
            )
        except TokenRefusedError as exc:
            log.info("access token refused: %s", exc.reason)
            return None
        client_id = str(claims["client_id"])
        if not _CLIENT_ID.fullmatch(client_id):
            log.info("access token refused: client_id not usable as an audit actor")
            return None
        roles: set[Role] = set()
        scope = claims.get("scope")
        for item in scope.split() if isinstance(scope, str) else ():
            roles.update(self.scope_roles.get(item, frozenset()))
        return ApiClient(
            client_id=f"oauth:{client_id}",
            name=client_id,
            organisation=self.organisation,
            roles=frozenset(roles),
            created_at_ms=int(claims["iat"]) * 1000,
        )


def install_access_tokens(app: FastAPI, checker: AccessTokens) -> None:
    """Accept ``checker``'s JWT access tokens on ``app``'s API routes (beside opaque tokens)."""
    app.state.access_tokens = checker

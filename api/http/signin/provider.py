"""The identity provider as seen from here: discovery, its signing keys, its token endpoint.

Plain ``urllib`` with a timeout (no HTTP client dependency). The JWKS is
cached; a token naming a ``kid`` the cache lacks triggers one refresh, and if
the key is still unknown the token is refused — and a further unknown ``kid``
within ``REFRESH_SECONDS`` is refused without asking the provider again, so
tokens with made-up key ids cannot make the service hammer the provider.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import KeySet

REFRESH_SECONDS = 60.0
MAX_RESPONSE = 1_000_000


class ProviderError(Exception):
    """The provider could not be reached or answered something unusable."""


@dataclass(frozen=True)
class ProviderMetadata:
    """The endpoints this relying party uses, from the provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None
    """RP-Initiated Logout 1.0; None when the provider offers none."""


def _get_json(
    url: str, timeout: float, data: bytes | None = None, headers: dict[str, str] | None = None
) -> Any:
    if not url.startswith(("https://", "http://")):
        raise ProviderError("provider URL must be http(s)")
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
            body = response.read(MAX_RESPONSE)
    except urllib.error.HTTPError as exc:
        body = exc.read(MAX_RESPONSE)
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {}
        error = answer.get("error") if isinstance(answer, dict) else None
        raise ProviderError(f"provider refused: {error or exc.code}") from None
    except (OSError, ValueError) as exc:
        raise ProviderError(f"provider unreachable: {type(exc).__name__}") from None
    try:
        return json.loads(body)
    except ValueError:
        raise ProviderError("provider answered something other than JSON") from None


class Provider:
    """One OpenID provider: metadata fetched once, the JWKS cached and refreshed on demand."""

    def __init__(self, issuer: str, timeout: float = 10.0) -> None:
        """Lazily discover ``issuer`` (its ``/.well-known/openid-configuration``)."""
        self.issuer = issuer
        self.timeout = timeout
        self._metadata: ProviderMetadata | None = None
        self._keys: KeySet | None = None
        self._refreshed_at = float("-inf")
        self._lock = threading.Lock()

    def metadata(self) -> ProviderMetadata:
        """The provider's endpoints; its discovery ``issuer`` must equal the configured one."""
        if self._metadata is None:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            doc = _get_json(url, self.timeout)
            if not isinstance(doc, dict) or doc.get("issuer") != self.issuer:
                raise ProviderError("discovery document names another issuer")
            try:
                self._metadata = ProviderMetadata(
                    issuer=self.issuer,
                    authorization_endpoint=str(doc["authorization_endpoint"]),
                    token_endpoint=str(doc["token_endpoint"]),
                    jwks_uri=str(doc["jwks_uri"]),
                    end_session_endpoint=_optional_url(doc.get("end_session_endpoint")),
                )
            except KeyError:
                raise ProviderError("discovery document lacks an endpoint") from None
        return self._metadata

    def _fetch_keys(self) -> KeySet:
        doc = _get_json(self.metadata().jwks_uri, self.timeout)
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise ProviderError("JWKS is not a key set")
        usable = [k for k in doc["keys"] if isinstance(k, dict) and k.get("kty") in ("RSA", "EC")]
        return KeySet.import_key_set({"keys": usable})

    def key(self, kid: str) -> Any | None:
        """The provider's public key ``kid``, refreshing the cache once if unknown; else None."""
        with self._lock:
            if self._keys is None:
                self._keys = self._fetch_keys()
                self._refreshed_at = time.monotonic()
            found = _by_kid(self._keys, kid)
            if found is None and time.monotonic() - self._refreshed_at >= REFRESH_SECONDS:
                self._keys = self._fetch_keys()
                self._refreshed_at = time.monotonic()
                found = _by_kid(self._keys, kid)
            return found

    def exchange_code(
        self, code: str, verifier: str | None, redirect_uri: str, client_id: str, secret: str
    ) -> dict[str, Any]:
        """The token response for ``code`` (client_secret_basic); ProviderError on refusal."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if verifier is not None:
            form["code_verifier"] = verifier
        # RFC 6749 section 2.3.1: both parts form-encoded before Basic.
        pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
        basic = base64.b64encode(pair.encode()).decode()
        answer = _get_json(
            self.metadata().token_endpoint,
            self.timeout,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        if not isinstance(answer, dict):
            raise ProviderError("token response is not an object")
        return answer


def _optional_url(value: object) -> str | None:
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value
    return None


def _by_kid(keys: KeySet, kid: str) -> Any | None:
    for key in keys.keys:
        if key.kid == kid:
            return key
    return None

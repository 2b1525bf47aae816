"""Tokens minted by the test with a key it controls, its JWKS served by a tiny loopback server.

For token-shape refusals the real provider will not produce (wrong audience,
expired, ``alg`` ``none``/HS256, unknown ``kid``, ``typ`` confusion).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey


def b64(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class MintingIssuer:
    """An issuer URL on loopback serving discovery and one EC P-256 key (``kid`` ``k1``)."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", parameters={"kid": "k1", "alg": "ES256"})
        public = self.key.as_dict(private=False)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body: dict[str, Any] = {
                        "issuer": owner.issuer,
                        "authorization_endpoint": f"{owner.issuer}/auth",
                        "token_endpoint": f"{owner.issuer}/token",
                        "jwks_uri": f"{owner.issuer}/jwks",
                    }
                elif self.path == "/jwks":
                    owner.jwks_requests += 1
                    body = {"keys": [public]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.jwks_requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        """``claims`` signed with the served key (header ES256, kid k1 unless overridden)."""
        protected = {"alg": "ES256", "kid": "k1"} | header
        return jwt.encode(protected, claims, self.key)

    def sign_with_other_key(self, claims: dict[str, Any], kid: str) -> str:
        """``claims`` signed by a key the JWKS does not hold, named ``kid``."""
        other = ECKey.generate_key("P-256")
        return jwt.encode({"alg": "ES256", "kid": kid}, claims, other)


def unsigned(claims: dict[str, Any], kid: str = "k1") -> str:
    """An ``alg: none`` token."""
    header = b64(json.dumps({"alg": "none", "kid": kid}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


def hs256(claims: dict[str, Any], secret: bytes, kid: str = "k1", typ: str = "JWT") -> str:
    """An HS256 token keyed with ``secret`` (e.g. the public key's bytes: alg confusion)."""
    header = b64(json.dumps({"alg": "HS256", "kid": kid, "typ": typ}).encode())
    payload = b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"

"""The wallet's side of OpenID4VCI 1.0's pre-authorized code flow (docs/oid4vci.md).

``read_offer`` fetches a credential offer by reference (an
``openid-credential-offer://`` link's ``credential_offer_uri``, or that URL) and
the issuer's metadata; ``redeem`` trades the pre-authorized code and the
``tx_code`` the citizen received out of band for an access token, fetches a
``c_nonce``, proves the holder key with a ``di_vp`` presentation signed
``sm2-jcs-2026`` (challenge the ``c_nonce``, domain the ``credential_issuer``)
and answers the credential. The caller stores it (``Wallet.receive``). Errors
name no claim value and never the codes.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from api.client.errors import WalletError
from credentials.credential import CONTEXT
from credentials.cryptosuite import AUTHENTICATION, create_proof
from credentials.holder import Holder
from credentials.times import format_ms, now_ms

__all__ = [
    "PRE_AUTHORIZED_GRANT",
    "CredentialOffer",
    "key_proof",
    "offer_uri_of",
    "read_offer",
    "redeem",
]

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
_TIMEOUT = 30.0
_MAX_ANSWER = 512 * 1024


@dataclass(frozen=True)
class CredentialOffer:
    """What the wallet uses of an offer and its issuer's metadata."""

    credential_issuer: str
    configuration_id: str
    pre_authorized_code: str
    tx_code_length: int | None
    tx_code_description: str | None
    token_endpoint: str
    nonce_endpoint: str
    credential_endpoint: str


def offer_uri_of(link: str) -> str:
    """The ``credential_offer_uri`` of an ``openid-credential-offer://`` link, or the URL given."""
    parts = urlsplit(link.strip())
    if parts.scheme == "openid-credential-offer":
        found = parse_qs(parts.query).get("credential_offer_uri", [])
        if len(found) != 1:
            raise WalletError("the offer link has no single credential_offer_uri")
        link = found[0]
        parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WalletError("the offer must be openid-credential-offer://… or an http(s) URL")
    return link


def _exchange(
    method: str,
    url: str,
    body: bytes | None = None,
    content_type: str | None = None,
    token: str | None = None,
) -> tuple[int, Any]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WalletError("the issuer named an endpoint that is no http(s) URL")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=_TIMEOUT)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept": "application/json"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read(_MAX_ANSWER + 1)
    except (OSError, http.client.HTTPException):  # a timeout is an OSError
        raise WalletError(f"the issuer at {parts.scheme}://{parts.netloc} is unreachable") from None
    finally:
        connection.close()
    if len(raw) > _MAX_ANSWER:
        raise WalletError("the issuer's answer is too large")
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        raise WalletError(f"the issuer answered HTTP {response.status}, not JSON") from None


_WORDS = {
    "invalid_grant": "the offer's code or the tx_code is not accepted",
    "invalid_token": "the access token is not accepted",
    "invalid_nonce": "the c_nonce is not accepted",
    "invalid_proof": "the key proof is not accepted",
}


def _refusal(status: int, answer: Any) -> WalletError:
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        described = answer.get("error_description")
        detail = described if isinstance(described, str) else _WORDS.get(answer["error"], "")
        return WalletError(f"the issuer refused ({answer['error']}): {detail}".rstrip(": "))
    return WalletError(f"the issuer refused (HTTP {status})")


def _get_json(url: str) -> dict[str, Any]:
    status, document = _exchange("GET", url)
    if status != 200:
        raise _refusal(status, document)
    if not isinstance(document, dict):
        raise WalletError("the issuer answered something other than a JSON object")
    return document


def _text(document: dict[str, Any], name: str, what: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise WalletError(f"the {what} has no {name}")
    return value


def _same_origin(url: str, issuer: str, what: str) -> str:
    a, b = urlsplit(url), urlsplit(issuer)
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        raise WalletError(f"the {what} is on another origin than the credential issuer")
    return url


def read_offer(link: str) -> CredentialOffer:
    """Fetch and check the offer ``link`` refers to, and its issuer's metadata."""
    uri = offer_uri_of(link)
    offer = _get_json(uri)
    issuer = _text(offer, "credential_issuer", "offer").rstrip("/")
    _same_origin(uri, issuer, "offer")
    ids = offer.get("credential_configuration_ids")
    if not isinstance(ids, list) or len(ids) != 1 or not isinstance(ids[0], str):
        raise WalletError("the offer must name exactly one credential configuration")
    grants = offer.get("grants")
    grant = grants.get(PRE_AUTHORIZED_GRANT) if isinstance(grants, dict) else None
    if not isinstance(grant, dict):
        raise WalletError("the offer has no pre-authorized code grant")
    code = _text(grant, "pre-authorized_code", "offer's grant")
    tx = grant.get("tx_code")
    length = tx.get("length") if isinstance(tx, dict) else None
    description = tx.get("description") if isinstance(tx, dict) else None
    metadata = _get_json(f"{issuer}/.well-known/openid-credential-issuer")
    if metadata.get("credential_issuer", "").rstrip("/") != issuer:
        raise WalletError("the issuer's metadata names another credential issuer")
    servers = metadata.get("authorization_servers") or [issuer]
    server = str(servers[0]).rstrip("/") if isinstance(servers, list) and servers else issuer
    authorization = _get_json(
        f"{_same_origin(server, issuer, 'authorization server')}"
        "/.well-known/oauth-authorization-server"
    )
    return CredentialOffer(
        credential_issuer=issuer,
        configuration_id=ids[0],
        pre_authorized_code=code,
        tx_code_length=length if isinstance(length, int) else None,
        tx_code_description=description if isinstance(description, str) else None,
        token_endpoint=_same_origin(
            _text(authorization, "token_endpoint", "authorization server"), issuer, "token endpoint"
        ),
        nonce_endpoint=_same_origin(
            _text(metadata, "nonce_endpoint", "issuer metadata"), issuer, "nonce endpoint"
        ),
        credential_endpoint=_same_origin(
            _text(metadata, "credential_endpoint", "issuer metadata"), issuer, "credential endpoint"
        ),
    )


def key_proof(holder: Holder, c_nonce: str, credential_issuer: str) -> dict[str, Any]:
    """The ``di_vp`` key proof: a presentation of no credential, signed by ``holder``."""
    presentation: dict[str, Any] = {
        "@context": list(CONTEXT),
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
    }
    proof = create_proof(
        presentation,
        holder.signer,
        verification_method=holder.verification_method,
        proof_purpose=AUTHENTICATION,
        created=format_ms(now_ms()),
        challenge=c_nonce,
        domain=credential_issuer,
    )
    return {**presentation, "proof": proof}


def redeem(offer: CredentialOffer, tx_code: str, holder: Holder) -> dict[str, Any]:
    """The credential ``offer`` holds for ``holder``, once ``tx_code`` is accepted."""
    if offer.tx_code_length is not None and (
        len(tx_code) != offer.tx_code_length or not tx_code.isdigit()
    ):
        raise WalletError(f"the tx_code is {offer.tx_code_length} digits")
    form = urlencode(
        {
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": offer.pre_authorized_code,
            "tx_code": tx_code,
        }
    ).encode("ascii")
    status, answer = _exchange(
        "POST", offer.token_endpoint, form, "application/x-www-form-urlencoded"
    )
    if status != 200 or not isinstance(answer, dict):
        raise _refusal(status, answer)
    access = _text(answer, "access_token", "token answer")
    status, answer = _exchange("POST", offer.nonce_endpoint, b"", "application/json")
    if status != 200 or not isinstance(answer, dict):
        raise _refusal(status, answer)
    c_nonce = _text(answer, "c_nonce", "nonce answer")
    request = {
        "credential_configuration_id": offer.configuration_id,
        "proofs": {"di_vp": [key_proof(holder, c_nonce, offer.credential_issuer)]},
    }
    body = json.dumps(request, separators=(",", ":")).encode("utf-8")
    status, answer = _exchange(
        "POST", offer.credential_endpoint, body, "application/json", token=access
    )
    if status != 200 or not isinstance(answer, dict):
        raise _refusal(status, answer)
    credentials = answer.get("credentials")
    if not isinstance(credentials, list) or len(credentials) != 1:
        raise WalletError("the issuer answered no single credential")
    entry = credentials[0]
    credential = entry.get("credential") if isinstance(entry, dict) else None
    if not isinstance(credential, dict):
        raise WalletError("the issuer's credential is not a JSON object")
    return credential

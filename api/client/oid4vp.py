"""The wallet's side of OpenID4VP ``direct_post`` (docs/oid4vp.md): read a request, answer it.

``read_request`` fetches the request object by reference (an ``openid4vp://`` link's
``request_uri``, or that URL itself) and checks it is the subset Tongban speaks:
``response_type=vp_token``, ``response_mode=direct_post``, ``client_id`` the
``redirect_uri:`` of a ``response_uri`` on the request's own origin, a nonce and
state, a DCQL query naming claims. ``respond`` picks the one stored credential
holding every claim asked for, presents it (disclosing just those of its
selectively disclosable claims) over the request's nonce with the verifier's DID
as domain and the request's purpose bound into the proof (``termsOfUse``), and
posts ``vp_token`` and ``state`` form-encoded. Errors name no claim value.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from api.client.errors import WalletError
from api.client.wallet import StoredCredential, Wallet
from credentials.disclosure import claim_name

__all__ = ["PresentationRequest", "read_request", "request_uri_of", "respond"]

_TIMEOUT = 30.0
_MAX_ANSWER = 256 * 1024


@dataclass(frozen=True)
class PresentationRequest:
    """The parts of a request object the wallet uses."""

    client_id: str
    response_uri: str
    nonce: str
    state: str
    domain: str
    claims: tuple[str, ...]
    purpose: str | None


def request_uri_of(link: str) -> str:
    """The ``request_uri`` of an ``openid4vp://`` link, or the http(s) URL given."""
    parts = urlsplit(link)
    if parts.scheme == "openid4vp":
        found = parse_qs(parts.query).get("request_uri", [])
        if len(found) != 1:
            raise WalletError("the openid4vp link has no single request_uri")
        link = found[0]
        parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WalletError("the request URL must be openid4vp://… or http(s)://…")
    return link


def _exchange(
    method: str, url: str, body: bytes | None = None, content_type: str | None = None
) -> tuple[int, Any]:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=_TIMEOUT)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept": "application/json"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read(_MAX_ANSWER + 1)
    except (OSError, http.client.HTTPException):  # a timeout is an OSError
        raise WalletError(
            f"the verifier at {parts.scheme}://{parts.netloc} is unreachable"
        ) from None
    finally:
        connection.close()
    if len(raw) > _MAX_ANSWER:
        raise WalletError("the verifier's answer is too large")
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        raise WalletError(f"the verifier answered HTTP {response.status}, not JSON") from None


def _refusal(status: int, answer: Any) -> WalletError:
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        described = answer.get("error_description")
        detail = f": {described}" if isinstance(described, str) else ""
        return WalletError(f"the verifier refused ({status} {answer['error']}){detail}")
    return WalletError(f"the verifier refused (HTTP {status})")


def _text(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise WalletError(f"the request object has no {name}")
    return value


def read_request(link: str) -> PresentationRequest:
    """Fetch and check the request object that ``link`` refers to."""
    uri = request_uri_of(link)
    status, document = _exchange("GET", uri)
    if status != 200:
        raise _refusal(status, document)
    if not isinstance(document, dict):
        raise WalletError("the request object is not a JSON object")
    if document.get("response_type") != "vp_token":
        raise WalletError("the request asks for another response_type than vp_token")
    if document.get("response_mode") != "direct_post":
        raise WalletError("the request asks for another response_mode than direct_post")
    response_uri = _text(document, "response_uri")
    client_id = _text(document, "client_id")
    if client_id != f"redirect_uri:{response_uri}":
        raise WalletError("the client_id is not redirect_uri: of the response_uri")
    asked, answer_to = urlsplit(uri), urlsplit(response_uri)
    if (asked.scheme, asked.netloc) != (answer_to.scheme, answer_to.netloc):
        raise WalletError("the response_uri is on another origin than the request")
    metadata = document.get("client_metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    domain = metadata.get("tongban_domain")
    if not isinstance(domain, str) or not domain.startswith("did:"):
        raise WalletError("the request names no verifier DID (client_metadata.tongban_domain)")
    purpose = metadata.get("tongban_purpose")
    return PresentationRequest(
        client_id=client_id,
        response_uri=response_uri,
        nonce=_text(document, "nonce"),
        state=_text(document, "state"),
        domain=domain,
        claims=_claims(document.get("dcql_query")),
        purpose=purpose if isinstance(purpose, str) else None,
    )


def _claims(query: Any) -> tuple[str, ...]:
    try:
        (wanted,) = query["credentials"]
        names = []
        for claim in wanted["claims"]:
            path = claim["path"]
            if len(path) != 2 or path[0] != "credentialSubject" or not isinstance(path[1], str):
                raise WalletError("the DCQL query asks for a claim outside credentialSubject")
            names.append(path[1])
    except (KeyError, TypeError, ValueError):
        raise WalletError("the DCQL query is not one credential with claims") from None
    if not names:
        raise WalletError("the DCQL query asks for no claim")
    return tuple(names)


def _disclosable(stored: StoredCredential) -> set[str]:
    names = set()
    for disclosure in stored.credential.get("disclosures", []):
        try:
            names.add(claim_name(str(disclosure[1])))
        except (ValueError, IndexError, TypeError):
            continue
    return names


def _pick(wallet: Wallet, claims: tuple[str, ...]) -> StoredCredential:
    holding = [s for s in wallet.credentials() if set(claims) <= set(s.claim_names())]
    if not holding:
        raise WalletError("no credential in the wallet holds every claim asked for")
    anchored = [s for s in holding if s.anchored] or holding
    return sorted(anchored, key=lambda s: s.received_at)[-1]


def respond(
    wallet: Wallet,
    request: PresentationRequest,
    claims: tuple[str, ...] | None = None,
    *,
    force: bool = False,
) -> dict[str, Any]:
    """Answer ``request`` with a presentation of ``claims`` (default: those asked for).

    Returns the verifier's JSON answer; ``WalletError`` for a refusal (in its words).
    """
    chosen = request.claims if claims is None else claims
    extra = set(chosen) - set(request.claims)
    if extra:
        raise WalletError("the chosen claims include some the verifier did not ask for")
    stored = _pick(wallet, chosen)
    disclose = [name for name in chosen if name in _disclosable(stored)]
    presentation = wallet.present(
        [(stored.digest, disclose)],
        challenge=request.nonce,
        domain=request.domain,
        force=force,
        # Bound into the proof, so the answer cannot be replayed for another purpose.
        purpose=request.purpose,
    )
    token = json.dumps({"credential": [presentation]}, ensure_ascii=False, separators=(",", ":"))
    body = urlencode({"vp_token": token, "state": request.state}).encode("ascii")
    status, answer = _exchange(
        "POST", request.response_uri, body, "application/x-www-form-urlencoded"
    )
    if status != 200:
        raise _refusal(status, answer)
    return answer if isinstance(answer, dict) else {}

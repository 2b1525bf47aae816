"""The issuer's credential offer: OpenID4VCI 1.0, pre-authorized code flow (docs/oid4vci.md).

Issuer system (role ``issuer``, problem details): ``POST /credential-offers``
stores an offer (``api.province.credential_offers``: claims sealed) and answers
its ``credential_offer_uri`` and ``tx_code`` once; the offer records a
``credential.offer`` access event (the claims are personal data, received and kept).

Wallet (public; OAuth-style ``{"error", "error_description"}`` answers that never
name what was sent, rate-limited per client address like OpenID4VP's):
``GET /credential-offers/{handle}`` (the offer by reference: no personal data),
``GET /.well-known/openid-credential-issuer`` and
``GET /.well-known/oauth-authorization-server`` (metadata), ``POST /token``
(pre-authorized code + ``tx_code`` → access token), ``POST /nonce`` (``c_nonce``)
and ``POST /credential`` (bearer token; the key proof is a ``di_vp`` presentation
signed ``sm2-jcs-2026``). The credential is issued by the issue route's own path
(``routes.credentials._issue``) as the offering client, for its agency, with the
purpose it declared, so its ``credential.issue`` event and its anchoring are those
of any issuance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import Field

from api.errors import ApiError, ProblemCode
from api.http.auth import Principal
from api.http.citizen_cors import allowed_origins
from api.http.context import ProvinceContext
from api.http.credential_problems import issue_problem
from api.http.deps import ContextDep, IssuerDep, JsonBody, RequestIdDep, context_of, request_id_for
from api.http.issue_agency import with_agency
from api.http.problems import Problem, problem_responses, unavailable
from api.http.ratelimit import RateLimiter, RatePolicy, app_limiter, retry_after
from api.http.routes.credentials import IssueHeadersDep
from api.http.routes.credentials import _issue as issue_path  # the issue route's own path
from api.http.schemas.common import ApiModel, InputModel
from api.province import credential_offers as offers
from api.province.access import Declaration, access_event, record_access
from api.province.clients import Role
from credentials import ijson
from credentials.credential import IssueRequest, build_credential
from credentials.cryptosuite import AUTHENTICATION, CRYPTOSUITE, PROOF_TYPE, verify_proof
from credentials.did import holder_did, parse_holder_verification_method
from credentials.errors import CredentialError, InputRejectedError
from credentials.templates import TEMPLATES
from ledger.crypto.errors import CryptoError
from ledger.crypto.sm2 import Sm2PrivateKey

__all__ = ["PROOF_KIND", "WALLET_RATE", "issuer_router", "wallet_router"]

PROOF_KIND = "di_vp"
"""The key proof type: a Data Integrity presentation (OpenID4VCI 1.0 Appendix F.2)."""

WALLET_RATE = RatePolicy(rate=5.0, burst=30)
"""Per client address on the public routes (as OpenID4VP's): a redemption takes five."""

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
_NO_STORE = {"Cache-Control": "no-store"}
_FORM_CAP = 4 * 1024
_CREDENTIAL_CAP = 256 * 1024
_CREDENTIAL_LIMITS = ijson.Limits(_CREDENTIAL_CAP, 16, 100)
# Validating the claims when offered needs a holder: any valid SM2 did:key will do.
_PLACEHOLDER_HOLDER = holder_did(Sm2PrivateKey.from_bytes((7).to_bytes(32, "big")).public_key)
# \d is any Unicode digit (full-width ones too); \uff20 is the full-width at sign.
_PERSONAL_HINT = re.compile("\\d{4,}|[@\uff20]")


def _wallet_cors(request: Request, answer: Response) -> Response:
    """Let the consortium's wallet origins read ``answer`` (docs/wallet.md "Receiving an offer").

    The allowed origins are the citizen routes' (``citizen_cors.allowed_origins``): a citizen
    redeems a province's offer in the wallet its own province serves. Never ``*``.
    """
    origin = request.headers.get("origin")
    if origin is not None and origin in allowed_origins(request.app):
        answer.headers["Access-Control-Allow-Origin"] = origin
    answer.headers["Vary"] = "Origin"
    return answer


class _WalletRoute(APIRoute):
    """Every wallet route's answer carries the wallet CORS headers (errors and 429s too)."""

    def get_route_handler(self) -> Any:
        """The route's handler, its answer passed through ``_wallet_cors``."""
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            return _wallet_cors(request, await handler(request))

        return with_cors


issuer_router = APIRouter(tags=["credential offers"])
wallet_router = APIRouter(include_in_schema=False, route_class=_WalletRoute)


class OfferIn(InputModel):
    """A credential offered to a citizen who has no DID yet."""

    template: str = Field(
        pattern=r"^[a-z][a-z0-9-]{0,63}$",
        description="A certificate template (docs/credentials.md).",
    )
    agency: str | None = Field(
        default=None,
        max_length=32,
        description="The issuing agency, as for `POST /credentials/issue` (docs/agencies.md).",
    )
    claims: dict[str, Any] = Field(
        description="Every claim of the template, in clear; sealed at rest, never echoed."
    )
    tx_code_description: str | None = Field(
        default=None,
        max_length=300,
        description="How the citizen receives the tx_code (shown by the wallet), e.g. "
        "`短信发送至预留手机号`. Must name no person.",
    )


class OfferOut(ApiModel):
    """The offer: its URI (by reference, no personal data) and its tx_code, shown once."""

    credential_offer_uri: str
    credential_offer: str
    tx_code: str
    expires_at: int


OFFER_BODY = JsonBody(OfferIn)


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _data_key(context: ProvinceContext) -> bytes:
    if context.issuer is None:
        raise unavailable("credential issuing")
    return context.issuer.data_key


def _check_offer(context: ProvinceContext, principal: Principal, body: OfferIn) -> IssueRequest:
    """The issue request the offer stands for, checked now as the issue route would."""
    if body.tx_code_description is not None and _PERSONAL_HINT.search(body.tx_code_description):
        # The offer is public: a phone number or an address in the hint would publish it.
        raise Problem.validation(
            "/txCodeDescription",
            "must name no number of 4 or more digits and no e-mail address",
            "the tx_code description must name no person",
        )
    request = IssueRequest(template=body.template, holder=_PLACEHOLDER_HOLDER, claims=body.claims)
    request = with_agency(context.db, principal.client, request, body.agency, "/agency")
    try:
        build_credential(
            request, chain_id=context.chain_id, issuer_id=context.issuer_id, now_ms=context.clock()
        )
    except CredentialError as exc:
        problem = issue_problem(exc, request)
        if problem is None:
            raise
        raise problem from None
    return request


@issuer_router.post(
    "/credential-offers",
    status_code=201,
    response_model=OfferOut,
    summary="Offer a credential to a citizen (OpenID4VCI pre-authorized code, tx_code)",
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
    openapi_extra=OFFER_BODY.openapi,
)
def create_offer(
    request: Request,
    principal: IssuerDep,
    headers: IssueHeadersDep,
    body: Annotated[OfferIn, OFFER_BODY.depends],
    context: ContextDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """Store the offer (claims sealed, 10 minutes); answer its URI and tx_code once.

    The issuer system sends the ``credential_offer`` link to the citizen (QR code,
    page) and the ``tx_code`` by another channel. A retry with the same
    ``Idempotency-Key`` answers the same offer. Logged as ``credential.offer``.
    """
    data_key = _data_key(context)
    checked = _check_offer(context, principal, body)
    wanted = offers.OfferRequest(
        client_id=principal.client.client_id,
        purpose=headers.declared.purpose,
        legal_basis=headers.declared.legal_basis,
        template=body.template,
        agency=None if checked.agency is None else checked.agency.code,
        claims=body.claims,
        tx_description=body.tx_code_description,
    )
    created = offers.create(
        context.db,
        data_key,
        wanted,
        now_ms=context.clock(),
        idempotency_key=headers.idempotency_key,
    )
    # The log's resources name credentials by digest; an offer has none yet.
    event = access_event(
        headers.declared, request_id, "credential.offer", "record:credential-offer"
    )
    # Keyed by the offer (the audit log's own idempotency): a replayed offer appends none.
    event = replace(event, idempotency_key=f"credential.offer:{created.offer_hash}")
    record_access(context.audit_log, principal.caller, [event])
    uri = f"{_origin(request)}/credential-offers/{created.handle}"
    answer = {
        "credentialOfferUri": uri,
        "credentialOffer": "openid-credential-offer://?credential_offer_uri=" + quote(uri, safe=""),
        "txCode": created.tx_code,
        "expiresAt": created.expires_at_ms // 1000,
    }
    replayed = {"Idempotent-Replayed": "true"} if created.replayed else {}
    return JSONResponse(answer, status_code=201, headers={**_NO_STORE, **replayed})


# -- the wallet's public routes -----------------------------------------------------------


def _error(status: int, error: str, description: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**_NO_STORE, **headers},
    )


def _refused(refusal: offers.OfferRefusedError) -> JSONResponse:
    extra = {}
    if refusal.error == "invalid_token":
        extra["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="{refusal.reason}"'
        )
    return _error(refusal.http_status, refusal.error, refusal.reason, **extra)


def _limiter(request: Request) -> RateLimiter:
    return app_limiter(request.app.state, "oid4vci_rate", WALLET_RATE)


def _over_rate(request: Request) -> JSONResponse | None:
    address = request.client.host if request.client is not None else "unknown"
    wait = _limiter(request).take(address)
    if wait <= 0:
        return None
    context_of(request).metrics.rate_limited.inc("wallet")
    return _error(
        429,
        "temporarily_unavailable",
        "too many requests from this address; retry after the time in Retry-After",
        **{"Retry-After": retry_after(wait)},
    )


def _limited(request: Request) -> None:
    limited = _over_rate(request)
    if limited is not None:
        raise _Answer(limited)


class _Answer(Exception):  # noqa: N818 (a control-flow carrier, not an error)
    def __init__(self, response: JSONResponse) -> None:
        super().__init__("answer")
        self.response = response


def _wallet_context(request: Request) -> tuple[ProvinceContext, bytes]:
    context = context_of(request)
    if context.issuer is None:
        raise _Answer(_error(503, "temporarily_unavailable", "this process issues nothing"))
    return context, context.issuer.data_key


async def _capped(request: Request, cap: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > cap:
            raise _Answer(_error(413, "invalid_request", "the request is too large"))
    return bytes(body)


def _configuration(template: str) -> dict[str, Any]:
    found = TEMPLATES[template]
    return {
        "format": "ldp_vc",
        "scope": template,
        "credential_signing_alg_values_supported": [CRYPTOSUITE],
        "cryptographic_binding_methods_supported": ["did:key"],
        "proof_types_supported": {
            PROOF_KIND: {
                "proof_signing_alg_values_supported": [CRYPTOSUITE],
                "tongban_proof_type": PROOF_TYPE,
            }
        },
        "credential_definition": {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", found.credential_type],
        },
    }


@wallet_router.get("/.well-known/openid-credential-issuer")
def issuer_metadata(request: Request) -> JSONResponse:
    """Credential Issuer Metadata (OpenID4VCI 1.0): the endpoints and one entry per template."""
    origin = _origin(request)
    return JSONResponse(
        {
            "credential_issuer": origin,
            "authorization_servers": [origin],
            "credential_endpoint": f"{origin}/credential",
            "nonce_endpoint": f"{origin}/nonce",
            "credential_configurations_supported": {
                name: _configuration(name) for name in sorted(TEMPLATES)
            },
        },
        headers={"Cache-Control": "max-age=300"},
    )


@wallet_router.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata(request: Request) -> JSONResponse:
    """RFC 8414 metadata: the token endpoint and the pre-authorized code grant only."""
    origin = _origin(request)
    return JSONResponse(
        {
            "issuer": origin,
            "token_endpoint": f"{origin}/token",
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["none"],
            "pre-authorized_grant_anonymous_access_supported": True,
        },
        headers={"Cache-Control": "max-age=300"},
    )


@wallet_router.get("/credential-offers/{handle}")
def offer_by_reference(request: Request, handle: str) -> JSONResponse:
    """The Credential Offer (§4.1.1) by reference: template, code, tx_code shape. Nobody named."""
    try:
        _limited(request)
        context, data_key = _wallet_context(request)
        if not 0 < len(handle) <= 64:
            return _error(404, "invalid_request", "no such open credential offer")
        found = offers.offer_by_handle(context.db, data_key, handle, now_ms=context.clock())
    except _Answer as answered:
        return answered.response
    except offers.OfferRefusedError as refusal:
        return _refused(refusal)
    tx_code: dict[str, Any] = {"input_mode": "numeric", "length": offers.TX_CODE_LENGTH}
    if found.tx_description is not None:
        tx_code["description"] = found.tx_description
    offer = {
        "credential_issuer": _origin(request),
        "credential_configuration_ids": [found.template],
        "grants": {
            PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": found.pre_authorized_code,
                "tx_code": tx_code,
            }
        },
    }
    return JSONResponse(offer, headers=_NO_STORE)


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in fields.items() if len(values) == 1}


@wallet_router.post("/token")
async def token(request: Request) -> JSONResponse:
    """Token Request (§6.1): the pre-authorized code and tx_code, form-encoded, once."""
    try:
        _limited(request)
        context, data_key = _wallet_context(request)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            return _error(400, "invalid_request", "the token request must be form-encoded")
        form = _form(await _capped(request, _FORM_CAP))
    except _Answer as answered:
        return answered.response
    if form.get("grant_type") != PRE_AUTHORIZED_GRANT:
        return _error(400, "unsupported_grant_type", "only the pre-authorized code grant")
    code = form.get("pre-authorized_code")
    if not code or len(code) > 128:
        return _error(400, "invalid_request", "pre-authorized_code is required")
    try:
        access = await run_in_threadpool(
            offers.exchange,
            context.db,
            data_key,
            code,
            form.get("tx_code"),
            now_ms=context.clock(),
        )
    except offers.OfferRefusedError as refusal:
        return _refused(refusal)
    return JSONResponse(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": offers.TOKEN_TTL_MS // 1000,
        },
        headers=_NO_STORE,
    )


@wallet_router.post("/nonce")
def nonce(request: Request) -> JSONResponse:
    """Nonce Endpoint (§7): a fresh ``c_nonce``, single use, never cached."""
    try:
        _limited(request)
        context, _ = _wallet_context(request)
    except _Answer as answered:
        return answered.response
    value = offers.new_nonce(context.db, now_ms=context.clock())
    return JSONResponse({"c_nonce": value}, headers=_NO_STORE)


def _bearer(authorization: str | None) -> str:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip() or len(value) > 128:
        raise offers.OfferRefusedError("invalid_token", "a Bearer access token is required", 401)
    return value.strip()


def _key_proof(body: Mapping[str, Any], issuer: str) -> tuple[str, str]:
    """The holder DID and the ``c_nonce`` of the one ``di_vp`` proof, its signature checked."""
    proofs = body.get("proofs")
    if not isinstance(proofs, dict) or set(proofs) != {PROOF_KIND}:
        raise offers.OfferRefusedError("invalid_proof", f"proofs must hold {PROOF_KIND} only")
    listed = proofs[PROOF_KIND]
    if not isinstance(listed, list) or len(listed) != 1 or not isinstance(listed[0], dict):
        raise offers.OfferRefusedError("invalid_proof", f"{PROOF_KIND} must be one presentation")
    presentation = listed[0]
    proof = presentation.get("proof")
    if not isinstance(proof, dict):
        raise offers.OfferRefusedError("invalid_proof", "the presentation has no proof")
    expected = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE, "proofPurpose": AUTHENTICATION}
    if any(proof.get(name) != value for name, value in expected.items()):
        raise offers.OfferRefusedError("invalid_proof", "the proof is not sm2-jcs-2026")
    if proof.get("domain") != issuer:
        raise offers.OfferRefusedError("invalid_proof", "the proof's domain is not this issuer")
    challenge = proof.get("challenge")
    if not isinstance(challenge, str) or not challenge or len(challenge) > 128:
        raise offers.OfferRefusedError("invalid_nonce", "the proof has no c_nonce challenge")
    kinds = presentation.get("type")
    if not isinstance(kinds, list) or "VerifiablePresentation" not in kinds:
        raise offers.OfferRefusedError("invalid_proof", "the proof is not a presentation")
    try:
        did, public_key = parse_holder_verification_method(proof.get("verificationMethod"))
    except ValueError:
        raise offers.OfferRefusedError("invalid_proof", "the proof's key is no did:key") from None
    if presentation.get("holder", did) != did:
        raise offers.OfferRefusedError("invalid_proof", "the holder is not the proof's key")
    unsecured = {name: value for name, value in presentation.items() if name != "proof"}
    try:
        verify_proof(unsecured, proof, public_key)
    except (ValueError, TypeError, CryptoError):
        raise offers.OfferRefusedError(
            "invalid_proof", "the proof's signature does not verify"
        ) from None
    return did, challenge


def _redeem(
    context: ProvinceContext,
    data_key: bytes,
    access: str,
    body: Mapping[str, Any],
    issuer: str,
    request_id: str,
) -> dict[str, Any]:
    now = context.clock()
    pending = offers.pending_for_token(context.db, data_key, access, now_ms=now)
    if body.get("credential_configuration_id") != pending.template:
        raise offers.OfferRefusedError(
            "unknown_credential_configuration", "not the credential this offer is for"
        )
    holder, challenge = _key_proof(body, issuer)
    if not offers.spend_nonce(context.db, challenge, now_ms=now):
        raise offers.OfferRefusedError("invalid_nonce", "the c_nonce is unknown, used or stale")
    client = context.clients.get(pending.client_id)
    if client is None or not client.active or Role.ISSUER not in client.roles:
        raise offers.OfferRefusedError(
            "invalid_credential_request", "the offering issuer system is no longer active"
        )
    request = IssueRequest(template=pending.template, holder=holder, claims=pending.claims or {})
    try:
        request = with_agency(context.db, client, request, pending.agency, "/agency")
        issued = issue_path(
            context,
            Principal(client),
            Declaration(pending.purpose, pending.legal_basis),
            request_id,
            [request],
            batch=False,
            key=f"oid4vci:{pending.offer_hash[:64]}",
            named=[pending.agency is not None],
        )
    except Problem as problem:
        if problem.code is ProblemCode.IDEMPOTENCY_KEY_REUSED:
            raise offers.OfferRefusedError(
                "invalid_credential_request", "the offer was redeemed for another key"
            ) from None
        if problem.status >= 500:
            raise
        raise offers.OfferRefusedError(
            "invalid_credential_request", "the issuer refused the offer's claims"
        ) from None
    [result] = issued.results
    offers.redeemed(context.db, pending.offer_hash, str(result["digest"]))
    return {"credentials": [{"credential": result["credential"]}]}


async def _credential_preflight(request: Request) -> Response:
    # The credential request is JSON with a Bearer token, so a browser preflights it. A plain
    # Starlette route: no API operation of the route table, no access event.
    answer = Response(status_code=204, headers={"Vary": "Origin"})
    if request.headers.get("access-control-request-method") == "POST":
        answer = _wallet_cors(request, answer)
    if "Access-Control-Allow-Origin" in answer.headers:
        answer.headers["Access-Control-Allow-Methods"] = "POST"
        answer.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        answer.headers["Access-Control-Max-Age"] = "600"
    return answer


wallet_router.add_route("/credential", _credential_preflight, ["OPTIONS"], include_in_schema=False)


@wallet_router.post("/credential")
async def credential(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """Credential Request (§8): bearer token, ``credential_configuration_id``, one ``di_vp``."""
    try:
        _limited(request)
        context, data_key = _wallet_context(request)
        access = _bearer(authorization)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            return _error(400, "invalid_credential_request", "the request must be JSON")
        raw = await _capped(request, _CREDENTIAL_CAP)
    except _Answer as answered:
        return answered.response
    except offers.OfferRefusedError as refusal:
        return _refused(refusal)
    try:
        body = ijson.parse(raw, _CREDENTIAL_LIMITS)
    except InputRejectedError:
        return _error(400, "invalid_credential_request", "the request is not acceptable I-JSON")
    if not isinstance(body, dict):
        return _error(400, "invalid_credential_request", "the request is not a JSON object")
    try:
        answer = await run_in_threadpool(
            _redeem, context, data_key, access, body, _origin(request), request_id_for(request)
        )
    except offers.OfferRefusedError as refusal:
        return _refused(refusal)
    except ApiError:
        return _error(503, "temporarily_unavailable", "the credential could not be issued now")
    return JSONResponse(answer, headers=_NO_STORE)

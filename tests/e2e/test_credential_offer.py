"""The issuer's credential offer over real HTTP (OpenID4VCI 1.0, pre-authorized code flow).

A province built by the service's own assembly on the test chain serves the
routes; the wallet side is ``api.client.oid4vci`` (the CLI wallet's code) or raw
requests for the refusals. Section numbers are OpenID4VCI 1.0's: §4.1 credential
offer, §6 token endpoint (§6.3 errors), §7 nonce endpoint, §8 credential endpoint
(§8.3.1 errors), Appendix F.2 ``di_vp`` proofs; the Credential Issuer Metadata.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest

from api.client.errors import WalletError
from api.client.oid4vci import key_proof, read_offer, redeem
from api.http.app import create_app
from api.http.ratelimit import RateLimiter, RatePolicy
from api.http.routes.oid4vci import WALLET_RATE
from api.province import credential_offers as offers
from api.province.clients import Role
from api.runtime.writer import OFFER_PURGE_SECONDS, province_duties
from credentials.holder import Holder
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, verify_at
from tests.helpers.server import ApiServer, Reply

LICENCE = "business-licence"
CLAIMS = dict(CLAIMS_BY_TEMPLATE[LICENCE])
PERSONAL_VALUES = [v for v in CLAIMS.values() if isinstance(v, str) and len(v) > 3]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


def _origin(province: ServedProvince) -> str:
    return f"http://127.0.0.1:{province.server.port}"


def _offer(province: ServedProvince, key: str | None = None, **body: Any) -> Reply:
    headers = dict(PERSONAL)
    if key is not None:
        headers["Idempotency-Key"] = key
    sent = {"template": LICENCE, "claims": CLAIMS, **body}
    return province.request(
        "POST", "/credential-offers", Role.ISSUER, json_body=sent, headers=headers
    )


def _created(province: ServedProvince) -> tuple[str, str]:
    reply = _offer(province, txCodeDescription="短信发送至预留手机号")
    assert reply.status == 201, reply.text
    answer = reply.json()
    return answer["credentialOfferUri"], answer["txCode"]


def _path(url: str) -> str:
    return urlsplit(url).path


def _token(province: ServedProvince, code: str, tx_code: str) -> Reply:
    form = {"grant_type": GRANT, "pre-authorized_code": code, "tx_code": tx_code}
    return province.request("POST", "/token", body=urlencode(form).encode(), headers=FORM)


def _nonce(province: ServedProvince) -> str:
    reply = province.request("POST", "/nonce")
    assert reply.status == 200, reply.text
    assert reply.header("Cache-Control") == "no-store"
    nonce: str = reply.json()["c_nonce"]
    return nonce


def _credential(
    province: ServedProvince, access: str, proof: dict[str, Any], config: str = LICENCE
) -> Reply:
    body = {"credential_configuration_id": config, "proofs": {"di_vp": [proof]}}
    return province.server.request("POST", "/credential", json_body=body, token=access)


def _access(province: ServedProvince) -> tuple[str, str]:
    """A fresh offer's access token, and the offer's URI."""
    uri, tx_code = _created(province)
    code = province.request("GET", _path(uri)).json()["grants"][GRANT]["pre-authorized_code"]
    reply = _token(province, code, tx_code)
    assert reply.status == 200, reply.text
    return reply.json()["access_token"], uri


def _error(reply: Reply, status: int, error: str) -> None:
    assert reply.status == status, reply.text
    assert reply.json()["error"] == error
    for value in PERSONAL_VALUES:
        assert value not in reply.text


def test_an_offer_is_redeemed_by_a_new_holder_key_and_issued_like_any_credential(
    province: ServedProvince, tmp_path: Path
) -> None:
    uri, tx_code = _created(province)
    offer = read_offer("openid-credential-offer://?credential_offer_uri=" + quote(uri, safe=""))
    assert offer.credential_issuer == _origin(province)
    assert offer.tx_code_length == 6
    assert offer.tx_code_description == "短信发送至预留手机号"
    holder = Holder.generate()
    credential = redeem(offer, tx_code, holder)
    subject = credential["credentialSubject"]
    assert subject["id"] == holder.did
    assert credential["issuer"] == province.did
    province.anchor_all()
    verdict = verify_at(
        province,
        province.request(
            "GET", f"/credentials/{_digest(province)}", Role.ISSUER, headers=PERSONAL
        ).json()["credential"],
    )
    assert verdict["verdict"] == "VALID"
    # Exactly: the offer, the issuance (as the offering client, with its purpose), then
    # this test's own read and verification; the token and nonce routes record nothing.
    logged = [(e.action, e.actor, e.purpose) for e in events(province)]
    assert logged == [
        ("credential.offer", "issuer-app", PERSONAL["X-Purpose"]),
        ("credential.issue", "issuer-app", PERSONAL["X-Purpose"]),
        ("credential.read", "issuer-app", PERSONAL["X-Purpose"]),
        ("credential.verify", "verifier-app", PERSONAL["X-Purpose"]),
    ]
    # The claims are gone from the offer once redeemed; the redemption is not repeatable.
    with province.context.db.read() as tx:
        row = tx.fetchone("SELECT state, sealed, credential_digest FROM credential_offers")
    assert row is not None
    assert (row[0], row[1]) == ("redeemed", None)
    with pytest.raises(WalletError, match="already used"):
        redeem(offer, tx_code, Holder.generate())


def _digest(province: ServedProvince) -> str:
    with province.context.db.read() as tx:
        row = tx.fetchone("SELECT credential_digest FROM credential_offers")
    assert row is not None
    return str(row[0])


def test_s4_1_the_offer_by_reference_and_the_metadata_carry_no_personal_data(
    province: ServedProvince,
) -> None:
    uri, tx_code = _created(province)
    reply = province.request("GET", _path(uri))
    assert reply.status == 200, reply.text
    offer = reply.json()
    assert offer["credential_issuer"] == _origin(province)
    assert offer["credential_configuration_ids"] == [LICENCE]
    grant = offer["grants"][GRANT]
    assert grant["tx_code"] == {
        "input_mode": "numeric",
        "length": 6,
        "description": "短信发送至预留手机号",
    }
    assert set(offer) == {"credential_issuer", "credential_configuration_ids", "grants"}
    metadata = province.request("GET", "/.well-known/openid-credential-issuer").json()
    assert metadata["credential_endpoint"] == f"{_origin(province)}/credential"
    assert metadata["nonce_endpoint"] == f"{_origin(province)}/nonce"
    licence = metadata["credential_configurations_supported"][LICENCE]
    assert licence["format"] == "ldp_vc"
    assert list(licence["proof_types_supported"]) == ["di_vp"]
    server = province.request("GET", "/.well-known/oauth-authorization-server").json()
    assert server["token_endpoint"] == f"{_origin(province)}/token"
    for text in (reply.text, json.dumps(metadata, ensure_ascii=False)):
        for value in PERSONAL_VALUES:
            assert value not in text
        assert tx_code not in text
    # The public routes record nothing; only the issuer system's offer was logged.
    assert [e.action for e in events(province)] == ["credential.offer"]


def test_s6_3_a_wrong_tx_code_is_invalid_grant_and_the_third_voids_the_offer(
    province: ServedProvince,
) -> None:
    uri, tx_code = _created(province)
    code = province.request("GET", _path(uri)).json()["grants"][GRANT]["pre-authorized_code"]
    wrong = f"{(int(tx_code) + 1) % 10**6:06d}"
    for _ in range(offers.MAX_TX_TRIES):
        _error(_token(province, code, wrong), 400, "invalid_grant")
    _error(_token(province, code, tx_code), 400, "invalid_grant")
    _error(_token(province, code, ""), 400, "invalid_request")
    with province.context.db.read() as tx:
        row = tx.fetchone("SELECT state, sealed FROM credential_offers")
    assert row is not None
    assert (row[0], row[1]) == ("burnt", None)


def test_s6_3_the_pre_authorized_code_is_single_use(province: ServedProvince) -> None:
    uri, tx_code = _created(province)
    code = province.request("GET", _path(uri)).json()["grants"][GRANT]["pre-authorized_code"]
    assert _token(province, code, tx_code).status == 200
    _error(_token(province, code, tx_code), 400, "invalid_grant")
    _error(province.request("GET", _path(uri)), 404, "invalid_request")


def test_s6_3_an_expired_offer_is_refused(province: ServedProvince) -> None:
    context = province.context
    assert context.issuer is not None
    wanted = offers.OfferRequest(
        "issuer-app", "credential.issuance", "prc.pipl.art13", LICENCE, None, CLAIMS
    )
    created = offers.create(
        context.db, context.issuer.data_key, wanted, now_ms=context.clock() - offers.OFFER_TTL_MS
    )
    _error(province.request("GET", f"/credential-offers/{created.handle}"), 404, "invalid_request")
    code = offers._code(context.issuer.data_key, _salt(province, created.offer_hash))
    _error(_token(province, code, created.tx_code), 400, "invalid_grant")
    assert offers.purge(context.db, context.clock()) >= 1
    with context.db.read() as tx:
        left = tx.fetchone(
            "SELECT COUNT(*) FROM credential_offers WHERE offer_hash = ?", (created.offer_hash,)
        )
    assert left is not None
    assert left[0] == 0


def _salt(province: ServedProvince, offer_hash: str) -> bytes:
    with province.context.db.read() as tx:
        row = tx.fetchone("SELECT salt FROM credential_offers WHERE offer_hash = ?", (offer_hash,))
    assert row is not None
    return bytes.fromhex(str(row[0]))


def test_s8_3_1_a_reused_c_nonce_is_invalid_nonce(province: ServedProvince) -> None:
    holder = Holder.generate()
    nonce = _nonce(province)
    first, _ = _access(province)
    assert _credential(province, first, key_proof(holder, nonce, _origin(province))).status == 200
    second, _ = _access(province)
    reused = _credential(province, second, key_proof(holder, nonce, _origin(province)))
    _error(reused, 400, "invalid_nonce")


def test_s8_3_1_a_proof_over_another_challenge_or_domain_is_refused(
    province: ServedProvince,
) -> None:
    holder = Holder.generate()
    access, _ = _access(province)
    _error(
        _credential(province, access, key_proof(holder, "never-issued", _origin(province))),
        400,
        "invalid_nonce",
    )
    elsewhere = key_proof(holder, _nonce(province), "https://verifier.example")
    _error(_credential(province, access, elsewhere), 400, "invalid_proof")
    forged = key_proof(holder, _nonce(province), _origin(province))
    forged["holder"] = Holder.generate().did
    _error(_credential(province, access, forged), 400, "invalid_proof")
    tampered = key_proof(holder, _nonce(province), _origin(province))
    tampered["proof"]["challenge"] = _nonce(province)
    _error(_credential(province, access, tampered), 400, "invalid_proof")
    # none of those spent the offer: the right proof still redeems it
    good = _credential(province, access, key_proof(holder, _nonce(province), _origin(province)))
    assert good.status == 200, good.text


def test_s8_3_1_the_access_token_is_refused_after_redemption_and_without_one(
    province: ServedProvince,
) -> None:
    holder = Holder.generate()
    access, _ = _access(province)
    proof = key_proof(holder, _nonce(province), _origin(province))
    assert _credential(province, access, proof).status == 200
    again = _credential(province, access, key_proof(holder, _nonce(province), _origin(province)))
    _error(again, 401, "invalid_token")
    assert "invalid_token" in (again.header("WWW-Authenticate") or "")
    _error(_credential(province, "made-up", proof), 401, "invalid_token")
    body = {"credential_configuration_id": LICENCE, "proofs": {"di_vp": [proof]}}
    _error(province.server.request("POST", "/credential", json_body=body), 401, "invalid_token")
    assert [e.action for e in events(province)].count("credential.issue") == 1


def test_s8_3_1_another_credential_configuration_is_refused(province: ServedProvince) -> None:
    access, _ = _access(province)
    proof = key_proof(Holder.generate(), _nonce(province), _origin(province))
    reply = _credential(province, access, proof, config="degree-certificate")
    _error(reply, 400, "unknown_credential_configuration")


def test_a_retried_offer_with_the_same_idempotency_key_is_the_same_offer(
    province: ServedProvince,
) -> None:
    first = _offer(province, key="offer-1")
    again = _offer(province, key="offer-1")
    assert first.status == again.status == 201
    assert again.json() == first.json()
    assert again.header("Idempotent-Replayed") == "true"
    assert [e.action for e in events(province)] == ["credential.offer"]  # once, not per retry
    other = _offer(province, key="offer-1", claims={**CLAIMS, "registeredCapital": "1元"})
    assert other.status == 409, other.text
    assert other.json()["code"] == "idempotency-key-reused"


def test_an_offer_with_claims_the_template_refuses_is_422_naming_the_field(
    province: ServedProvince,
) -> None:
    reply = _offer(province, claims={**CLAIMS, "notAClaim": "x"})
    assert reply.status == 422, reply.text
    assert "notAClaim" in reply.text or "/claims" in reply.text
    assert not any(e.action == "credential.offer" for e in events(province))


def test_the_claims_are_not_in_clear_in_the_store_file(province: ServedProvince) -> None:
    _created(province)
    access, _ = _access(province)
    files = list(province.parts.settings.data_dir.rglob("*.sqlite*"))
    assert files, "the province's SQLite store"
    stored = b"".join(p.read_bytes() for p in files)
    for value in PERSONAL_VALUES:
        assert value.encode("utf-8") not in stored
    assert access.encode() not in stored


def test_the_writer_deletes_expired_offers_and_their_claims_with_nobody_redeeming(
    province: ServedProvince,
) -> None:
    parts = province.parts
    duties = {d.name: d for d in province_duties(parts, [], province.batches)}
    purge = duties["credential-offers-purge"]
    assert purge.interval == OFFER_PURGE_SECONDS
    assert parts.issuer is not None
    wanted = offers.OfferRequest(
        "issuer-app", "credential.issuance", "prc.pipl.art13", LICENCE, None, CLAIMS
    )
    now = parts.verifier.clock()
    stale = offers.create(parts.db, parts.issuer.data_key, wanted, now_ms=now - offers.OFFER_TTL_MS)
    fresh = offers.create(parts.db, parts.issuer.data_key, wanted, now_ms=now)
    assert purge.run() == 1
    assert purge.run() == 0
    with parts.db.read() as tx:
        left = [str(r[0]) for r in tx.fetchall("SELECT offer_hash FROM credential_offers")]
    assert left == [fresh.offer_hash]
    assert stale.offer_hash not in left


def test_the_public_offer_routes_share_a_rate_limit_per_address_with_retry_after(
    province: ServedProvince,
) -> None:
    now = [1000.0]
    app = create_app(province.context)
    limiter = RateLimiter(RatePolicy(rate=1.0, burst=3), clock=lambda: now[0])
    app.state.oid4vci_rate = limiter  # the test's policy and clock
    server = ApiServer(app)
    server.start()
    try:
        within = [
            server.request("GET", "/credential-offers/no-such-offer"),
            server.request("POST", "/nonce"),
            server.request("POST", "/token", body=b"grant_type=x", headers=FORM),
        ]
        over = [
            server.request("POST", "/credential", json_body={}, token="made-up"),
            server.request("GET", "/credential-offers/no-such-offer"),
        ]
        now[0] += 1.0  # one token back
        again = server.request("POST", "/nonce")
    finally:
        server.stop()
    assert [r.status for r in within] == [404, 200, 400]
    for refused in over:
        assert refused.status == 429
        assert refused.header("Retry-After") == "1"
        assert refused.json()["error"] == "temporarily_unavailable"
    assert again.status == 200
    assert len(limiter) == 1  # one bucket: the loopback address


def test_by_default_the_offer_routes_take_from_one_bucket_per_address_of_wallet_rate(
    province: ServedProvince,
) -> None:
    app = create_app(province.context)
    server = ApiServer(app)
    server.start()
    try:
        assert server.request("POST", "/nonce").status == 200
        assert server.request("GET", "/credential-offers/no-such-offer").status == 404
    finally:
        server.stop()
    limiter = app.state.oid4vci_rate
    assert isinstance(limiter, RateLimiter)
    assert limiter.policy == WALLET_RATE
    assert len(limiter) == 1


def test_a_tx_code_description_with_a_phone_number_is_refused_since_the_offer_is_public(
    province: ServedProvince,
) -> None:
    for hint in ("短信发送至13812345678", "发送至尾号5678的手机", "mail to li.si@example.cn"):
        reply = _offer(province, txCodeDescription=hint)
        assert reply.status == 422, reply.text
        assert reply.json()["errors"] == [
            {
                "field": "/txCodeDescription",
                "rule": "must name no number of 4 or more digits and no e-mail address",
            }
        ]
        assert hint not in reply.text
    assert _offer(province, txCodeDescription="短信发送至预留手机号").status == 201


def test_an_offer_is_redeemed_once_on_a_postgresql_store(
    world: World, tmp_path: Path, postgres_database: str
) -> None:
    with served_province(world, tmp_path, database_url=postgres_database) as province:
        uri, tx_code = _created(province)
        offer = read_offer(uri)
        holder = Holder.generate()
        credential = redeem(offer, tx_code, holder)
        assert credential["credentialSubject"]["id"] == holder.did
        with pytest.raises(WalletError, match="already used"):
            redeem(offer, tx_code, holder)
        with province.context.db.read() as tx:
            row = tx.fetchone("SELECT state, sealed FROM credential_offers")
        assert row is not None
        assert (row[0], row[1]) == ("redeemed", None)


def test_s8_3_1_hostile_credential_requests_are_refused_never_a_server_error(
    province: ServedProvince,
) -> None:
    access, _ = _access(province)
    holder = Holder.generate()
    good = key_proof(holder, _nonce(province), _origin(province))
    bodies: list[bytes] = [
        b"not json",
        b'{"a": 1, "a": 2}',
        b"[" * 40 + b"]" * 40,
        b'{"n": 1e400}',
        json.dumps({"credential_configuration_id": LICENCE, "proofs": []}).encode(),
        json.dumps({"credential_configuration_id": LICENCE, "proofs": {"jwt": ["x"]}}).encode(),
        json.dumps(
            {"credential_configuration_id": LICENCE, "proofs": {"di_vp": [{**good, "type": 5}]}}
        ).encode(),
        json.dumps(
            {
                "credential_configuration_id": LICENCE,
                "proofs": {"di_vp": [{**good, "proof": {**good["proof"], "proofValue": 7}}]},
            }
        ).encode(),
        json.dumps(
            {
                "credential_configuration_id": LICENCE,
                "proofs": {
                    "di_vp": [{**good, "proof": {**good["proof"], "verificationMethod": 1}}]
                },
            }
        ).encode(),
    ]
    json_type = {"Content-Type": "application/json"}
    for body in bodies:
        reply = province.server.request(
            "POST", "/credential", body=body, token=access, headers=json_type
        )
        assert reply.status == 400, (body[:40], reply.text)
        assert reply.json()["error"] in {"invalid_credential_request", "invalid_proof"}
    wrong_type = province.server.request(
        "POST", "/credential", body=b"x=1", token=access, headers=FORM
    )
    _error(wrong_type, 400, "invalid_credential_request")
    for form in (b"", b"grant_type=password", b"grant_type=" + GRANT.encode() + b"&tx_code=1"):
        _error(
            province.request("POST", "/token", body=form, headers=FORM),
            400,
            "invalid_request" if b"tx_code" in form else "unsupported_grant_type",
        )
    _error(province.request("POST", "/token", body=b"{}", headers={}), 400, "invalid_request")
    # After all that the offer still redeems: nothing above spent it.
    assert _credential(province, access, good).status == 200

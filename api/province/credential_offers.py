"""The issuer's credential offers (OpenID4VCI 1.0, pre-authorized code flow; docs/oid4vci.md).

An issuer system offers a credential to a citizen who has no DID yet (``create``):
the template, the agency, the declared purpose and the claims. The claims are
sealed (SM4-GCM) under the province's data key, never kept in clear. A random
salt is the only secret-bearing value stored in clear; the offer's public handle
(the last segment of ``credential_offer_uri``), its pre-authorized code and its
``tx_code`` (6 digits, sent to the citizen out of band) are HMAC-SM3 of that salt
under the data key, so whoever reads the store alone learns none of them, and a
retried creation (same ``Idempotency-Key``) answers the same offer and code.
The store keeps only hashes of the handle, the code and the access token.

The offer goes ``offered`` → ``token_issued`` (``exchange``: the right code and
``tx_code``, once; ``MAX_TX_TRIES`` wrong codes burn the offer and drop its
claims) → ``redeemed`` (``redeemed``: the sealed claims set to NULL in the same
statement that records the credential's digest). Codes expire ``OFFER_TTL_MS``
after creation, access tokens ``TOKEN_TTL_MS`` after they were given; ``purge``
deletes every offer past both, with its claims, and spent or stale ``c_nonce``
values (single use, ``NONCE_TTL_MS``).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.errors import ApiError, ProblemCode
from credentials.jcs import canonicalize
from ledger.crypto import sm4
from ledger.crypto.errors import CryptoError
from ledger.crypto.sm3 import hmac_sm3, sm3_hex
from ledger.store.database import Database, Row
from ledger.store.migrations import Migration, migrate

__all__ = [
    "MAX_TX_TRIES",
    "MIGRATIONS",
    "NONCE_TTL_MS",
    "OFFER_TTL_MS",
    "TOKEN_TTL_MS",
    "TX_CODE_LENGTH",
    "CreatedOffer",
    "OfferRefusedError",
    "OfferRequest",
    "PendingOffer",
    "create",
    "exchange",
    "new_nonce",
    "offer_by_handle",
    "pending_for_token",
    "purge",
    "redeemed",
    "spend_nonce",
]

MIGRATIONS = (
    Migration(
        1,
        "credential_offers",
        (
            """CREATE TABLE credential_offers (
                offer_hash TEXT PRIMARY KEY,
                code_hash TEXT NOT NULL UNIQUE,
                salt TEXT NOT NULL,
                idempotency TEXT UNIQUE,
                body_hash TEXT NOT NULL,
                client_id TEXT NOT NULL,
                purpose TEXT NOT NULL,
                legal_basis TEXT NOT NULL,
                template TEXT NOT NULL,
                agency TEXT,
                tx_description TEXT,
                sealed BLOB,
                state TEXT NOT NULL,
                tx_tries INTEGER NOT NULL,
                token_hash TEXT UNIQUE,
                token_expires_ms INTEGER,
                credential_digest TEXT,
                created_ms INTEGER NOT NULL,
                expires_at_ms INTEGER NOT NULL
            )""",
            "CREATE INDEX credential_offers_expiry ON credential_offers (expires_at_ms)",
            """CREATE TABLE credential_offer_nonces (
                nonce_hash TEXT PRIMARY KEY,
                expires_at_ms INTEGER NOT NULL
            )""",
            "CREATE INDEX credential_offer_nonces_expiry ON credential_offer_nonces "
            "(expires_at_ms)",
        ),
    ),
)

OFFER_TTL_MS = 10 * 60 * 1000
"""A pre-authorized code is good for this long after the offer was made (issue #18: ≤ 10 min)."""

TOKEN_TTL_MS = 5 * 60 * 1000
"""An access token is good for this long after the token request."""

NONCE_TTL_MS = 5 * 60 * 1000
"""A ``c_nonce`` is good for this long, once."""

MAX_TX_TRIES = 3
"""Wrong ``tx_code`` values an offer takes before it is burnt (its claims deleted)."""

TX_CODE_LENGTH = 6
"""Digits of a ``tx_code``."""

_SALT_BYTES = 16
_HANDLE_LABEL = b"tongban/oid4vci/offer\x00"
_CODE_LABEL = b"tongban/oid4vci/pre-authorized-code\x00"
_TX_LABEL = b"tongban/oid4vci/tx-code\x00"
_AAD = b"tongban/oid4vci/claims\x00"
_COLUMNS = (
    "offer_hash, client_id, purpose, legal_basis, template, agency, tx_description, sealed, "
    "state, token_expires_ms, expires_at_ms, salt, credential_digest"
)


class OfferRefusedError(ApiError):
    """An offer step refused; ``error`` is the OAuth / OpenID4VCI error code, ``reason`` why."""

    code = ProblemCode.BAD_REQUEST

    def __init__(self, error: str, reason: str, status: int = 400) -> None:
        """``reason``: a fixed phrase (never the input); ``status``: the HTTP status."""
        super().__init__(f"{error}: {reason}")
        self.error = error
        self.reason = reason
        self.http_status = status


@dataclass(frozen=True)
class OfferRequest:
    """What an issuer system offers: who asks, why, which certificate, the claims."""

    client_id: str
    purpose: str
    legal_basis: str
    template: str
    agency: str | None
    claims: Mapping[str, Any]
    tx_description: str | None = None


@dataclass(frozen=True)
class CreatedOffer:
    """A stored offer as its creator sees it (the handle and ``tx_code`` are shown once)."""

    handle: str
    offer_hash: str
    """The stored key of the offer (a hash of ``handle``): the audit events' resource."""
    tx_code: str
    expires_at_ms: int
    replayed: bool


@dataclass(frozen=True)
class PendingOffer:
    """An offer read back with the data key (``claims`` opened only for redemption)."""

    offer_hash: str
    client_id: str
    purpose: str
    legal_basis: str
    template: str
    agency: str | None
    tx_description: str | None
    state: str
    expires_at_ms: int
    pre_authorized_code: str
    claims: Mapping[str, Any] | None
    credential_digest: str | None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _handle(key: bytes, salt: bytes) -> str:
    return _b64(hmac_sm3(key, _HANDLE_LABEL + salt)[:18])


def _code(key: bytes, salt: bytes) -> str:
    return _b64(hmac_sm3(key, _CODE_LABEL + salt)[:24])


def _tx_code(key: bytes, salt: bytes) -> str:
    # 64 bits reduced mod 10^6: the bias is below 2^-40.
    number = int.from_bytes(hmac_sm3(key, _TX_LABEL + salt)[:8], "big")
    return f"{number % 10**TX_CODE_LENGTH:0{TX_CODE_LENGTH}d}"


def _hash(kind: str, value: str) -> str:
    return sm3_hex(f"tongban/oid4vci/{kind}\x00{value}".encode())


def _body_hash(offer: OfferRequest) -> str:
    document = {
        "template": offer.template,
        "agency": offer.agency,
        "claims": dict(offer.claims),
        "txDescription": offer.tx_description,
    }
    return sm3_hex(canonicalize(document))


def _store(db: Database) -> Database:
    if db not in _MIGRATED:
        migrate(db, "credential_offers", MIGRATIONS)
        _MIGRATED[db] = True
    return db


_MIGRATED: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def create(
    db: Database,
    data_key: bytes,
    offer: OfferRequest,
    *,
    now_ms: int,
    idempotency_key: str | None = None,
    ttl_ms: int = OFFER_TTL_MS,
) -> CreatedOffer:
    """Store ``offer`` (claims sealed) and answer its handle and ``tx_code``.

    With ``idempotency_key``: the same client and key within the offer's life
    answer the same offer (``replayed``); another body is ``idempotency-key-reused``.
    """
    if not 0 < ttl_ms <= OFFER_TTL_MS:
        raise ValueError("an offer lives at most 10 minutes")
    _store(db)
    body_hash = _body_hash(offer)
    scope = (
        None
        if idempotency_key is None
        else _hash("idem", f"{offer.client_id}\x00{idempotency_key}")
    )
    salt = secrets.token_bytes(_SALT_BYTES)
    plain = json.dumps({"claims": dict(offer.claims)}, ensure_ascii=False).encode("utf-8")
    with db.write() as tx:
        if scope is not None:
            row = tx.fetchone(
                "SELECT salt, body_hash, expires_at_ms FROM credential_offers "
                "WHERE idempotency = ?",
                (scope,),
            )
            if row is not None:
                if str(row[1]) != body_hash:
                    raise ApiError(
                        "this client already used the Idempotency-Key for another offer",
                        code=ProblemCode.IDEMPOTENCY_KEY_REUSED,
                    )
                old = bytes.fromhex(str(row[0]))
                handle = _handle(data_key, old)
                return CreatedOffer(
                    handle,
                    _hash("offer", handle),
                    _tx_code(data_key, old),
                    int(row[2]),
                    replayed=True,
                )
        offer_hash = _hash("offer", _handle(data_key, salt))
        tx.execute(
            "INSERT INTO credential_offers (offer_hash, code_hash, salt, idempotency, body_hash, "
            "client_id, purpose, legal_basis, template, agency, tx_description, sealed, state, "
            "tx_tries, created_ms, expires_at_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'offered', 0, ?, ?)",
            (
                offer_hash,
                _hash("code", _code(data_key, salt)),
                salt.hex(),
                scope,
                body_hash,
                offer.client_id,
                offer.purpose,
                offer.legal_basis,
                offer.template,
                offer.agency,
                offer.tx_description,
                sm4.seal(data_key, plain, _AAD + offer_hash.encode("ascii")),
                now_ms,
                now_ms + ttl_ms,
            ),
        )
    return CreatedOffer(
        _handle(data_key, salt),
        offer_hash,
        _tx_code(data_key, salt),
        now_ms + ttl_ms,
        replayed=False,
    )


def _pending(data_key: bytes, row: Row, *, with_claims: bool) -> PendingOffer:
    (offer_hash, client, purpose, basis, template, agency, hint, sealed, state) = row[:9]
    expires_at_ms, salt, digest = int(row[10]), bytes.fromhex(str(row[11])), row[12]
    claims = None
    if with_claims and sealed is not None:
        aad = _AAD + str(offer_hash).encode("ascii")
        try:
            claims = json.loads(sm4.open(data_key, bytes(sealed), aad))["claims"]
        except (CryptoError, ValueError, KeyError):
            raise OfferRefusedError("server_error", "the offer's claims do not open", 500) from None
    return PendingOffer(
        offer_hash=str(offer_hash),
        client_id=str(client),
        purpose=str(purpose),
        legal_basis=str(basis),
        template=str(template),
        agency=None if agency is None else str(agency),
        tx_description=None if hint is None else str(hint),
        state=str(state),
        expires_at_ms=expires_at_ms,
        pre_authorized_code=_code(data_key, salt),
        claims=claims,
        credential_digest=None if digest is None else str(digest),
    )


def offer_by_handle(db: Database, data_key: bytes, handle: str, *, now_ms: int) -> PendingOffer:
    """The open offer ``handle`` names (no claims); ``OfferRefusedError`` if none is open."""
    _store(db)
    with db.read() as tx:
        row = tx.fetchone(
            f"SELECT {_COLUMNS} FROM credential_offers WHERE offer_hash = ?",  # noqa: S608
            (_hash("offer", handle),),
        )
    if row is None:
        raise OfferRefusedError("invalid_request", "no such open credential offer", 404)
    if str(row[8]) != "offered":
        raise OfferRefusedError("invalid_request", "the credential offer was already used", 404)
    if int(row[10]) <= now_ms:
        raise OfferRefusedError("invalid_request", "the credential offer has expired", 404)
    return _pending(data_key, row, with_claims=False)


def exchange(db: Database, data_key: bytes, code: str, tx_code: str | None, *, now_ms: int) -> str:
    """Trade a pre-authorized code and its ``tx_code`` for an access token, once.

    ``invalid_grant`` for an unknown, expired, used or burnt code and for a wrong
    ``tx_code`` (the ``MAX_TX_TRIES``-th burns the offer and deletes its claims);
    ``invalid_request`` when the ``tx_code`` is missing.
    """
    _store(db)
    if not tx_code:
        raise OfferRefusedError("invalid_request", "tx_code is required")
    token = secrets.token_urlsafe(32)
    refusal: OfferRefusedError | None = None
    with db.write() as tx:
        row = tx.fetchone(
            "SELECT offer_hash, salt, state, expires_at_ms FROM credential_offers "
            "WHERE code_hash = ?",
            (_hash("code", code),),
        )
        if row is None:
            raise OfferRefusedError("invalid_grant", "unknown pre-authorized code")
        offer_hash, salt, state = str(row[0]), str(row[1]), str(row[2])
        if state != "offered":
            raise OfferRefusedError("invalid_grant", "the pre-authorized code was already used")
        if int(row[3]) <= now_ms:
            raise OfferRefusedError("invalid_grant", "the pre-authorized code has expired")
        expected = _tx_code(data_key, bytes.fromhex(salt))
        if hmac.compare_digest(expected.encode(), tx_code.encode()):
            # Guarded by the state: of two requests racing with one code, one gets a token.
            changed = tx.execute(
                "UPDATE credential_offers SET state = 'token_issued', token_hash = ?, "
                "token_expires_ms = ? WHERE offer_hash = ? AND state = 'offered'",
                (_hash("token", token), now_ms + TOKEN_TTL_MS, offer_hash),
            )
            if changed != 1:
                refusal = OfferRefusedError(
                    "invalid_grant", "the pre-authorized code was already used"
                )
        else:
            # Counted in the row (not from the value read), so racing wrong tries all count.
            tx.execute(
                "UPDATE credential_offers SET tx_tries = tx_tries + 1 "
                "WHERE offer_hash = ? AND state = 'offered'",
                (offer_hash,),
            )
            counted = tx.fetchone(
                "SELECT tx_tries FROM credential_offers WHERE offer_hash = ?", (offer_hash,)
            )
            refusal = OfferRefusedError("invalid_grant", "wrong tx_code")
            if counted is not None and int(counted[0]) >= MAX_TX_TRIES:
                # Committed, then refused: the offer is void and its claims are gone.
                tx.execute(
                    "UPDATE credential_offers SET state = 'burnt', sealed = NULL "
                    "WHERE offer_hash = ?",
                    (offer_hash,),
                )
                refusal = OfferRefusedError("invalid_grant", "wrong tx_code; the offer is now void")
    if refusal is not None:
        raise refusal
    return token


def pending_for_token(db: Database, data_key: bytes, token: str, *, now_ms: int) -> PendingOffer:
    """The offer an access token was given for, claims opened; ``invalid_token`` otherwise."""
    _store(db)
    with db.read() as tx:
        row = tx.fetchone(
            f"SELECT {_COLUMNS} FROM credential_offers WHERE token_hash = ?",  # noqa: S608
            (_hash("token", token),),
        )
    if row is None or str(row[8]) != "token_issued" or row[7] is None:
        raise OfferRefusedError("invalid_token", "unknown or used access token", 401)
    if int(row[9]) <= now_ms:
        raise OfferRefusedError("invalid_token", "the access token has expired", 401)
    return _pending(data_key, row, with_claims=True)


def redeemed(db: Database, offer_hash: str, digest: str) -> bool:
    """Mark the offer redeemed by credential ``digest`` and delete its claims; False if gone."""
    with db.write() as tx:
        changed = tx.execute(
            "UPDATE credential_offers SET state = 'redeemed', sealed = NULL, "
            "credential_digest = ? WHERE offer_hash = ? AND state = 'token_issued'",
            (digest, offer_hash),
        )
    return changed == 1


def new_nonce(db: Database, *, now_ms: int) -> str:
    """A fresh ``c_nonce`` (stored as a hash until spent or ``NONCE_TTL_MS`` passes)."""
    _store(db)
    nonce = secrets.token_urlsafe(24)
    with db.write() as tx:
        tx.execute(
            "INSERT INTO credential_offer_nonces (nonce_hash, expires_at_ms) VALUES (?, ?)",
            (_hash("nonce", nonce), now_ms + NONCE_TTL_MS),
        )
    return nonce


def spend_nonce(db: Database, nonce: str, *, now_ms: int) -> bool:
    """Use ``nonce`` up; False if it is unknown, spent or stale (of two spenders, one wins)."""
    _store(db)
    with db.write() as tx:
        changed = tx.execute(
            "DELETE FROM credential_offer_nonces WHERE nonce_hash = ? AND expires_at_ms > ?",
            (_hash("nonce", nonce), now_ms),
        )
    return changed == 1


def purge(db: Database, now_ms: int) -> int:
    """Delete offers past their code's and their token's expiry (claims too), and stale nonces.

    How many rows went; idempotent (run twice or on two hosts, it deletes nothing more).
    """
    _store(db)
    with db.write() as tx:
        offers = tx.execute(
            "DELETE FROM credential_offers WHERE expires_at_ms <= ? "
            "AND (token_expires_ms IS NULL OR token_expires_ms <= ?)",
            (now_ms, now_ms),
        )
        nonces = tx.execute(
            "DELETE FROM credential_offer_nonces WHERE expires_at_ms <= ?", (now_ms,)
        )
    return offers + nonces

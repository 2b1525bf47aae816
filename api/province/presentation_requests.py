"""Asking a citizen to present (OpenID4VP ``direct_post``, docs/oid4vp.md): the verifier side.

A signed-in clerk asks (``ask``): the request is bound to a fresh challenge from the
verifier's challenge store (its ``nonce``), the clerk's sign-in session (a keyed
digest of its id, never the id), the declared purpose and legal basis, the claims
wanted and an expiry (the challenge's). The request object (``request_object``) is
public and names no person. The citizen's wallet answers once (``answer``): the
request is claimed first (``UPDATE ... WHERE answered_at_ms IS NULL AND expires_at_ms
> now``, so of two answers one wins on either engine), then the presentation is
verified by the province's verifier and its access event recorded with its challenge
in one commit (``record_presentation``), the actor the clerk who asked. The clerk's
session alone reads the result (``result_for``).

The outcome kept for the clerk (verdict, the numbered checks' reason codes, the
disclosed claims, the issuer) is personal data in the store: a request and its
outcome are purged ``RESULT_RETENTION_MS`` after the request expired
(``purge_expired``), by the writer's periodic duty ``presentation-requests-purge``
(``api.runtime.writer``) whether or not any clerk asks again, and also whenever a
clerk asks. The purge is one ``DELETE`` by expiry: running it twice, or on two
hosts at once, deletes nothing more.
"""

from __future__ import annotations

import hmac
import json
import secrets
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.errors import ApiError, ProblemCode
from api.province.access import Declaration, record_presentation
from credentials import ijson
from credentials.disclosure import reveal
from credentials.errors import InputRejectedError
from credentials.verify import PRESENTATION_VERIFY, VerificationRequest
from credentials.verify.vcapi import Malformed, VcApiVerification, check_request, verify
from credentials.verify.verifier import Verifier
from ledger.audit.events import Caller
from ledger.audit.log import AuditLog
from ledger.crypto.sm3 import sm3_hex
from ledger.store.database import Database, Row
from ledger.store.migrations import Migration, migrate

__all__ = [
    "MAX_CLAIMS",
    "MIGRATIONS",
    "RESULT_RETENTION_MS",
    "UNDECIDED",
    "AskedRequest",
    "Outcome",
    "PresentationRequests",
    "RequestRefusedError",
    "answer",
    "ask",
    "request_object",
    "requests_of",
    "result_for",
    "session_digest",
]

MIGRATIONS = (
    Migration(
        1,
        "presentation_requests",
        (
            """CREATE TABLE presentation_requests (
                request_id TEXT PRIMARY KEY,
                session_digest TEXT NOT NULL,
                actor TEXT NOT NULL,
                organisation TEXT NOT NULL,
                purpose TEXT NOT NULL,
                legal_basis TEXT NOT NULL,
                claims TEXT NOT NULL,
                nonce TEXT NOT NULL,
                domain TEXT NOT NULL,
                state TEXT NOT NULL,
                expires_at_ms INTEGER NOT NULL,
                answered_at_ms INTEGER,
                result TEXT
            )""",
            "CREATE INDEX presentation_requests_expiry ON presentation_requests (expires_at_ms)",
        ),
    ),
)

MAX_CLAIMS = 32
"""At most this many claims in one request."""

RESULT_RETENTION_MS = 60 * 60 * 1000
"""How long after its expiry a request and its outcome (personal data) are kept."""

_ID_BYTES = 18  # 144 bits, base64url: 24 characters
_COLUMNS = (
    "request_id, session_digest, actor, organisation, purpose, legal_basis, claims, nonce, "
    "domain, state, expires_at_ms, answered_at_ms, result"
)
_TOKEN_LIMITS = ijson.Limits(1024 * 1024, 32, 1000)
_CLAIM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class RequestRefusedError(ApiError):
    """A request cannot be answered or read; ``reason`` says why (a fixed word, no input)."""

    code = ProblemCode.BAD_REQUEST

    def __init__(self, reason: str, code: ProblemCode = ProblemCode.BAD_REQUEST) -> None:
        """``reason``: ``unknown``, ``expired``, ``already_answered``, ``state_mismatch``..."""
        super().__init__(f"the presentation request is refused: {reason}", code=code)
        self.reason = reason


@dataclass(frozen=True)
class AskedRequest:
    """One stored presentation request (``result``: the outcome once answered)."""

    request_id: str
    session_digest: str
    caller: Caller
    declaration: Declaration
    claims: tuple[str, ...]
    nonce: str
    domain: str
    state: str
    expires_at_ms: int
    answered_at_ms: int | None
    result: Mapping[str, Any] | None

    @classmethod
    def from_row(cls, row: Row) -> AskedRequest:
        """The request of a stored row (``_COLUMNS`` order)."""
        (rid, digest, actor, org, purpose, basis, claims, nonce, domain, state, exp, at, res) = row
        return cls(
            request_id=str(rid),
            session_digest=str(digest),
            caller=Caller(str(actor), str(org)),
            declaration=Declaration(str(purpose), str(basis)),
            claims=tuple(json.loads(str(claims))),
            nonce=str(nonce),
            domain=str(domain),
            state=str(state),
            expires_at_ms=int(exp),
            answered_at_ms=None if at is None else int(at),
            result=None if res is None else json.loads(str(res)),
        )


@dataclass(frozen=True)
class Outcome:
    """What the clerk sees of an answer: verdict, checks, disclosed claims, issuer."""

    verdict: str
    checks: tuple[tuple[int, str, str, str], ...]
    """``(number, name, status, reason code)`` per numbered check."""
    claims: tuple[tuple[str, Any], ...]
    issuer: str | None

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "verdict": self.verdict,
            "checks": [list(c) for c in self.checks],
            "claims": [list(c) for c in self.claims],
            "issuer": self.issuer,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Outcome:
        """The outcome of its stored form."""
        return cls(
            verdict=str(value["verdict"]),
            checks=tuple((int(n), str(a), str(s), str(c)) for n, a, s, c in value["checks"]),
            claims=tuple((str(k), v) for k, v in value["claims"]),
            issuer=value["issuer"],
        )


UNDECIDED = Outcome(verdict="UNDECIDED", checks=(), claims=(), issuer=None)
"""The outcome kept when a used-up request's answer could not be decided or recorded."""


def session_digest(session_id: str) -> str:
    """The stored form of a sign-in session id (the id itself is never stored)."""
    return sm3_hex(b"tongban/oid4vp/session\x00" + session_id.encode("utf-8"))


class PresentationRequests:
    """The ``presentation_requests`` table on either engine."""

    def __init__(self, db: Database) -> None:
        """Use ``db``, creating the table if needed."""
        self.db = db
        migrate(db, "presentation_requests", MIGRATIONS)

    def add(self, asked: AskedRequest) -> None:
        """Store a new request."""
        with self.db.write() as tx:
            tx.execute(
                f"INSERT INTO presentation_requests ({_COLUMNS}) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                (
                    asked.request_id,
                    asked.session_digest,
                    asked.caller.actor,
                    asked.caller.org,
                    asked.declaration.purpose,
                    asked.declaration.legal_basis,
                    json.dumps(list(asked.claims)),
                    asked.nonce,
                    asked.domain,
                    asked.state,
                    asked.expires_at_ms,
                ),
            )

    def get(self, request_id: str) -> AskedRequest | None:
        """The stored request, or None."""
        with self.db.read() as tx:
            row = tx.fetchone(
                f"SELECT {_COLUMNS} FROM presentation_requests WHERE request_id = ?",  # noqa: S608
                (request_id,),
            )
        return None if row is None else AskedRequest.from_row(row)

    def open_request(self, request_id: str, state: str) -> AskedRequest:
        """The request ``request_id`` if ``state`` is its own; else ``RequestRefusedError``."""
        found = self.get(request_id)
        if found is None:
            raise RequestRefusedError("unknown", ProblemCode.NOT_FOUND)
        if not hmac.compare_digest(found.state.encode(), state.encode()):
            raise RequestRefusedError("state_mismatch")
        return found

    def claim(self, found: AskedRequest, now_ms: int) -> None:
        """Mark the request answered now, once; or raise ``RequestRefusedError`` saying why."""
        with self.db.write() as tx:
            changed = tx.execute(
                "UPDATE presentation_requests SET answered_at_ms = ? WHERE request_id = ? "
                "AND answered_at_ms IS NULL AND expires_at_ms > ?",
                (now_ms, found.request_id, now_ms),
            )
        if changed == 1:
            return
        if found.answered_at_ms is None and found.expires_at_ms <= now_ms:
            raise RequestRefusedError("expired")
        raise RequestRefusedError("already_answered", ProblemCode.CONFLICT)

    def keep_result(self, request_id: str, outcome: Outcome) -> None:
        """Store the outcome of the answer."""
        with self.db.write() as tx:
            tx.execute(
                "UPDATE presentation_requests SET result = ? WHERE request_id = ?",
                (json.dumps(outcome.to_json(), ensure_ascii=False), request_id),
            )

    def purge(self, before_ms: int) -> int:
        """Delete requests (and their outcomes) that expired before ``before_ms``."""
        with self.db.write() as tx:
            return tx.execute(
                "DELETE FROM presentation_requests WHERE expires_at_ms < ?", (before_ms,)
            )


_STORES: weakref.WeakKeyDictionary[Any, PresentationRequests] = weakref.WeakKeyDictionary()


def requests_of(db: Database) -> PresentationRequests:
    """The table on ``db``, migrated once per open database."""
    found = _STORES.get(db)
    if found is None:
        found = _STORES[db] = PresentationRequests(db)
    return found


def purge_expired(db: Database, now_ms: int) -> int:
    """Delete the requests (and outcomes) kept past ``RESULT_RETENTION_MS`` after expiry.

    How many rows went; idempotent (a second run at the same time deletes none).
    """
    return requests_of(db).purge(now_ms - RESULT_RETENTION_MS)


def _check_claims(claims: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(claims))
    if not chosen or len(chosen) > MAX_CLAIMS:
        raise RequestRefusedError("claims", ProblemCode.VALIDATION_FAILED)
    for name in chosen:
        if not name or len(name) > 64 or not set(name) <= _CLAIM_CHARS:
            raise RequestRefusedError("claims", ProblemCode.VALIDATION_FAILED)
    return chosen


def ask(
    db: Database,
    verifier: Verifier,
    session_id: str,
    caller: Caller,
    declaration: Declaration,
    claims: Sequence[str],
) -> AskedRequest:
    """A new request from the clerk of ``session_id`` (``caller``), stored, single use."""
    chosen = _check_claims(claims)
    store = requests_of(db)
    purge_expired(db, verifier.clock())
    challenge = verifier.issue_challenge()
    asked = AskedRequest(
        request_id=secrets.token_urlsafe(_ID_BYTES),
        session_digest=session_digest(session_id),
        caller=caller,
        declaration=declaration,
        claims=chosen,
        nonce=challenge.value,
        domain=challenge.audience,
        state=secrets.token_urlsafe(_ID_BYTES),
        expires_at_ms=challenge.expires_at_ms,
        answered_at_ms=None,
        result=None,
    )
    store.add(asked)
    return asked


def request_object(asked: AskedRequest, origin: str) -> dict[str, Any]:
    """The OpenID4VP Authorization Request of ``asked``, served from ``origin``.

    Unsigned, ``client_id`` prefix ``redirect_uri:`` (the response URI); the DCQL
    query names the claims; ``client_metadata`` carries the verifier's DID, the
    presentation proof's ``domain`` (docs/oid4vp.md, deviations). Nothing personal.
    """
    response_uri = f"{origin}/oid4vp/responses/{asked.request_id}"
    return {
        "client_id": f"redirect_uri:{response_uri}",
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": response_uri,
        "nonce": asked.nonce,
        "state": asked.state,
        "dcql_query": {
            "credentials": [
                {
                    "id": "credential",
                    "format": "ldp_vc",
                    "meta": {"type_values": [["VerifiableCredential"]]},
                    "claims": [{"path": ["credentialSubject", name]} for name in asked.claims],
                }
            ]
        },
        "client_metadata": {
            "tongban_domain": asked.domain,
            "tongban_purpose": asked.declaration.purpose,
            "tongban_legal_basis": asked.declaration.legal_basis,
            "vp_formats_supported": {"ldp_vc": {"proof_type_values": ["DataIntegrityProof"]}},
        },
        "exp": asked.expires_at_ms // 1000,
    }


def _presentation(vp_token: str, limits: ijson.Limits) -> Mapping[str, Any]:
    """The one presentation of a ``vp_token``: a DCQL object ``{"credential": [VP]}`` or a VP."""
    try:
        token = ijson.parse(vp_token, limits)
    except InputRejectedError:
        raise RequestRefusedError("vp_token_not_json") from None
    if isinstance(token, dict) and set(token) == {"credential"}:
        inner = token["credential"]
        token = inner[0] if isinstance(inner, list) and len(inner) == 1 else None
    if not isinstance(token, dict):
        raise RequestRefusedError("vp_token_shape")
    return token


def _claims_of(presentation: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    inner = presentation.get("verifiableCredential")
    credential = inner[0] if isinstance(inner, list) and inner else inner
    if not isinstance(credential, dict):
        return ()
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        return ()
    disclosures = credential.get("disclosures")
    shown = reveal(subject, disclosures) if isinstance(disclosures, list) else dict(subject)
    shown.pop("_sd", None)
    return tuple((name, value) for name, value in shown.items() if name != "id")


def _issuer_of(presentation: Mapping[str, Any]) -> str | None:
    inner = presentation.get("verifiableCredential")
    credential = inner[0] if isinstance(inner, list) and inner else inner
    issuer = credential.get("issuer") if isinstance(credential, dict) else None
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def answer(
    db: Database,
    audit_log: AuditLog,
    verifier: Verifier,
    request_id: str,
    vp_token: str,
    state: str,
    log_request_id: str,
    *,
    now_ms: int,
    limits: ijson.Limits = _TOKEN_LIMITS,
) -> Outcome:
    """Verify the wallet's ``direct_post`` answer to ``request_id``, once, as its clerk.

    Raises ``RequestRefusedError`` (unknown, wrong state, a token that is no
    presentation or over another nonce, expired, already answered) and
    ``AccessNotRecordedError``. What can be refused without the verifier (state,
    token shape, nonce, a malformed presentation) is refused before the request is
    used up; a refused answer records no access event.
    """
    store = requests_of(db)
    asked = store.open_request(request_id, state)
    presentation = _presentation(vp_token, limits)
    proof = presentation.get("proof")
    if not isinstance(proof, dict) or proof.get("challenge") != asked.nonce:
        raise RequestRefusedError("nonce_mismatch")
    if isinstance(check_request("presentation", dict(presentation), None), Malformed):
        raise RequestRefusedError("vp_token_malformed")
    store.claim(asked, now_ms)
    declared = asked.declaration
    request = VerificationRequest(
        asked.caller, declared.purpose, declared.legal_basis, log_request_id
    )

    def evaluate() -> tuple[VcApiVerification, Any]:
        checked = verify(
            verifier, "presentation", dict(presentation), None, purpose=declared.purpose
        )
        if isinstance(checked, Malformed):
            raise RequestRefusedError("vp_token_malformed")
        return checked, verifier.access_event(checked.result, request, PRESENTATION_VERIFY)

    try:
        checked = record_presentation(audit_log, asked.caller, evaluate)
    except Exception:
        # Used up but undecided: the clerk's page says so (and they ask again).
        store.keep_result(request_id, UNDECIDED)
        raise
    result = checked.result
    outcome = Outcome(
        verdict=result.verdict.value,
        checks=tuple((c.number, c.name, c.status.value, c.reason_code) for c in result.checks),
        claims=_claims_of(presentation),
        issuer=_issuer_of(presentation),
    )
    store.keep_result(request_id, outcome)
    return outcome


def result_for(db: Database, request_id: str, session_id: str) -> AskedRequest:
    """The request as its own clerk's session sees it (another session: ``unknown``, 404)."""
    found = requests_of(db).get(request_id)
    if found is None or not hmac.compare_digest(
        found.session_digest.encode(), session_digest(session_id).encode()
    ):
        raise RequestRefusedError("unknown", ProblemCode.NOT_FOUND)
    return found

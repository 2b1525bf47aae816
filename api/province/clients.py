"""API clients: who may call the province's HTTP API, with which roles, kept in the store.

A client has an id (it becomes the ``actor`` of the audit events its requests
cause, so it fits the actor pattern ``[a-z0-9][a-z0-9_.:-]{0,127}`` and holds
no run of nine or more digits), a name (for people; never logged or put in
events), an organisation (the province or organisation code, the events'
``actorOrg``), roles, and its creation and revocation times.

Tokens are ``tb_`` followed by 32 random bytes in unpadded base64url. A token
is shown once, when the client is created; the store keeps only its SM3 hash,
and a request's token is looked up by hash. Revocation is immediate for every
worker because nothing is cached. Records are never deleted.

An issuing client names the issuing agencies (颁发机构) it may issue for
(``agencies``: their 统一社会信用代码, registered in
``credentials.zhengzhao.agencies``). A client created without naming any may
issue for none; ``None`` means every agency of the province, which is what the
clients registered before agencies existed were given by the migration that
added them, so they keep working until an operator narrows them
(docs/agencies.md).

A client may also be bound to a TLS client certificate by the SHA-256 of its
SubjectPublicKeyInfo (``bind_certificate``): a request over TLS presenting a
certificate with that public key authenticates as the client, whoever signed
it and whatever its subject says (docs/tls.md). One key, one client.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from api.errors import ApiError, FieldRule, ProblemCode
from credentials.zhengzhao.agencies import (
    AgencyInputError,
    ensure_schema,
    get_agency,
    validate_code,
)
from ledger.audit.errors import EventRejectedError
from ledger.audit.events import Caller
from ledger.clock import now_ms
from ledger.crypto.sm3 import sm3
from ledger.store.database import Database, Row, Transaction
from ledger.store.migrations import Migration, migrate

__all__ = [
    "ALL_AGENCIES",
    "TOKEN_PREFIX",
    "AgencyScope",
    "ApiClient",
    "ClientConflictError",
    "ClientError",
    "ClientRegistry",
    "InvalidClientError",
    "IssuedClient",
    "Role",
    "UnknownClientError",
    "hash_token",
    "new_token",
]

MIGRATIONS = (
    Migration(
        1,
        "api clients",
        (
            """CREATE TABLE api_clients (
                client_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                organisation TEXT NOT NULL,
                roles TEXT NOT NULL,
                token_hash BLOB NOT NULL UNIQUE,
                created_at_ms INTEGER NOT NULL,
                revoked_at_ms INTEGER
            )""",
        ),
    ),
    Migration(
        2,
        "client certificates",
        (
            # SHA-256 of a TLS client certificate's SubjectPublicKeyInfo (docs/tls.md).
            "ALTER TABLE api_clients ADD COLUMN cert_spki BLOB",
            "CREATE UNIQUE INDEX api_clients_cert_spki ON api_clients (cert_spki)",
        ),
    ),
    Migration(
        3,
        "issuing agencies of a client",
        (
            # Comma-separated agency codes; NULL is every agency of the province, which
            # is what the clients that exist when this runs keep (docs/agencies.md).
            "ALTER TABLE api_clients ADD COLUMN agencies TEXT",
        ),
    ),
)

AgencyScope = frozenset[str] | None
"""The agencies a client may issue for: their codes, or None for every agency of the province."""

ALL_AGENCIES: AgencyScope = None
"""The scope of a client that may issue for every agency of the province."""

_AGENCIES_MAX = 1000

TOKEN_PREFIX = "tb_"  # noqa: S105 - a prefix, not a secret
"""Every token starts with this, so secret scanners can find leaked ones."""

_TOKEN_BYTES = 32
_TOKEN = re.compile(r"tb_[A-Za-z0-9_-]{43}", re.ASCII)
_NAME_MAX = 100
SPKI_FINGERPRINT_BYTES = 32
"""Length of a certificate binding: a SHA-256 digest."""
_ID_ALPHABET = string.ascii_lowercase
_COLUMNS = "client_id, name, organisation, roles, created_at_ms, revoked_at_ms, agencies"


class Role(StrEnum):
    """What a client may do. A client may hold several roles."""

    OPERATOR = "operator"
    ISSUER = "issuer"
    VERIFIER = "verifier"
    AUDITOR = "auditor"
    GOVERNOR = "governor"
    HOLDER = "holder"


class ClientError(ApiError):
    """Base of the client registry's errors; messages never carry tokens."""


class InvalidClientError(ClientError):
    """A client attribute breaks a rule; names the attribute and the rule, never the value."""

    code = ProblemCode.VALIDATION_FAILED

    def __init__(self, field: str, rule: str) -> None:
        """``field`` is the attribute's name in the API (``clientId``), ``rule`` the rule."""
        super().__init__(f"client {field} {rule}", fields=[FieldRule(field, rule)])
        self.detail = f"the client's {field} breaks a rule"
        self.field = field
        self.rule = rule


class UnknownClientError(ClientError):
    """No client has that id."""

    code = ProblemCode.NOT_FOUND


class ClientConflictError(ClientError):
    """The change conflicts with the registry (id taken, or the last operator)."""

    code = ProblemCode.CONFLICT


@dataclass(frozen=True)
class ApiClient:
    """A registered client (never holds its token)."""

    client_id: str
    name: str
    organisation: str
    roles: frozenset[Role]
    created_at_ms: int
    revoked_at_ms: int | None = None
    agencies: AgencyScope = ALL_AGENCIES
    """The codes of the agencies the client may issue for; None: every one of the province."""

    @property
    def active(self) -> bool:
        """Whether the client is not revoked."""
        return self.revoked_at_ms is None

    def may_issue_for(self, agency_code: str) -> bool:
        """Whether the client may issue for the agency ``agency_code`` (if it may issue at all)."""
        return self.agencies is None or agency_code in self.agencies

    @property
    def caller(self) -> Caller:
        """The audit-log identity of this client: actor = client id, actorOrg = organisation."""
        return Caller(self.client_id, self.organisation)

    def has_any(self, roles: Iterable[Role]) -> bool:
        """Whether the client holds at least one of ``roles``."""
        return any(role in self.roles for role in roles)


@dataclass(frozen=True)
class IssuedClient:
    """A newly created client and its token: the only time the token exists in the clear."""

    client: ApiClient
    token: str

    def __repr__(self) -> str:
        """Never show the token."""
        return f"IssuedClient({self.client.client_id!r}, token=<hidden>)"


def new_token() -> str:
    """A fresh token: ``tb_`` + 32 bytes from the OS CSPRNG, unpadded base64url."""
    raw = base64.urlsafe_b64encode(secrets.token_bytes(_TOKEN_BYTES)).rstrip(b"=")
    return TOKEN_PREFIX + raw.decode("ascii")


def hash_token(token: str) -> bytes:
    """SM3 of the token's bytes: what the store keeps and looks up."""
    return sm3(token.encode("ascii"))


def is_token_shaped(token: str) -> bool:
    """Whether ``token`` has the shape of a Tongban token (checked before any lookup)."""
    return bool(_TOKEN.fullmatch(token))


def _new_client_id() -> str:
    # Letters only: an id with a run of nine digits would not be a valid event actor.
    return "cl-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def _check_identity(client_id: str, organisation: str) -> None:
    try:
        Caller(client_id, "x")
    except EventRejectedError as exc:
        raise InvalidClientError("clientId", exc.rule) from None
    try:
        Caller("x", organisation)
    except EventRejectedError as exc:
        raise InvalidClientError("organisation", exc.rule) from None


def _check_name(name: str) -> None:
    if not 0 < len(name) <= _NAME_MAX or not name.isprintable() or name.strip() != name:
        raise InvalidClientError(
            "name", f"must be 1 to {_NAME_MAX} printable characters without outer spaces"
        )


def _stored_agencies(agencies: AgencyScope) -> str | None:
    return None if agencies is None else ",".join(sorted(agencies))


def _from_row(row: Row) -> ApiClient:
    roles = frozenset(Role(r) for r in str(row[3]).split(",") if r)
    revoked = None if row[5] is None else int(row[5])
    agencies = None if row[6] is None else frozenset(c for c in str(row[6]).split(",") if c)
    return ApiClient(str(row[0]), str(row[1]), str(row[2]), roles, int(row[4]), revoked, agencies)


class ClientRegistry:
    """Create, list, revoke and authenticate API clients in the store."""

    def __init__(self, db: Database, *, clock: Callable[[], int] = now_ms) -> None:
        """Use ``db`` (migrating the ``api_clients`` component); ``clock`` gives ms."""
        self.db = db
        self.clock = clock
        migrate(db, "api_clients", MIGRATIONS)
        ensure_schema(db)  # the agencies clients name, migrated before any request

    def create(
        self,
        name: str,
        organisation: str,
        roles: Iterable[Role],
        *,
        client_id: str | None = None,
        agencies: Iterable[str] | None = (),
    ) -> IssuedClient:
        """Register a client and return it with its token (shown this once).

        ``agencies``: the codes of the registered agencies it may issue for (none
        by default); ``ALL_AGENCIES`` (None) for every agency of the province.
        """
        chosen = client_id if client_id is not None else _new_client_id()
        role_set = frozenset(Role(r) for r in roles)
        if not role_set:
            raise InvalidClientError("roles", "must name at least one role")
        _check_identity(chosen, organisation)
        _check_name(name)
        scope = self._check_agencies(agencies)
        token = new_token()
        now = self.clock()
        with self.db.write() as tx:
            if tx.fetchone("SELECT 1 FROM api_clients WHERE client_id = ?", (chosen,)):
                raise ClientConflictError("a client with that id exists")
            tx.execute(
                "INSERT INTO api_clients (client_id, name, organisation, roles, token_hash, "
                "created_at_ms, agencies) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    chosen,
                    name,
                    organisation,
                    ",".join(sorted(r.value for r in role_set)),
                    hash_token(token),
                    now,
                    _stored_agencies(scope),
                ),
            )
        client = ApiClient(chosen, name, organisation, role_set, now, agencies=scope)
        return IssuedClient(client, token)

    def set_agencies(self, client_id: str, agencies: Iterable[str] | None) -> ApiClient:
        """Replace the agencies ``client_id`` may issue for (None: every agency of the province).

        Takes effect at once for every worker, as nothing is cached. Every code
        must be a registered, active agency.
        """
        scope = self._check_agencies(agencies)
        with self.db.write() as tx:
            client = self._get(tx, client_id)
            if client is None:
                raise UnknownClientError("no client has that id")
            tx.execute(
                "UPDATE api_clients SET agencies = ? WHERE client_id = ?",
                (_stored_agencies(scope), client_id),
            )
        return replace(client, agencies=scope)

    def _check_agencies(self, agencies: Iterable[str] | None) -> AgencyScope:
        if agencies is None:
            return ALL_AGENCIES
        codes = list(agencies)
        if len(codes) > _AGENCIES_MAX:
            raise InvalidClientError("agencies", f"must name at most {_AGENCIES_MAX} agencies")
        for code in codes:
            try:
                validate_code(code, field="agencies")
            except AgencyInputError as exc:
                raise InvalidClientError("agencies", exc.rule) from None
            found = get_agency(self.db, code)
            if found is None or not found.active:
                raise InvalidClientError(
                    "agencies", "must name active agencies registered in this province"
                )
        return frozenset(codes)

    def get(self, client_id: str) -> ApiClient | None:
        """The client ``client_id`` (revoked or not), or None."""
        with self.db.read() as tx:
            row = tx.fetchone(
                f"SELECT {_COLUMNS} FROM api_clients WHERE client_id = ?",  # noqa: S608
                (client_id,),
            )
        return None if row is None else _from_row(row)

    def list(self, *, include_revoked: bool = True) -> list[ApiClient]:
        """Every client, oldest first."""
        where = "" if include_revoked else " WHERE revoked_at_ms IS NULL"
        with self.db.read() as tx:
            rows = tx.fetchall(
                f"SELECT {_COLUMNS} FROM api_clients{where} "  # noqa: S608
                "ORDER BY created_at_ms, client_id"
            )
        return [_from_row(r) for r in rows]

    def find_by_token(self, token: str) -> ApiClient | None:
        """The client holding ``token`` (revoked or not), or None; malformed tokens find none."""
        if not is_token_shaped(token):
            return None
        with self.db.read() as tx:
            row = tx.fetchone(
                f"SELECT {_COLUMNS} FROM api_clients WHERE token_hash = ?",  # noqa: S608
                (hash_token(token),),
            )
        return None if row is None else _from_row(row)

    def find_by_certificate(self, spki_sha256: bytes) -> ApiClient | None:
        """The client bound to the certificate key ``spki_sha256`` (revoked or not), or None."""
        with self.db.read() as tx:
            row = tx.fetchone(
                f"SELECT {_COLUMNS} FROM api_clients WHERE cert_spki = ?",  # noqa: S608
                (spki_sha256,),
            )
        return None if row is None else _from_row(row)

    def certificate_of(self, client_id: str) -> bytes | None:
        """The certificate key fingerprint bound to ``client_id``, or None."""
        with self.db.read() as tx:
            row = tx.fetchone("SELECT cert_spki FROM api_clients WHERE client_id = ?", (client_id,))
        return None if row is None or row[0] is None else bytes(row[0])

    def bind_certificate(self, client_id: str, spki_sha256: bytes | None) -> ApiClient:
        """Bind ``client_id`` to a certificate key fingerprint (None: unbind); replaces any.

        A revoked client cannot be bound; a fingerprint bound to another client
        is a conflict (unbind it there first).
        """
        if spki_sha256 is not None and len(spki_sha256) != SPKI_FINGERPRINT_BYTES:
            raise InvalidClientError(
                "certificate", "must be a SHA-256 fingerprint of a SubjectPublicKeyInfo"
            )
        with self.db.write() as tx:
            client = self._get(tx, client_id)
            if client is None:
                raise UnknownClientError("no client has that id")
            if spki_sha256 is not None:
                if not client.active:
                    raise ClientConflictError("a revoked client cannot be bound to a certificate")
                other = tx.fetchone(
                    "SELECT client_id FROM api_clients WHERE cert_spki = ?", (spki_sha256,)
                )
                if other is not None and str(other[0]) != client_id:
                    raise ClientConflictError("that certificate key is bound to another client")
            tx.execute(
                "UPDATE api_clients SET cert_spki = ? WHERE client_id = ?",
                (spki_sha256, client_id),
            )
        return client

    def revoke(self, client_id: str) -> ApiClient:
        """Revoke ``client_id`` at once; revoking twice keeps the first time.

        The last active operator cannot be revoked: nobody could manage clients then.
        """
        with self.db.write() as tx:
            client = self._get(tx, client_id)
            if client is None:
                raise UnknownClientError("no client has that id")
            if not client.active:
                return client
            if Role.OPERATOR in client.roles and self._active_operators(tx) <= 1:
                raise ClientConflictError("the last active operator cannot be revoked")
            now = self.clock()
            tx.execute(
                "UPDATE api_clients SET revoked_at_ms = ? WHERE client_id = ?", (now, client_id)
            )
        return replace(client, revoked_at_ms=now)

    def _get(self, tx: Transaction, client_id: str) -> ApiClient | None:
        row = tx.fetchone(
            f"SELECT {_COLUMNS} FROM api_clients WHERE client_id = ?",  # noqa: S608
            (client_id,),
        )
        return None if row is None else _from_row(row)

    def _active_operators(self, tx: Transaction) -> int:
        rows = tx.fetchall("SELECT roles FROM api_clients WHERE revoked_at_ms IS NULL")
        return sum(1 for (roles,) in rows if Role.OPERATOR.value in str(roles).split(","))

"""The province's registry of issuing agencies (颁发机构), kept in the store.

An agency is a 统一社会信用代码 (GB 32100, check character verified), a name
(Chinese as a rule), the templates it may issue (by template name), and
whether it is active or retired. Records are never deleted: a retired agency
stays listed, so the credentials it issued keep a known issuer of record, but
``resolve`` refuses it for new issuance.

``resolve(db, template, code)`` is the issuance path's one question: which
``Agency`` goes into the credential. It raises ``AgencyError`` naming the reason
(``unknown``, ``retired``, ``template_not_allowed``) and never the code: errors
end up in logs next to personal data, so they stay value-free even for an
organisation's code, which is not personal.

``event_org`` writes an agency code in the form the audit log's ``actorOrg``
accepts (lowercase, no run of nine digits): ``uscc:`` and the code in lower
case, split into groups of 8, 8 and 2 characters by dots, so
``11330000TB0000001D`` is ``uscc:11330000.tb000000.1d``; ``agency_of_event_org``
reads it back. Only codes of this registry are ever written that way.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from credentials.errors import CredentialError, UnknownTemplateError
from credentials.templates import get_template
from credentials.zhengzhao.check_characters import USCC_ALPHABET, validate_uscc
from credentials.zhengzhao.errors import IdentifierError
from credentials.zhengzhao.profile import Agency
from ledger.clock import now_ms
from ledger.store.database import Database, Row, Transaction
from ledger.store.migrations import Migration, migrate

__all__ = [
    "EVENT_ORG_PREFIX",
    "AgencyError",
    "AgencyInputError",
    "RegisteredAgency",
    "add_agency",
    "agency_of_event_org",
    "candidates",
    "ensure_schema",
    "event_org",
    "get_agency",
    "list_agencies",
    "resolve",
    "retire_agency",
    "set_templates",
    "validate_code",
]

COMPONENT = "zhengzhao_agencies"
"""The store component (``schema_versions``) of the agency registry."""

MIGRATIONS = (
    Migration(
        1,
        "issuing agencies",
        (
            """CREATE TABLE zhengzhao_agencies (
                code TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                templates TEXT NOT NULL,
                created_at_ms INTEGER NOT NULL,
                retired_at_ms INTEGER
            )""",
        ),
    ),
)

EVENT_ORG_PREFIX = "uscc:"
"""How an agency code starts when it is an audit event's ``actorOrg``."""

NAME_MAX = 100
"""Longest agency name, in characters."""

_COLUMNS = "code, name, templates, created_at_ms, retired_at_ms"
_GROUPS = (8, 8, 2)


class AgencyError(CredentialError):
    """An agency cannot issue: ``reason`` is ``unknown``, ``retired`` or ``template_not_allowed``.

    Also raised by the registry for ``exists`` (add twice). Never carries the code.
    """

    code = "agency_refused"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with both arguments."""
        return (type(self), (self.reason, str(self)))


class AgencyInputError(CredentialError):
    """An agency attribute breaks a rule: ``field`` names it, ``rule`` the rule, never the value."""

    code = "agency_invalid"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field} {rule}")
        self.field = field
        self.rule = rule

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with both arguments."""
        return (type(self), (self.field, self.rule))


@dataclass(frozen=True)
class RegisteredAgency:
    """An agency as the registry keeps it."""

    code: str
    name: str
    templates: frozenset[str]
    created_at_ms: int
    retired_at_ms: int | None = None

    @property
    def active(self) -> bool:
        """Whether the agency is not retired."""
        return self.retired_at_ms is None

    @property
    def agency(self) -> Agency:
        """The agency as a credential names it."""
        return Agency(self.code, self.name)

    def may_issue(self, template: str) -> bool:
        """Whether the agency is active and may issue ``template``."""
        return self.active and template in self.templates


def validate_code(code: object, *, field: str = "agency") -> str:
    """``code`` if it is a well-formed USCC, else ``AgencyInputError`` naming ``field``."""
    try:
        return validate_uscc(code, field=field)
    except IdentifierError as exc:  # its message names the field and rule, never the value
        rule = str(exc).split(": ", 1)[-1]
        if exc.position is not None:
            rule += f" (position {exc.position})"
        raise AgencyInputError(field, f"must be a 统一社会信用代码 (GB 32100): {rule}") from None


def _check_name(name: object) -> str:
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= NAME_MAX
        or not name.isprintable()
        or name.strip() != name
    ):
        raise AgencyInputError(
            "name", f"must be 1 to {NAME_MAX} printable characters without outer spaces"
        )
    return name


def _check_templates(templates: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(templates)
    if not chosen:
        raise AgencyInputError("templates", "must name at least one template")
    for name in chosen:
        try:
            get_template(name)
        except UnknownTemplateError:
            raise AgencyInputError("templates", "must name templates of the catalogue") from None
    return chosen


def _from_row(row: Row) -> RegisteredAgency:
    templates = frozenset(t for t in str(row[2]).split(",") if t)
    retired = None if row[4] is None else int(row[4])
    return RegisteredAgency(str(row[0]), str(row[1]), templates, int(row[3]), retired)


_MIGRATED: weakref.WeakSet[Database] = weakref.WeakSet()


def ensure_schema(db: Database) -> Database:
    """Migrate the registry's tables in ``db`` once per store object; returns ``db``.

    The client registry calls it when a province is assembled, so no request
    pays for it; the functions below call it too, for callers that did not.
    """
    # Migrating opens a write transaction; resolve runs on every issuance.
    if db not in _MIGRATED:
        migrate(db, COMPONENT, MIGRATIONS)
        _MIGRATED.add(db)
    return db


_migrated = ensure_schema


def _get(tx: Transaction, code: str) -> RegisteredAgency | None:
    row = tx.fetchone(
        f"SELECT {_COLUMNS} FROM zhengzhao_agencies WHERE code = ?",  # noqa: S608
        (code,),
    )
    return None if row is None else _from_row(row)


def add_agency(
    db: Database,
    code: str,
    name: str,
    templates: Iterable[str],
    *,
    clock: Callable[[], int] = now_ms,
) -> RegisteredAgency:
    """Register an active agency that may issue ``templates`` (``AgencyError`` if known)."""
    validate_code(code, field="code")
    _check_name(name)
    chosen = _check_templates(templates)
    now = clock()
    with _migrated(db).write() as tx:
        if _get(tx, code) is not None:
            raise AgencyError("exists", "an agency with that code is registered already")
        tx.execute(
            "INSERT INTO zhengzhao_agencies (code, name, templates, created_at_ms) "
            "VALUES (?, ?, ?, ?)",
            (code, name, ",".join(sorted(chosen)), now),
        )
    return RegisteredAgency(code, name, chosen, now)


def set_templates(db: Database, code: str, templates: Iterable[str]) -> RegisteredAgency:
    """Replace the templates ``code`` may issue (retired or not); ``AgencyError`` if unknown."""
    validate_code(code, field="code")
    chosen = _check_templates(templates)
    with _migrated(db).write() as tx:
        found = _get(tx, code)
        if found is None:
            raise AgencyError("unknown", "no agency of this province has that code")
        tx.execute(
            "UPDATE zhengzhao_agencies SET templates = ? WHERE code = ?",
            (",".join(sorted(chosen)), code),
        )
    return RegisteredAgency(
        found.code, found.name, chosen, found.created_at_ms, found.retired_at_ms
    )


def get_agency(db: Database, code: str) -> RegisteredAgency | None:
    """The agency ``code`` (retired or not), or None."""
    with _migrated(db).read() as tx:
        return _get(tx, code)


def list_agencies(db: Database, *, include_retired: bool = True) -> list[RegisteredAgency]:
    """Every agency, in code order."""
    where = "" if include_retired else " WHERE retired_at_ms IS NULL"
    with _migrated(db).read() as tx:
        rows = tx.fetchall(
            f"SELECT {_COLUMNS} FROM zhengzhao_agencies{where} ORDER BY code"  # noqa: S608
        )
    return [_from_row(r) for r in rows]


def candidates(db: Database, template: str, codes: frozenset[str] | None) -> list[RegisteredAgency]:
    """The active agencies that may issue ``template``, among ``codes`` (None: all), by code."""
    if codes is not None and not codes:
        return []
    # Templates are stored comma-separated and sorted; template names hold no comma.
    where = "retired_at_ms IS NULL AND (',' || templates || ',') LIKE ?"
    params: list[object] = [f"%,{template},%"]
    if codes is not None:
        where += f" AND code IN ({', '.join('?' for _ in codes)})"
        params.extend(sorted(codes))
    with _migrated(db).read() as tx:
        rows = tx.fetchall(
            f"SELECT {_COLUMNS} FROM zhengzhao_agencies WHERE {where} ORDER BY code",  # noqa: S608
            tuple(params),
        )
    return [a for a in (_from_row(r) for r in rows) if a.may_issue(template)]


def retire_agency(
    db: Database, code: str, *, clock: Callable[[], int] = now_ms
) -> RegisteredAgency:
    """Retire ``code`` at once (no new issuance for it); retiring twice keeps the first time."""
    validate_code(code, field="code")
    with _migrated(db).write() as tx:
        found = _get(tx, code)
        if found is None:
            raise AgencyError("unknown", "no agency of this province has that code")
        if not found.active:
            return found
        now = clock()
        tx.execute("UPDATE zhengzhao_agencies SET retired_at_ms = ? WHERE code = ?", (now, code))
    return RegisteredAgency(found.code, found.name, found.templates, found.created_at_ms, now)


def resolve(db: Database, template: str, agency_code: str) -> Agency:
    """The agency ``agency_code`` if it is registered, active and may issue ``template``.

    Raises ``AgencyInputError`` for a malformed code and ``AgencyError`` with reason
    ``unknown``, ``retired`` or ``template_not_allowed`` otherwise.
    """
    validate_code(agency_code)
    found = get_agency(db, agency_code)
    if found is None:
        raise AgencyError("unknown", "no agency of this province has that code")
    if not found.active:
        raise AgencyError("retired", "the agency is retired and issues no more certificates")
    if template not in found.templates:
        raise AgencyError("template_not_allowed", "the agency may not issue this template")
    return found.agency


def event_org(code: str) -> str:
    """The audit event ``actorOrg`` that names agency ``code`` (see the module docstring)."""
    lowered = validate_code(code).lower()
    groups, start = [], 0
    for size in _GROUPS:
        groups.append(lowered[start : start + size])
        start += size
    return EVENT_ORG_PREFIX + ".".join(groups)


def agency_of_event_org(org: str) -> str | None:
    """The agency code an ``actorOrg`` names (``event_org``'s inverse), or None if it names none."""
    if not org.startswith(EVENT_ORG_PREFIX):
        return None
    parts = org[len(EVENT_ORG_PREFIX) :].split(".")
    if [len(p) for p in parts] != list(_GROUPS):
        return None
    code = "".join(parts).upper()
    if any(ch not in USCC_ALPHABET for ch in code):
        return None
    try:
        return validate_code(code)
    except AgencyInputError:
        return None

"""Giving each certificate its 证照标识 before it is signed, and finding it by identifier.

A request of a template with national metadata (``Template.national``) that
names its issuing agency (``IssueRequest.agency``, or a submitted credential of
such a template with ``SubmittedCredential.agency``) gets a ``zhengzhao`` member
(``credentials.zhengzhao.profile.zhengzhao_member``) whose identifier comes
from the counter of its (type code, agency code)
(``credentials.zhengzhao.serials``): one allocation transaction for every
request of one issue call, before building and signing, as with status list
slots. Other requests issue without the member.

The issuer then stores each identifier with its credential's digest in the
transaction that stores the credential (``bind``; table ``cred_zhengzhao``,
both columns unique), so an identifier names one credential and is found by one
indexed read (``digest_of``). Identifiers allocated by an issuance that then
fails or crashes are bound to nothing: gaps in the sequence that no client was
ever told of.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from credentials.errors import ConfigurationError, CredentialError, UnknownTemplateError
from credentials.submitted import CredentialRequest, SubmittedCredential, submitted_template
from credentials.templates import get_template
from credentials.zhengzhao import serials
from credentials.zhengzhao.identifier import ZhengzhaoId
from credentials.zhengzhao.profile import NationalMetadata, zhengzhao_member
from ledger.store.database import Database, Transaction

__all__ = ["ZhengzhaoIdError", "apply", "assign", "bind", "digest_of", "needed"]


class ZhengzhaoIdError(CredentialError):
    """An identifier cannot be bound (the message names the rule, never an identifier)."""

    code = "zhengzhao_id_error"


def _national(request: CredentialRequest) -> NationalMetadata | None:
    """The national metadata of ``request``'s template, if it names an agency and has one."""
    if request.agency is None:
        return None
    if isinstance(request, SubmittedCredential):
        template = submitted_template(request.credential)
        return None if template is None else template.national
    try:
        return get_template(request.template).national
    except UnknownTemplateError:
        return None  # the builder refuses it, with its own error


def _pair(request: CredentialRequest) -> tuple[str, str] | None:
    """The (type code, agency code) ``request`` needs an identifier of, or None."""
    national = _national(request)
    if national is None or request.agency is None:
        return None
    return national.type_code, request.agency.code


def assign(
    db: Database,
    requests: Sequence[CredentialRequest],
    jurisdiction: str | None,
    *,
    now_ms: int,
) -> tuple[list[CredentialRequest], list[str | None]]:
    """Allocate identifiers for the requests that need one and put their member in.

    Returns the requests (those with an identifier replaced by a copy carrying
    ``zhengzhao``) and, per request, its identifier or None. ``jurisdiction`` is
    the province's GB/T 2260 code; without one, a request needing a member is a
    ``ConfigurationError`` (nothing is allocated). The issuer does the same in
    three steps (``needed``, ``serials.allocate_in`` in its own transaction,
    ``apply``).
    """
    counts = needed(requests, jurisdiction, now_ms=now_ms)
    allocated = serials.allocate_many(db, counts, now_ms=now_ms) if counts else {}
    return apply(requests, allocated, jurisdiction)


def needed(
    requests: Sequence[CredentialRequest], jurisdiction: str | None, *, now_ms: int
) -> dict[tuple[str, str], int]:
    """How many identifiers of each (type code, agency code) ``requests`` need, checked.

    Refuses (``ConfigurationError``) a request that already carries a member, and
    any need without a ``jurisdiction``; the codes and counts are checked as
    ``serials.check_counts`` does. Nothing is written.
    """
    if any(r.zhengzhao is not None for r in requests):
        # Only an allocated identifier may be signed and bound: never one a caller brought.
        raise ConfigurationError("the issuer builds the zhengzhao member; a request has none")
    counts: dict[tuple[str, str], int] = {}
    for request in requests:
        pair = _pair(request)
        if pair is not None:
            counts[pair] = counts.get(pair, 0) + 1
    if counts and jurisdiction is None:
        raise ConfigurationError("the issuer has no jurisdiction code to put in certificates")
    if counts:
        serials.check_counts(counts, now_ms=now_ms)
    return counts


def apply(
    requests: Sequence[CredentialRequest],
    allocated: Mapping[tuple[str, str], Sequence[ZhengzhaoId]],
    jurisdiction: str | None,
) -> tuple[list[CredentialRequest], list[str | None]]:
    """Each request needing an identifier with its member, in request order (see ``assign``)."""
    next_of = {pair: iter(ids) for pair, ids in allocated.items()}
    assigned: list[CredentialRequest] = []
    identifiers: list[str | None] = []
    for request in requests:
        national, pair = _national(request), _pair(request)
        if pair is None or national is None or request.agency is None or jurisdiction is None:
            assigned.append(request)
            identifiers.append(None)
            continue
        identifier = str(next(next_of[pair]))
        member = zhengzhao_member(national, request.agency, identifier, jurisdiction)
        assigned.append(dataclasses.replace(request, zhengzhao=member))
        identifiers.append(identifier)
    return assigned, identifiers


def bind(tx: Transaction, identifiers_and_digests: Iterable[tuple[str | None, bytes]]) -> None:
    """Record each identifier's credential digest inside the caller's write transaction.

    Pairs without an identifier are skipped. An identifier or digest bound already
    raises ``ZhengzhaoIdError``, which rolls back the caller's transaction.
    """
    rows = [
        (identifier, bytes(digest)) for identifier, digest in identifiers_and_digests if identifier
    ]
    for identifier, digest in rows:
        taken = tx.fetchone(
            "SELECT 1 FROM cred_zhengzhao WHERE identifier = ? OR digest = ?", (identifier, digest)
        )
        if taken is not None:
            raise ZhengzhaoIdError("a 证照标识 or its credential is bound already")
    tx.executemany("INSERT INTO cred_zhengzhao (identifier, digest) VALUES (?, ?)", rows)


def digest_of(tx: Transaction, identifier: str) -> bytes | None:
    """The digest of the credential issued here with 证照标识 ``identifier``, or None."""
    row = tx.fetchone("SELECT digest FROM cred_zhengzhao WHERE identifier = ?", (identifier,))
    return None if row is None else bytes(row[0])

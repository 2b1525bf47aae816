"""OpenID4VP requests and their outcomes (personal data) are purged by the writer, not only on ask.

``purge_expired`` on both engines (``any_db``): only rows past
``RESULT_RETENTION_MS`` after their expiry go, an answered one with its outcome
too, and a second run deletes nothing (idempotent). The writer's duty
``presentation-requests-purge`` runs it with no clerk asking (docs/oid4vp.md).
"""

from __future__ import annotations

from pathlib import Path

from api.province.access import Declaration
from api.province.presentation_requests import (
    RESULT_RETENTION_MS,
    AskedRequest,
    purge_expired,
    requests_of,
)
from api.runtime.writer import PRESENTATION_PURGE_SECONDS, province_duties
from ledger.audit.events import Caller
from ledger.store.database import Database
from tests.helpers.contracts import World
from tests.helpers.provinces import served_province

NOW = 1_800_000_000_000


def _request(request_id: str, expires_at_ms: int) -> AskedRequest:
    return AskedRequest(
        request_id=request_id,
        session_digest="d" * 64,
        caller=Caller("staff:window-three", "330000"),
        declaration=Declaration("audit.review", "prc.pipl.art13"),
        claims=("registeredCapital",),
        nonce=f"nonce-{request_id}",
        domain="https://verifier.example",
        state=f"state-{request_id}",
        expires_at_ms=expires_at_ms,
        answered_at_ms=None,
        result=None,
    )


def test_purge_deletes_only_requests_past_their_retention_and_is_idempotent(
    any_db: Database,
) -> None:
    store = requests_of(any_db)
    store.add(_request("long-expired", NOW - RESULT_RETENTION_MS - 1))
    store.add(_request("answered-long-ago", NOW - RESULT_RETENTION_MS - 60_000))
    with any_db.write() as tx:
        tx.execute(
            "UPDATE presentation_requests SET answered_at_ms = ?, result = ? WHERE request_id = ?",
            (NOW - RESULT_RETENTION_MS - 90_000, '{"verdict": "VALID"}', "answered-long-ago"),
        )
    store.add(_request("just-expired", NOW - 1_000))  # the clerk's page still shows it
    store.add(_request("open", NOW + 300_000))
    assert purge_expired(any_db, NOW) == 2
    assert store.get("long-expired") is None
    assert store.get("answered-long-ago") is None
    assert store.get("just-expired") is not None
    assert store.get("open") is not None
    assert purge_expired(any_db, NOW) == 0  # a second run (or another host's) finds nothing
    assert store.get("just-expired") is not None


def test_the_writer_purges_presentation_requests_with_no_clerk_asking(
    world: World, tmp_path: Path
) -> None:
    with served_province(world, tmp_path) as province:
        parts = province.parts
        duties = {d.name: d for d in province_duties(parts, [], province.batches)}
        purge = duties["presentation-requests-purge"]
        assert purge.interval == PRESENTATION_PURGE_SECONDS
        now = parts.verifier.clock()
        requests_of(parts.db).add(_request("stale", now - RESULT_RETENTION_MS - 1))
        requests_of(parts.db).add(_request("fresh", now + 300_000))
        assert purge.run() == 1
        assert purge.run() == 0
        assert requests_of(parts.db).get("stale") is None
        assert requests_of(parts.db).get("fresh") is not None

"""Challenges: single use, expiring, bound to purpose and audience, shared across workers."""

from __future__ import annotations

import pytest

from ledger.store.challenges import ChallengeError, Challenges
from ledger.store.database import Database
from tests.helpers.stores import StoreTarget


def test_a_challenge_is_used_once(db: Database) -> None:
    challenges = Challenges(db)
    issued = challenges.issue("presentation", now_ms=1000, ttl_ms=60_000, audience="did:x")
    assert len(issued.value) >= 32
    challenges.consume(issued.value, "presentation", now_ms=2000, audience="did:x")
    with pytest.raises(ChallengeError, match="already used"):
        challenges.consume(issued.value, "presentation", now_ms=3000, audience="did:x")


def test_expired_unknown_and_misdirected_challenges_are_refused(db: Database) -> None:
    challenges = Challenges(db)
    issued = challenges.issue("presentation", now_ms=0, ttl_ms=1000, audience="did:x")
    with pytest.raises(ChallengeError, match="another purpose"):
        challenges.consume(issued.value, "citizen-view", now_ms=10, audience="did:x")
    with pytest.raises(ChallengeError, match="another purpose"):
        challenges.consume(issued.value, "presentation", now_ms=10, audience="did:y")
    with pytest.raises(ChallengeError, match="expired"):
        challenges.consume(issued.value, "presentation", now_ms=1000, audience="did:x")
    with pytest.raises(ChallengeError, match="unknown"):
        challenges.consume("made-up", "presentation", now_ms=10)


def test_another_worker_can_consume_what_one_issued(
    db: Database, store_target: StoreTarget
) -> None:
    issued = Challenges(db).issue("presentation", now_ms=0, ttl_ms=1000)
    other = store_target.open()
    try:
        Challenges(other).consume(issued.value, "presentation", now_ms=1)
    finally:
        other.close()
    assert Challenges(db).purge(now_ms=10**12) == 1

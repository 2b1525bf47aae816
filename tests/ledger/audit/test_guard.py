"""A submission's guard runs in the commit transaction: a challenge used with its event."""

from __future__ import annotations

import threading

import pytest

from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AuditLog, GuardRefusedError
from ledger.store.challenges import ChallengeError, Challenges
from ledger.store.database import Database

CALLER = Caller("verifier-app", "440000")


def _event(n: int) -> EventInput:
    return EventInput(
        action="presentation.verify",
        resource="presentation:" + f"{n:064x}",
        purpose="cross-province.enrolment",
        legal_basis="prc.pipl.art13",
        outcome=Outcome.SUCCESS,
        request_id=f"req-{n}",
    )


def _used(db: Database, value: str) -> bool:
    with db.read() as tx:
        row = tx.fetchone("SELECT used_at_ms FROM challenges WHERE challenge = ?", (value,))
    assert row is not None
    return row[0] is not None


def test_the_guard_uses_the_challenge_in_the_events_transaction(
    audit_log: AuditLog, db: Database
) -> None:
    challenges = Challenges(db)
    issued = challenges.issue("presentation", 1_000, 60_000, "did:v")
    pending = challenges.check(issued.value, "presentation", 2_000, "did:v")
    assert not _used(db, issued.value)  # checking reads only
    [result] = audit_log.submit(CALLER, [_event(1)], guard=pending.use).result()
    assert result.index == 0
    assert _used(db, issued.value)
    # The second use is refused inside the commit: nothing of it is stored.
    with pytest.raises(GuardRefusedError):
        audit_log.submit(CALLER, [_event(2)], guard=pending.use).result()
    assert audit_log.size() == 1
    with pytest.raises(ChallengeError, match="already used"):
        challenges.check(issued.value, "presentation", 2_000, "did:v")


def test_a_refused_guard_fails_only_its_own_submission_in_a_group(
    audit_log: AuditLog, db: Database
) -> None:
    challenges = Challenges(db)
    issued = challenges.issue("presentation", 1_000, 60_000, "did:v")
    pending = challenges.check(issued.value, "presentation", 2_000, "did:v")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def present(n: int) -> None:
        barrier.wait()
        try:
            audit_log.submit(CALLER, [_event(n)], guard=pending.use).result()
        except GuardRefusedError:
            outcome = "refused"
        else:
            outcome = "stored"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=present, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    audit_log.append(CALLER, _event(100))  # an unguarded append alongside
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["stored"]
    assert audit_log.size() == 2
    assert [r.index for r in audit_log.iterate()] == [0, 1]


def test_a_failed_commit_leaves_the_challenge_unused(
    audit_log: AuditLog, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    challenges = Challenges(db)
    issued = challenges.issue("presentation", 1_000, 60_000, "did:v")
    pending = challenges.check(issued.value, "presentation", 2_000, "did:v")

    def broken(*args: object, **kwargs: object) -> object:
        raise OSError("disk gone")

    monkeypatch.setattr(audit_log, "_store", broken)
    with pytest.raises(OSError, match="disk gone"):
        audit_log.submit(CALLER, [_event(1)], guard=pending.use).result()
    monkeypatch.undo()
    assert not _used(db, issued.value)
    assert audit_log.size() == 0
    audit_log.submit(CALLER, [_event(1)], guard=pending.use).result()
    assert _used(db, issued.value)


def test_check_refuses_as_consume_does(db: Database) -> None:
    challenges = Challenges(db)
    issued = challenges.issue("presentation", 1_000, 60_000, "did:v")
    for value, purpose, now, audience, reason in [
        ("nope", "presentation", 2_000, "did:v", "unknown"),
        (issued.value, "presentation", 61_000, "did:v", "expired"),
        (issued.value, "citizen", 2_000, "did:v", "another purpose"),
        (issued.value, "presentation", 2_000, "did:w", "another purpose"),
    ]:
        with pytest.raises(ChallengeError, match=reason):
            challenges.check(value, purpose, now, audience)
    challenges.consume(issued.value, "presentation", 2_000, "did:v")
    with pytest.raises(ChallengeError, match="already used"):
        challenges.check(issued.value, "presentation", 2_000, "did:v")

"""``POST /presentations/verify`` uses its challenge up in the access event's own commit.

The verifying province's store (challenges, audit log) is SQLite, then PostgreSQL.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.province.clients import Role
from credentials.holder import Holder
from ledger.store.database import Transaction
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue, problem
from tests.helpers.stores import StoreTarget

CHOSEN = ["degreeLevel"]


def _url(store_target: StoreTarget) -> str | None:
    """Guangdong's ``database_url`` for ``store_target`` (None: its SQLite file)."""
    return None if store_target.engine == "sqlite" else str(store_target.where)


def _presentation(zhejiang: ServedProvince, guangdong: ServedProvince) -> dict[str, Any]:
    holder = Holder.generate()
    digest = issue(zhejiang, holder.did)["digest"]
    zhejiang.anchor_all()
    reply = zhejiang.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    assert reply.status == 200, reply.text
    guangdong.sync()
    challenge = guangdong.request("POST", "/challenges", Role.VERIFIER).json()["challenge"]
    presentation: dict[str, Any] = holder.present(
        [(reply.json()["credential"], CHOSEN)], challenge=challenge, domain=guangdong.did
    )
    return presentation


def _post(province: ServedProvince, presentation: dict[str, Any]) -> Any:
    return province.request(
        "POST",
        "/presentations/verify",
        Role.VERIFIER,
        json_body={"verifiablePresentation": presentation},
        headers=PERSONAL,
    )


def _verdict(reply: Any) -> tuple[str, str]:
    assert reply.status == 200, reply.text
    result = reply.json()
    return result["verdict"], result["checks"][6]["reasonCode"]


def test_one_durable_write_and_a_forgery_burns_nothing(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_target: StoreTarget
) -> None:
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD, database_url=_url(store_target)) as guangdong,
    ):
        presentation = _presentation(zhejiang, guangdong)
        forged = {**presentation, "proof": {**presentation["proof"], "proofValue": "z1111"}}
        assert _verdict(_post(guangdong, forged))[0] == "INVALID"
        db = guangdong.parts.audit_log.db
        write = db.write
        writes: list[int] = []

        def counted() -> AbstractContextManager[Transaction]:
            writes.append(1)
            return write()

        monkeypatch.setattr(db, "write", counted)
        assert _verdict(_post(guangdong, presentation))[0] == "VALID"
        assert len(writes) == 1  # the challenge and the access event: one transaction
        monkeypatch.undo()
        assert _verdict(_post(guangdong, presentation)) == ("INVALID", "challenge_used")
        assert [e.outcome for e in events(guangdong)] == ["invalid", "success", "invalid"]


def test_a_failed_append_answers_nothing_and_leaves_the_challenge(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_target: StoreTarget
) -> None:
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD, database_url=_url(store_target)) as guangdong,
    ):
        presentation = _presentation(zhejiang, guangdong)
        audit_log = guangdong.parts.audit_log

        def broken(*args: object, **kwargs: object) -> object:
            raise OSError("disk gone")

        monkeypatch.setattr(audit_log, "_store", broken)  # after the guard, in its transaction
        problem(_post(guangdong, presentation), 503, ProblemCode.ACCESS_LOG_UNAVAILABLE)
        monkeypatch.undo()
        assert events(guangdong) == []
        assert _verdict(_post(guangdong, presentation)) == ("VALID", "ok")


def test_two_concurrent_presentations_of_one_challenge_one_wins(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_target: StoreTarget
) -> None:
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD, database_url=_url(store_target)) as guangdong,
    ):
        presentation = _presentation(zhejiang, guangdong)
        audit_log = guangdong.parts.audit_log
        submit = audit_log.submit
        # Both have checked the challenge (unused) before either commits: a true race.
        barrier = threading.Barrier(2, timeout=30)

        def racing(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("guard") is not None:
                barrier.wait()
            return submit(*args, **kwargs)

        monkeypatch.setattr(audit_log, "submit", racing)
        replies: list[Any] = []
        lock = threading.Lock()

        def present() -> None:
            reply = _post(guangdong, presentation)
            with lock:
                replies.append(reply)

        threads = [threading.Thread(target=present) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        verdicts = sorted(_verdict(r) for r in replies)
        assert verdicts == [("INVALID", "challenge_used"), ("VALID", "ok")]
        assert sorted(e.outcome for e in events(guangdong)) == ["invalid", "success"]

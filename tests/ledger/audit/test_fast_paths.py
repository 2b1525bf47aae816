"""The append path's batch helpers give exactly what the one-event forms give."""

from __future__ import annotations

import random

import pytest

from ledger.audit.errors import EventRejectedError
from ledger.audit.events import (
    AccessEvent,
    Caller,
    EventInput,
    Outcome,
    Subject,
    build_events,
    validate_many,
)
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.sm3 import HmacSm3, hmac_sm3

CALLER = Caller("verifier-1", "440000")

# Values each field may take: valid ones and ones validate() refuses, for every rule.
_CHOICES: dict[str, list[object]] = {
    "action": ["credential.verify", "a", "Verify", "a b", "x123456789", 5, "a" * 65],
    "resource": [
        "credential:" + "ab" * 32,
        "presentation:" + "0" * 64,
        "record:holder.list",
        "checkpoint:12345678",
        "checkpoint:123456789",
        "credential:" + "AB" * 32,
        "record:x\x00credential:" + "ab" * 32,
        None,
    ],
    "purpose": ["cross-province.enrolment", "p.123456789", "p\x00q", b"bytes"],
    "legal_basis": ["prc.pipl.art13", "", "prc pipl"],
    "outcome": [Outcome.SUCCESS, "denied", "maybe", ["success"], Outcome.ERROR],
    "request_id": ["req-1", "Req:2", "r" * 128, "r" * 129, "id-1234567890", "-x", 7],
    "subject_id": [None, "did:key:z1", "", "d" * 512, "d" * 513],
    "idempotency_key": [None, "key-1", "k-1234567890", "bad key", "\x00", 3],
}


def _verdict(event: EventInput) -> str | None:
    try:
        event.validate()
    except EventRejectedError as exc:
        return str(exc)
    return None


def _many_verdict(events: list[EventInput]) -> str | None:
    try:
        validate_many(events)
    except EventRejectedError as exc:
        return str(exc)
    return None


def test_validate_many_gives_validates_verdicts() -> None:
    stream = random.Random(14)
    good = EventInput(
        "credential.verify", "credential:" + "ab" * 32, "p", "l", "success", "r", "s", "k"
    )
    refused = 0
    for _ in range(3000):
        values = {**good.__dict__}
        for name in stream.sample(sorted(_CHOICES), stream.randint(0, 3)):
            values[name] = stream.choice(_CHOICES[name])
        event = EventInput(**values)
        expected = _verdict(event)
        refused += expected is not None
        assert _many_verdict([good, event, good]) == expected, values
        assert _many_verdict([event, event]) == expected, values
    assert 500 < refused < 2900  # both verdicts were exercised


def test_build_events_equals_the_dataclass_and_its_canonical_bytes() -> None:
    keys = PseudonymKeys({1: bytes(range(32)), 2: bytes(range(1, 33))}, 2)
    inputs = [
        EventInput(
            "credential.verify",
            f"record:r{n % 3}",
            "purpose.x",
            "basis",
            list(Outcome)[n % 5],
            f"req-{n}",
            None if n % 4 == 0 else f"did:key:z{n % 3}",
            None if n % 2 else f"key-{n}",
        )
        for n in range(40)
    ]
    distinct = sorted({e.subject_id for e in inputs if e.subject_id is not None})
    subjects = dict(zip(distinct, keys.subjects(distinct), strict=True))
    ids = [f"id-{n}" for n in range(40)]
    events, bodies = build_events(330000, CALLER, 1_764_232_200_125, inputs, ids, subjects)
    for event, body, source, event_id in zip(events, bodies, inputs, ids, strict=True):
        expected = AccessEvent(
            log_id=330000,
            event_id=event_id,
            time_ms=1_764_232_200_125,
            actor=CALLER.actor,
            actor_org=CALLER.org,
            action=source.action,
            resource=source.resource,
            purpose=source.purpose,
            legal_basis=source.legal_basis,
            subject=None if source.subject_id is None else keys.subject(source.subject_id),
            request_id=source.request_id,
            idempotency_key=source.idempotency_key,
            outcome=str(source.outcome),
        )
        assert event == expected
        assert repr(event) == repr(expected)
        assert type(event.outcome) is str
        assert body == expected.canonical_bytes()
    with pytest.raises(AttributeError):
        events[0].actor = "someone-else"  # type: ignore[misc]


@pytest.mark.parametrize("length", [1, 16, 32, 63, 64, 65, 200])
def test_hmac_sm3_states_equal_the_rfc2104_function(length: int) -> None:
    key = bytes(range(length))
    mac = HmacSm3(key)
    messages = [b"", b"did:key:z1", bytes(range(256)) * 3]
    assert [mac.digest(m) for m in messages] == [hmac_sm3(key, m) for m in messages]
    assert mac.digest_many(messages) == [hmac_sm3(key, m) for m in messages]


def test_subjects_equal_subject_under_the_current_key() -> None:
    keys = PseudonymKeys({1: bytes(32), 3: bytes(range(32))}, 3)
    names = ["did:key:z1", "did:web:example.cn", "身份"]
    assert keys.subjects(names) == [keys.subject(n) for n in names]
    assert all(s == Subject(s.pseudonym, 3) for s in keys.subjects(names))

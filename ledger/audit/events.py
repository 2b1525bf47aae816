"""Access events: what a caller may state, what the server adds, and the canonical bytes.

An event's fields are fixed by the design card. The server assigns the event
id (UUIDv7) and time (UTC, ms); actor and organisation come from the caller's
authentication (``Caller``), never from the request body. Every free field is
a *code* with a strict pattern rather than free text, so personal data has
nowhere to hide: no field accepts spaces, and none accepts a run of nine or
more digits (resident ID numbers are 18 digits, mobile numbers 11).

The leaf of an event in the log is ``SM3(JCS(event))``. Events use only
ASCII strings, small integers, ``null`` and nested objects with ASCII keys,
for which sorted-key compact ``json.dumps`` *is* RFC 8785 (a test checks this
against the ``rfc8785`` package); it is five times faster, which the batch
append path needs.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ledger.audit.errors import EventRejectedError
from ledger.clock import now_ms
from ledger.crypto.sm3 import sm3

EVENT_VERSION = 1

_CODE = re.compile(r"[a-z][a-z0-9_.\-]{0,63}", re.ASCII)
_ACTOR = re.compile(r"[a-z0-9][a-z0-9_.:\-]{0,127}", re.ASCII)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}", re.ASCII)
_RESOURCE = re.compile(
    r"(credential|presentation):[0-9a-f]{64}|record:[a-z][a-z_.\-]{0,63}|checkpoint:[0-9]{1,8}",
    re.ASCII,
)
_LONG_DIGITS = re.compile(r"[0-9]{9,}")
# requestId and resource joined by NUL, which neither pattern admits, so one
# match of this is both field matches.
_REQUEST_RESOURCE = re.compile(f"(?:{_TOKEN.pattern})\x00(?:{_RESOURCE.pattern})", re.ASCII)


class Outcome(StrEnum):
    """How the access ended."""

    SUCCESS = "success"
    DENIED = "denied"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    ERROR = "error"


# Maps a valid outcome (an ``Outcome`` or its string) to its plain string.
_OUTCOME_TEXT = {o.value: o.value for o in Outcome}


@dataclass(frozen=True)
class Caller:
    """Who is calling, as established by authentication (never by the request body)."""

    actor: str
    org: str

    def __post_init__(self) -> None:
        """Reject identities that do not fit the actor pattern."""
        _check("actor", self.actor, _ACTOR)
        _check("actorOrg", self.org, _ACTOR)


@dataclass(frozen=True)
class EventInput:
    """What a caller states about an access.

    ``subject_id`` is the data subject's identifier (the holder DID whenever one
    is known). It is turned into a keyed pseudonym before anything is stored
    and is never stored, logged or echoed itself.
    """

    action: str
    resource: str
    purpose: str
    legal_basis: str
    outcome: Outcome | str
    request_id: str
    subject_id: str | None = None
    idempotency_key: str | None = None

    def validate(self) -> None:
        """Raise ``EventRejectedError`` naming the first bad field (never its value)."""
        _check("action", self.action, _CODE)
        _check("resource", self.resource, _RESOURCE, digits_ok=True)
        _check("purpose", self.purpose, _CODE)
        _check("legalBasis", self.legal_basis, _CODE)
        _check("requestId", self.request_id, _TOKEN)
        try:
            Outcome(self.outcome)
        except ValueError:
            raise EventRejectedError(
                "outcome", "must be one of " + ", ".join(o.value for o in Outcome)
            ) from None
        if self.idempotency_key is not None:
            _check("idempotencyKey", self.idempotency_key, _TOKEN, digits_ok=True)
        if self.subject_id is not None and not 0 < len(self.subject_id) <= 512:
            raise EventRejectedError("subject", "must be 1 to 512 characters")


def _check(name: str, value: object, pattern: re.Pattern[str], *, digits_ok: bool = False) -> None:
    if not isinstance(value, str):
        raise EventRejectedError(name, f"must match {pattern.pattern}")
    problem = _problem(value, pattern, digits_ok)
    if problem:
        raise EventRejectedError(name, problem)


def validate_many(events: Sequence[EventInput]) -> None:
    """``event.validate()`` for each of ``events``: the same verdicts and errors, faster.

    A batch repeats its codes (action, purpose, legal basis, outcome): each
    distinct combination is checked once, and an event's own fields with one
    regular-expression match. An event this quick check doubts goes through
    ``validate`` itself, which names the bad field.
    """
    request_resource, digits, token = (
        _REQUEST_RESOURCE.fullmatch,
        _LONG_DIGITS.search,
        _TOKEN.fullmatch,
    )
    known: set[tuple[object, ...]] = set()
    for event in events:
        try:
            codes = (event.action, event.purpose, event.legal_basis, event.outcome)
            request_id, subject, key = event.request_id, event.subject_id, event.idempotency_key
            if codes not in known:
                if not (
                    _CODE.fullmatch(event.action)
                    and _CODE.fullmatch(event.purpose)
                    and _CODE.fullmatch(event.legal_basis)
                    and not digits("\x00".join(codes[:3]))
                    and event.outcome in _OUTCOME_TEXT
                ):
                    event.validate()
                    continue
                known.add(codes)
            if (
                request_resource("\x00".join((request_id, event.resource)))
                and not digits(request_id)
                and (key is None or token(key))
                and (subject is None or 0 < len(subject) <= 512)
            ):
                continue
        except TypeError:
            pass  # a field of the wrong type: validate says which
        event.validate()


@functools.lru_cache(maxsize=4096)
def _problem(value: str, pattern: re.Pattern[str], digits_ok: bool) -> str:
    # Batches repeat the same codes (action, purpose, legal basis) thousands of
    # times; remembering verdicts for recent values saves most of the work.
    if not pattern.fullmatch(value):
        return f"must match {pattern.pattern}"
    if not digits_ok and _LONG_DIGITS.search(value):
        return "must not contain a run of nine or more digits"
    return ""


@dataclass(frozen=True)
class Subject:
    """A data subject as the log records it: a keyed pseudonym and the key's version."""

    pseudonym: str
    key_version: int


@dataclass(frozen=True)
class AccessEvent:
    """A complete access event, as appended to the log."""

    log_id: int
    event_id: str
    time_ms: int
    actor: str
    actor_org: str
    action: str
    resource: str
    purpose: str
    legal_basis: str
    subject: Subject | None
    request_id: str
    idempotency_key: str | None
    outcome: str

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object (the form that is canonicalised and exported)."""
        return {
            "v": EVENT_VERSION,
            "logId": self.log_id,
            "eventId": self.event_id,
            "time": format_time(self.time_ms),
            "actor": self.actor,
            "actorOrg": self.actor_org,
            "action": self.action,
            "resource": self.resource,
            "purpose": self.purpose,
            "legalBasis": self.legal_basis,
            "subject": None
            if self.subject is None
            else {"pseudonym": self.subject.pseudonym, "keyVersion": self.subject.key_version},
            "requestId": self.request_id,
            "idempotencyKey": self.idempotency_key,
            "outcome": self.outcome,
        }

    def canonical_bytes(self) -> bytes:
        """RFC 8785 (JCS) bytes of ``to_json()``.

        Built directly: every string in an event is either server-made (ids,
        time, hex) or matched a pattern without quotes, backslashes or control
        characters, so no value needs escaping and the keys are written in JCS
        order. A test checks this equals ``rfc8785`` on generated events.
        """
        subject = (
            "null"
            if self.subject is None
            else f'{{"keyVersion":{self.subject.key_version},'
            f'"pseudonym":"{self.subject.pseudonym}"}}'
        )
        idempotency = "null" if self.idempotency_key is None else f'"{self.idempotency_key}"'
        return (
            f'{{"action":"{self.action}","actor":"{self.actor}","actorOrg":"{self.actor_org}",'
            f'"eventId":"{self.event_id}","idempotencyKey":{idempotency},'
            f'"legalBasis":"{self.legal_basis}","logId":{self.log_id},'
            f'"outcome":"{self.outcome}","purpose":"{self.purpose}",'
            f'"requestId":"{self.request_id}","resource":"{self.resource}",'
            f'"subject":{subject},"time":"{format_time(self.time_ms)}","v":{EVENT_VERSION}}}'
        ).encode()

    def digest(self) -> bytes:
        """SM3 of the canonical bytes: the event's leaf data in the log."""
        return sm3(self.canonical_bytes())

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> AccessEvent:
        """Rebuild an event from ``to_json()`` output (e.g. from an export)."""
        if document.get("v") != EVENT_VERSION:
            raise EventRejectedError("v", f"unsupported event version (expected {EVENT_VERSION})")
        subject = document.get("subject")
        return cls(
            log_id=int(document["logId"]),
            event_id=str(document["eventId"]),
            time_ms=parse_time(str(document["time"])),
            actor=str(document["actor"]),
            actor_org=str(document["actorOrg"]),
            action=str(document["action"]),
            resource=str(document["resource"]),
            purpose=str(document["purpose"]),
            legal_basis=str(document["legalBasis"]),
            subject=None
            if subject is None
            else Subject(str(subject["pseudonym"]), int(subject["keyVersion"])),
            request_id=str(document["requestId"]),
            idempotency_key=document.get("idempotencyKey"),
            outcome=str(document["outcome"]),
        )


def build_events(
    log_id: int,
    caller: Caller,
    time_ms: int,
    inputs: Sequence[EventInput],
    ids: Sequence[str],
    subjects: Mapping[str, Subject],
) -> tuple[list[AccessEvent], list[bytes]]:
    """The events of validated ``inputs`` and their canonical bytes, for the batch path.

    Event ``n`` has id ``ids[n]`` and the subject ``subjects[subject_id]``; its
    bytes are its ``canonical_bytes()``, written from the inputs with what a
    batch shares (actor, log, time, each subject) formatted once.
    """
    actor, org = caller.actor, caller.org
    middle = f'","actor":"{actor}","actorOrg":"{org}","eventId":"'
    tail = f',"subject":{{}},"time":"{format_time(time_ms)}","v":{EVENT_VERSION}}}'
    log_part = f'","logId":{log_id},"outcome":"'
    tails: dict[str | None, str] = {None: tail.replace("{}", "null", 1)}
    for named, subject in subjects.items():
        tails[named] = tail.replace(
            "{}",
            f'{{"keyVersion":{subject.key_version},"pseudonym":"{subject.pseudonym}"}}',
            1,
        )
    new, outcomes = object.__new__, _OUTCOME_TEXT
    events: list[AccessEvent] = []
    bodies: list[bytes] = []
    for event, event_id in zip(inputs, ids, strict=True):
        key, subject_id = event.idempotency_key, event.subject_id
        outcome = outcomes[event.outcome]
        idempotency = "null" if key is None else '"' + key + '"'
        bodies.append(
            (
                f'{{"action":"{event.action}{middle}{event_id}","idempotencyKey":'
                f'{idempotency},"legalBasis":"{event.legal_basis}'
                f'{log_part}{outcome}","purpose":"{event.purpose}","requestId":'
                f'"{event.request_id}","resource":"{event.resource}"{tails[subject_id]}'
            ).encode()
        )
        # A frozen dataclass's __init__ sets each of 13 fields through
        # object.__setattr__; filling __dict__ at once is a third of the time.
        built = new(AccessEvent)
        built.__dict__.update(
            log_id=log_id,
            event_id=event_id,
            time_ms=time_ms,
            actor=actor,
            actor_org=org,
            action=event.action,
            resource=event.resource,
            purpose=event.purpose,
            legal_basis=event.legal_basis,
            subject=None if subject_id is None else subjects[subject_id],
            request_id=event.request_id,
            idempotency_key=key,
            outcome=outcome,
        )
        events.append(built)
    return events, bodies


def canonical_json(document: dict[str, Any]) -> bytes:
    """JCS bytes of an event-shaped document (ASCII keys, no floats; see module doc)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@functools.lru_cache(maxsize=1024)
def format_time(time_ms: int) -> str:
    """UTC time with milliseconds, e.g. ``2026-11-27T08:30:00.125Z``."""
    moment = datetime.fromtimestamp(time_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time_ms % 1000:03d}Z"


def parse_time(text: str) -> int:
    """Milliseconds since the epoch from ``format_time`` output."""
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000 + 0.5)


class Uuid7Factory:
    """UUIDv7 (RFC 9562) ids: 48-bit ms time, then random bits, monotonic within a process."""

    def __init__(self) -> None:
        """Start with no previous id."""
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def new(self, time_ms: int | None = None) -> str:
        """A new UUIDv7 string."""
        return self.new_many(1, time_ms)[0]

    def new_many(self, count: int, time_ms: int | None = None) -> list[str]:
        """``count`` new UUIDv7 strings at one time, as ``count`` calls of ``new`` would give.

        The random bits of all of them come from one ``secrets.token_bytes`` call.
        """
        now = now_ms() if time_ms is None else time_ms
        with self._lock:
            if now <= self._last_ms:
                now = self._last_ms
                first = self._counter + 1
            else:
                self._last_ms = now
                first = secrets.randbits(11)  # random start keeps ids unguessable
            self._counter = first + count - 1
        head = (now & (2**48 - 1)) << 80 | 0x7 << 76 | 0b10 << 62  # time, version 7, variant
        random = secrets.token_bytes(8 * count)
        ids = []
        for n in range(count):
            value = head | ((first + n) & 0xFFF) << 64  # rand_a: monotonic counter (RFC 9562, 1)
            value |= int.from_bytes(random[8 * n : 8 * n + 8]) >> 2
            text = f"{value:032x}"
            ids.append(f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}")
        return ids

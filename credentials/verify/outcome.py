"""What one check returns: passed (with what it established), skipped, or failed.

Every check of the checklist returns one of these small values, so the verifier
and the citizen's wallet read the same outcome from the same function. A
``Failed`` carries a frozen reason code (``credentials.reasons``), a message
that names the rule and the element at fault (which disclosure, which member or
claim, by position or name), never a value from the document, and, when one
element is at fault, ``at``: its JSON pointer in the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from credentials.reasons import Check, Reason

__all__ = [
    "CheckFailedError",
    "CheckUndecidedError",
    "Failed",
    "OfflineFailure",
    "Passed",
    "Skipped",
]

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Passed(Generic[T_co]):
    """A check that holds: what it established (``value``) and the result's message."""

    value: T_co
    message: str = "ok"


@dataclass(frozen=True)
class Skipped:
    """A check that does not apply or cannot be decided yet: SKIPPED with ``reason``."""

    reason: Reason
    message: str


@dataclass(frozen=True)
class Failed:
    """A check that does not hold: INVALID with ``reason`` and a message naming the rule.

    ``at`` is the JSON pointer (RFC 6901) of the element at fault in the checked
    document (``/disclosures/2``), when the check found one.
    """

    reason: Reason
    message: str
    at: str | None = None


@dataclass(frozen=True)
class OfflineFailure:
    """The first check (lowest number) the offline checks found failing, and how."""

    check: Check
    failure: Failed

    @property
    def reason(self) -> Reason:
        """The failure's reason code."""
        return self.failure.reason

    @property
    def message(self) -> str:
        """The failure's message."""
        return self.failure.message


class CheckFailedError(Exception):
    """A failure raised deep inside check (0)'s parsing; ``failure`` is the outcome."""

    def __init__(self, reason: Reason, message: str, at: str | None = None) -> None:
        super().__init__(message)
        self.failure = Failed(reason, message, at)


class CheckUndecidedError(Exception):
    """A check that cannot be decided yet, though nothing is wrong: ERROR with ``reason``.

    Unlike ``Skipped`` (whose verdict is INVALID when the check applies), the answer
    is ERROR: the same request, retried shortly, is expected to decide.
    """

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

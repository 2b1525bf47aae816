"""Check (6), purpose binding: a presentation bound to one 用证事由 is verified for it only.

The holder may bind a presentation to one purpose code (``credentials.purposes``)
with a ``termsOfUse`` entry of the presentation (VC Data Model 2.0 §5.5 Terms of
Use), which the holder's proof covers like every other member::

    "termsOfUse": {"type": "TongbanPurposeOfUse", "purpose": "cross-province.enrolment"}

The verifier then compares it with the purpose the request declares (``X-Purpose``,
which also goes into the access event): another purpose is INVALID at check (6),
``purpose_mismatch``. A presentation without ``termsOfUse`` is bound to no purpose
and verifies as before. One rule, here, for the verifier and the wallet.

Tongban understands only this one kind of term in a presentation, so a
presentation's ``termsOfUse`` holds exactly one ``TongbanPurposeOfUse`` entry
(one object, or a list of one) with a well-formed code and nothing else; anything
else is ``purpose_of_use_malformed``: a verifier must not ignore terms the holder
set that it does not understand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from credentials.reasons import Reason
from credentials.verify.outcome import Failed, Passed

__all__ = [
    "PURPOSE_CODE",
    "PURPOSE_OF_USE_TYPE",
    "TERMS_OF_USE",
    "bound_purpose",
    "is_purpose_code",
    "purpose_binding",
    "purpose_term",
]

TERMS_OF_USE = "termsOfUse"
PURPOSE_OF_USE_TYPE = "TongbanPurposeOfUse"
"""The ``type`` of the term that binds a presentation to one purpose."""
PURPOSE_CODE = re.compile(r"[a-z][a-z0-9_.\-]{0,63}", re.ASCII)
"""A purpose code: the audit log's rule for an event's ``purpose`` (``ledger.audit.events``)."""
_LONG_DIGITS = re.compile(r"[0-9]{9,}")
"""The log refuses a run of nine digits in a code (an ID number hides there): so do we."""

_ENTRY_KEYS = frozenset({"type", "purpose"})


def purpose_term(purpose: str) -> dict[str, str]:
    """The ``termsOfUse`` entry that binds a presentation to ``purpose``.

    Raises ``ValueError`` for a code that breaks the rule (``PURPOSE_CODE``).
    """
    if not is_purpose_code(purpose):
        raise ValueError(
            "a purpose code is a-z first, then up to 63 of a-z 0-9 _ . - (no run of nine digits)"
        )
    return {"type": PURPOSE_OF_USE_TYPE, "purpose": purpose}


def is_purpose_code(value: object) -> bool:
    """``value`` is a well-formed purpose code (the audit log's rule for ``purpose``)."""
    return (
        isinstance(value, str)
        and PURPOSE_CODE.fullmatch(value) is not None
        and _LONG_DIGITS.search(value) is None
    )


def bound_purpose(presentation: Mapping[str, Any]) -> Passed[str | None] | Failed:
    """The purpose ``presentation`` is bound to (None: not bound), or why its terms are refused."""
    if TERMS_OF_USE not in presentation:
        return Passed(None, "the presentation is bound to no purpose")
    terms = presentation[TERMS_OF_USE]
    entries = terms if isinstance(terms, list) else [terms]
    if len(entries) != 1:
        return _malformed("termsOfUse holds exactly one TongbanPurposeOfUse entry")
    entry = entries[0]
    if not isinstance(entry, dict) or entry.keys() != _ENTRY_KEYS:
        return _malformed("a termsOfUse entry has exactly the members type and purpose")
    if entry["type"] != PURPOSE_OF_USE_TYPE:
        return _malformed("the only termsOfUse entry this verifier knows is TongbanPurposeOfUse")
    purpose = entry["purpose"]
    if not is_purpose_code(purpose):
        return _malformed("the termsOfUse purpose is not a purpose code")
    return Passed(purpose, f"the presentation is bound to the purpose {purpose}")


def purpose_binding(presentation: Mapping[str, Any], declared: str | None) -> Passed[None] | Failed:
    """(6) The presentation's bound purpose, if any, is the one the request declares.

    ``declared`` None (a caller that declares none, e.g. an offline check): only the
    shape of the terms is checked.
    """
    bound = bound_purpose(presentation)
    if isinstance(bound, Failed):
        return bound
    if bound.value is not None and declared is not None and bound.value != declared:
        # The codes are not personal, but the message stays generic like every other.
        return Failed(
            Reason.PURPOSE_MISMATCH,
            "the presentation is bound to another purpose than the one the request declares",
        )
    return Passed(None, bound.message)


def _malformed(detail: str) -> Failed:
    return Failed(Reason.PURPOSE_OF_USE_MALFORMED, detail, f"/{TERMS_OF_USE}")

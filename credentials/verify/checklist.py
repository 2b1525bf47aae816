"""One credential's checklist, run by the ``Verifier`` for one credential or many.

The verifier (``credentials.verify.verifier``) decides what is verified and records
it; this module runs check (0) and checks (1)-(5) and (7) of one credential against
one ``ChainState``, and builds its result:

- ``load_credential``: check (0), a foreign issuer's credential by its own rules
  (``credentials.verify.foreign``), else Tongban's (``credentials.verify.parse``);
- ``credential_checks``: checks (1)-(5) and (7), and the status lists checked and
  reported; a Tongban credential's checks read the chain through the ``ChainState``,
  so many credentials can share one index view;
- ``credential_result``: the result of a credential alone (check (6) not applicable).

Every check goes through ``run_check``: a failed store read is ERROR
``index_unavailable``, any other exception ERROR ``internal_error``, so a bug never
turns into VALID or INVALID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from credentials.ijson import CREDENTIAL_LIMITS, Limits
from credentials.reasons import Check, CheckStatus, Reason
from credentials.verify import checks, foreign
from credentials.verify import parse as parsing
from credentials.verify.chain_state import ChainState
from credentials.verify.config import VerifierConfig
from credentials.verify.foreign import ForeignCredential
from credentials.verify.outcome import (
    CheckFailedError,
    CheckUndecidedError,
    Failed,
    Passed,
    Skipped,
)
from credentials.verify.parse import ParsedCredential
from credentials.verify.result import (
    CheckResult,
    ListFinding,
    StatusFinding,
    VerificationResult,
    check_result,
    finish,
    from_outcome,
    only_unregistered,
    skipped,
    valid,
)
from credentials.verify.status_list_check import (
    Retrieved,
    check_entries,
    foreign_list_verifier,
    foreign_status,
    tongban_list_verifier,
)
from credentials.verify.zhengzhao_member import reported
from ledger.store.database import StoreError

log = logging.getLogger(__name__)

__all__ = [
    "INDEX_UNREADABLE",
    "Checked",
    "Loaded",
    "credential_checks",
    "credential_result",
    "guarded",
    "load_credential",
    "run_check",
    "within_caps",
]

T = TypeVar("T")

INDEX_UNREADABLE = "the chain index could not be read"
"""The message of a check that could not read the chain index."""

Checked = tuple[dict[Check, CheckResult], StatusFinding | None, list[ListFinding]]
"""One credential's check results, its on-chain status read, its status list findings."""

Loaded = ParsedCredential | ForeignCredential
"""A credential that passed check (0): Tongban's or a foreign issuer's."""


def run_check(
    results: dict[Check, CheckResult],
    check: Check,
    run: Callable[[], Passed[T] | Skipped | Failed],
    *,
    unreadable: str = INDEX_UNREADABLE,
) -> T | None:
    """Record one check's result; its value when it passed, else None.

    A failed store read is ERROR ``index_unavailable``, any other exception ERROR
    ``internal_error``: a bug never turns into VALID or INVALID.
    """
    try:
        outcome = run()
    except CheckUndecidedError as undecided:
        results[check] = check_result(check, CheckStatus.ERROR, undecided.reason, undecided.message)
        return None
    except StoreError:
        log.exception("store unavailable during check %s", int(check))
        results[check] = check_result(
            check, CheckStatus.ERROR, Reason.INDEX_UNAVAILABLE, unreadable
        )
        return None
    except Exception:
        log.exception("check %s failed unexpectedly", int(check))
        results[check] = check_result(
            check, CheckStatus.ERROR, Reason.INTERNAL_ERROR, "internal error"
        )
        return None
    results[check] = from_outcome(check, outcome)
    return outcome.value if isinstance(outcome, Passed) else None


def guarded(run: Callable[[], Passed[T] | Failed], what: str) -> Passed[T] | Failed:
    """Check (0) of a pre-parsed document: a ``CheckFailedError`` is its failure, a bug ERROR."""
    try:
        return run()
    except CheckFailedError as fail:
        return fail.failure
    except Exception:
        log.exception("parsing a %s failed unexpectedly", what)
        return Failed(Reason.INTERNAL_ERROR, "internal error")


def _parsed_credential(value: Any) -> Passed[ParsedCredential] | Failed:
    try:
        return Passed(parsing.parse_credential(value))
    except CheckFailedError as fail:
        return fail.failure


def within_caps(value: Any, limits: Limits = CREDENTIAL_LIMITS) -> Passed[Any] | Failed:
    """``value`` within the depth and array caps of ``limits`` (the top level counts as 1)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if type(value) in (dict, list) else []
    while stack:
        item, depth = stack.pop()
        members = item.values() if type(item) is dict else item
        if depth > limits.max_depth:
            return Failed(
                Reason.INPUT_TOO_DEEP, f"the document nests deeper than {limits.max_depth}"
            )
        if type(item) is list and len(item) > limits.max_array:
            return Failed(
                Reason.INPUT_ARRAY_TOO_LONG, f"an array has more than {limits.max_array} items"
            )
        stack.extend((member, depth + 1) for member in members if type(member) in (dict, list))
    return Passed(value)


def load_credential(decoded: Passed[Any] | Failed) -> Passed[Loaded] | Failed:
    """Check (0) of a decoded credential: a foreign issuer's by its own rules, else Tongban's."""
    if isinstance(decoded, Failed):
        return decoded
    if foreign.is_foreign(decoded.value):
        return guarded(lambda: Passed(foreign.parse_foreign(decoded.value)), "credential")
    # decoded.value is within CREDENTIAL_LIMITS already: parsed, not checked again.
    return guarded(lambda: _parsed_credential(decoded.value), "credential")


def credential_checks(
    config: VerifierConfig,
    parsed: Loaded,
    position: int,
    chain: ChainState,
    retrieved: dict[str, Retrieved],
    now: int,
) -> Checked:
    """One credential's checks, and its status lists checked and reported.

    A Tongban credential's lists are checked against its registry key and compared
    with the chain; a foreign credential's decide its check (4).
    """
    if isinstance(parsed, ForeignCredential):
        return _foreign_checks(parsed, position, retrieved, now)
    results, found = _tongban_checks(config, parsed, chain, now)
    verify = tongban_list_verifier(parsed.issuer, config.chain_id, chain)
    lists = check_entries(parsed.document, position, retrieved, verify, found)
    return results, found, lists


def _foreign_checks(
    parsed: ForeignCredential, position: int, retrieved: dict[str, Retrieved], now: int
) -> Checked:
    """Checks (1)-(5) and (7) of a foreign credential (``credentials.verify.foreign``)."""
    results: dict[Check, CheckResult] = {Check.PARSE: valid(Check.PARSE)}
    run_check(results, Check.ISSUER_PROOF, lambda: foreign.issuer_proofs(parsed, now))
    results[Check.ISSUER_KEY] = from_outcome(Check.ISSUER_KEY, foreign.registry_membership())
    results[Check.ANCHOR] = from_outcome(Check.ANCHOR, foreign.anchor_not_applicable())
    verify = foreign_list_verifier(parsed.issuer, now)
    lists = check_entries(parsed.document, position, retrieved, verify)
    results[Check.STATUS] = from_outcome(Check.STATUS, foreign_status(parsed.document, lists))
    run_check(
        results,
        Check.VALIDITY,
        lambda: checks.validity_window(
            parsed.model.valid_from_ms, parsed.model.valid_until_ms, now
        ),
    )
    results[Check.DISCLOSURES] = from_outcome(
        Check.DISCLOSURES, foreign.disclosures_not_applicable()
    )
    return results, None, lists


def _tongban_checks(
    config: VerifierConfig, parsed: ParsedCredential, chain: ChainState, now: int
) -> tuple[dict[Check, CheckResult], StatusFinding | None]:
    """Checks (1)-(5) and (7) of one parsed credential, and the status (4) read.

    They run in the order 1, 3, 2, 4, 5, 7: check (2) judges the key that (1)
    established at the block time of the anchor that (3) found, so it runs after both.
    """
    results: dict[Check, CheckResult] = {Check.PARSE: valid(Check.PARSE)}
    # (1) issuer proof: the signature, by a registered key of the issuer
    key = run_check(results, Check.ISSUER_PROOF, lambda: checks.issuer_proof(parsed, config, chain))
    # (3) anchor inclusion: also gives (2) the anchor block time
    anchor = run_check(
        results, Check.ANCHOR, lambda: checks.anchor_inclusion(parsed, config, chain)
    )
    # (2) issuer registered, key valid at the anchor block time
    run_check(
        results,
        Check.ISSUER_KEY,
        lambda: checks.issuer_key_validity(parsed, config, chain, key, anchor),
    )
    # (4) status: read (an unreadable index is ERROR), then judged
    found = run_check(results, Check.STATUS, lambda: checks.status_on_chain(parsed, config, chain))
    if found is not None:
        results[Check.STATUS] = from_outcome(Check.STATUS, checks.status(found))
    # (5) validity period
    run_check(results, Check.VALIDITY, lambda: checks.validity_period(parsed, now))
    # (7) disclosures
    run_check(results, Check.DISCLOSURES, lambda: checks.disclosures(parsed))
    return results, found


def credential_result(parsed: Loaded, checked: Checked, height: int) -> VerificationResult:
    """The result of a credential verified alone, from its checks at index ``height``."""
    results, found, lists = checked
    # (6) presentation
    results[Check.PRESENTATION] = skipped(
        Check.PRESENTATION, Reason.NOT_APPLICABLE, "a credential alone has no holder proof"
    )
    digest = parsed.digest.hex()
    statuses = [] if found is None else [found]
    return finish(
        "credential",
        results,
        height,
        [digest],
        "credential:" + digest,
        parsed.holder,
        statuses,
        lists=lists,
        unregistered=only_unregistered([results]),
        certificates=reported([parsed.document if isinstance(parsed, ParsedCredential) else None]),
    )

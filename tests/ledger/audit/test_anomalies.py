"""The anomaly rules (ledger.audit.anomalies) over constructed per-day counts."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from ledger.audit.anomalies import (
    DEFAULT_RULES,
    AnomalyRules,
    DayCount,
    NewVerifier,
    Verifier,
    new_verifiers,
    spikes,
    unusual_purposes,
)

V = Verifier("verifier-a", "440000")
W = Verifier("verifier-b", "320000")
DAY = date(2026, 11, 30)
ENROL = "cross-province.enrolment"
TAX = "tax.review"


def steady(
    verifier: Verifier, per_day: int, days: int, *, purpose: str = ENROL, end: date = DAY
) -> list[DayCount]:
    """``per_day`` accesses on each of the ``days`` days before ``end``."""
    return [
        DayCount(end - timedelta(days=n), verifier, purpose, per_day) for n in range(1, days + 1)
    ]


def test_a_day_far_above_the_trailing_median_is_a_spike() -> None:
    counts = [*steady(V, 5, 28), DayCount(DAY, V, ENROL, 16)]
    [spike] = spikes(counts, DAY, DAY)
    assert (spike.day, spike.verifier, spike.count) == (DAY, V, 16)
    assert spike.trailing_median == 5.0
    assert spike.history_days == 28


def test_exactly_factor_times_the_median_is_not_a_spike() -> None:
    counts = [*steady(V, 5, 28), DayCount(DAY, V, ENROL, 15)]
    assert spikes(counts, DAY, DAY) == []


def test_purposes_add_up_to_the_verifiers_day_total() -> None:
    counts = [*steady(V, 5, 28), DayCount(DAY, V, ENROL, 8), DayCount(DAY, V, TAX, 8)]
    assert [s.count for s in spikes(counts, DAY, DAY)] == [16]


def test_one_access_is_never_a_spike_even_after_silence() -> None:
    counts = [DayCount(DAY - timedelta(days=20), V, ENROL, 1), DayCount(DAY, V, ENROL, 1)]
    assert spikes(counts, DAY, DAY) == []


def test_below_the_minimum_count_is_no_spike_whatever_the_ratio() -> None:
    counts = [*steady(V, 1, 28), DayCount(DAY, V, ENROL, 9)]
    assert spikes(counts, DAY, DAY) == []


def test_days_without_access_count_as_zero_in_the_median() -> None:
    # Ten busy days out of the 28: the median is 0, so ten accesses spike.
    counts = [DayCount(DAY - timedelta(days=n), V, ENROL, 50) for n in range(19, 29)] + [
        DayCount(DAY, V, ENROL, 10)
    ]
    [spike] = spikes(counts, DAY, DAY)
    assert spike.trailing_median == 0.0


def test_a_new_verifier_is_not_judged_for_spikes_until_it_has_history() -> None:
    short = [*steady(W, 1, 6), DayCount(DAY, W, ENROL, 500)]
    assert spikes(short, DAY, DAY) == []
    week = [*steady(W, 1, 7), DayCount(DAY, W, ENROL, 500)]
    assert [s.history_days for s in spikes(week, DAY, DAY)] == [7]


def test_history_older_than_the_window_does_not_count() -> None:
    old = steady(V, 100, 30, end=DAY - timedelta(days=28))
    assert spikes([*old, DayCount(DAY, V, ENROL, 50)], DAY, DAY) == []


def test_spikes_over_a_range_are_each_judged_against_their_own_window() -> None:
    counts = [*steady(V, 5, 28, end=DAY - timedelta(days=1)), DayCount(DAY, V, ENROL, 40)]
    counts.append(DayCount(DAY - timedelta(days=1), V, ENROL, 40))
    found = spikes(counts, DAY - timedelta(days=1), DAY)
    assert [(s.day, s.count) for s in found] == [(DAY - timedelta(days=1), 40), (DAY, 40)]


def test_an_empty_window_gives_no_flags() -> None:
    assert spikes([], DAY, DAY) == []
    assert unusual_purposes([], DAY, DAY) == []
    assert new_verifiers([], DAY, DAY) == []


def test_a_purpose_never_used_in_the_window_is_unusual() -> None:
    counts = [*steady(V, 5, 28), DayCount(DAY, V, TAX, 1)]
    [found] = unusual_purposes(counts, DAY, DAY)
    assert (found.purpose, found.count, found.trailing_count, found.trailing_total) == (
        TAX,
        1,
        0,
        140,
    )
    assert found.never_before


def test_a_rare_purpose_is_unusual_and_a_regular_one_is_not() -> None:
    # 140 enrolments and 6 tax reviews in the window: 6 < 5% of 146 (7.3).
    counts = [*steady(V, 5, 28), *steady(V, 1, 6, purpose=TAX)]
    counts += [DayCount(DAY, V, TAX, 1), DayCount(DAY, V, ENROL, 5)]
    [found] = unusual_purposes(counts, DAY, DAY)
    assert (found.purpose, found.trailing_count, found.never_before) == (TAX, 6, False)
    # 8 of 148 is over 5%: usual.
    more = [*steady(V, 5, 28), *steady(V, 1, 8, purpose=TAX), DayCount(DAY, V, TAX, 1)]
    assert unusual_purposes(more, DAY, DAY) == []


def test_a_new_verifier_is_listed_apart_and_none_of_its_purposes_is_unusual() -> None:
    counts = [*steady(V, 5, 28), DayCount(DAY, W, TAX, 3), DayCount(DAY, W, ENROL, 1)]
    assert unusual_purposes(counts, DAY, DAY) == []
    assert new_verifiers(counts, DAY, DAY) == [NewVerifier(DAY, W, 4)]


def test_a_verifier_back_after_the_whole_window_is_new_again() -> None:
    counts = [DayCount(DAY - timedelta(days=29), V, ENROL, 5), DayCount(DAY, V, ENROL, 5)]
    assert new_verifiers(counts, DAY, DAY) == [NewVerifier(DAY, V, 5)]
    within = [DayCount(DAY - timedelta(days=28), V, ENROL, 5), DayCount(DAY, V, ENROL, 5)]
    assert new_verifiers(within, DAY, DAY) == []


def test_the_results_are_in_a_fixed_order_whatever_the_input_order() -> None:
    counts = [
        *steady(V, 1, 28),
        *steady(W, 1, 28),
        DayCount(DAY, W, "b.purpose", 1),
        DayCount(DAY, V, "a.purpose", 1),
        DayCount(DAY, W, "a.purpose", 1),
    ]
    forward = unusual_purposes(counts, DAY, DAY)
    backward = unusual_purposes(list(reversed(counts)), DAY, DAY)
    assert forward == backward
    assert [(u.verifier.actor, u.purpose) for u in forward] == [
        ("verifier-a", "a.purpose"),
        ("verifier-b", "a.purpose"),
        ("verifier-b", "b.purpose"),
    ]


def test_the_default_rules_are_the_documented_ones() -> None:
    assert (
        DEFAULT_RULES.window,
        DEFAULT_RULES.factor,
        DEFAULT_RULES.min_count,
        DEFAULT_RULES.min_history,
        DEFAULT_RULES.share,
    ) == (28, 3.0, 10, 7, 0.05)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": 0},
        {"min_history": 0},
        {"window": 7, "min_history": 8},
        {"factor": 0},
        {"min_count": 0},
        {"share": 0},
        {"share": 1.5},
    ],
)
def test_rules_that_mean_nothing_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|required"):
        AnomalyRules(**kwargs)  # type: ignore[arg-type]


def _naive_unusual(counts: list[DayCount], first: date, last: date) -> list[tuple[object, ...]]:
    """The unusual-purpose rule read literally: re-sum the window for every day."""
    rules = DEFAULT_RULES
    found: list[tuple[object, ...]] = []
    day = first
    while day <= last:
        start = day - timedelta(days=rules.window)
        for verifier in sorted({c.verifier for c in counts}):
            today: dict[str, int] = {}
            window: dict[str, int] = {}
            for c in counts:
                if c.count == 0:
                    continue  # no access: no purpose used that day
                if c.verifier == verifier and c.day == day:
                    today[c.purpose] = today.get(c.purpose, 0) + c.count
                if c.verifier == verifier and start <= c.day < day:
                    window[c.purpose] = window.get(c.purpose, 0) + c.count
            total = sum(window.values())
            for purpose, count in sorted(today.items()):
                if total and window.get(purpose, 0) < rules.share * total:
                    found.append((day, verifier, purpose, count, window.get(purpose, 0), total))
        day += timedelta(days=1)
    return found


def test_the_sliding_window_gives_what_the_rule_says_on_random_logs() -> None:
    rng = random.Random(19)
    purposes = [ENROL, TAX, "medical.treatment", "social.security"]
    for _ in range(20):
        counts = [
            DayCount(DAY - timedelta(days=rng.randrange(60)), rng.choice([V, W]), p, n)
            for p in purposes
            for n in [rng.choice([0, 1, 1, 2, 5, 30])]
            for _ in range(rng.randrange(1, 15))
        ]
        first = DAY - timedelta(days=20)
        got = [
            (u.day, u.verifier, u.purpose, u.count, u.trailing_count, u.trailing_total)
            for u in unusual_purposes(counts, first, DAY)
        ]
        assert got == _naive_unusual(counts, first, DAY)

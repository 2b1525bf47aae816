"""The anomaly report (``api.province.audit_views.anomaly_report``) as the page shows it.

One chart (accesses per day, spike days flagged) with its numbers as a table,
and the report's rows in words: accesses per verifier per purpose per day,
spikes, unusual purposes, new verifiers. Verifiers are client ids with their
organisation (no person is named in the log).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from api.portal.console.charts import bar_chart
from api.portal.console.words import words
from api.province.audit_views import AnomalyReport

__all__ = ["anomaly_values"]


def anomaly_values(
    report: AnomalyReport, lang: str, purpose_words: Callable[[str | None, str], str]
) -> dict[str, Any]:
    """The template's values for ``report`` in ``lang``."""
    w = words(lang)
    totals: dict[str, int] = {}
    day = report.first
    while day <= report.last:
        totals[day.isoformat()] = 0
        day += timedelta(days=1)
    for count in report.days:
        totals[count.day.isoformat()] = totals.get(count.day.isoformat(), 0) + count.count
    spike_days = frozenset(s.day.isoformat() for s in report.spikes)
    chart = bar_chart(
        "chart-days",
        w["chart_days"],
        w["chart_days_desc"],
        [(d, float(n)) for d, n in totals.items()],
        spike_days,
    )
    return {
        "chart": chart,
        "days": [
            {
                "day": c.day.isoformat(),
                "verifier": f"{c.verifier.actor} · {c.verifier.org}",
                "purpose": c.purpose,
                "purpose_words": purpose_words(c.purpose, lang),
                "count": c.count,
            }
            for c in report.days
        ],
        "spikes": [
            {
                "day": s.day.isoformat(),
                "verifier": f"{s.verifier.actor} · {s.verifier.org}",
                "count": s.count,
                "median": s.trailing_median,
            }
            for s in report.spikes
        ],
        "unusual": [
            {
                "day": u.day.isoformat(),
                "verifier": f"{u.verifier.actor} · {u.verifier.org}",
                "purpose": u.purpose,
                "purpose_words": purpose_words(u.purpose, lang),
                "count": u.count,
                "share": f"{u.trailing_count} / {u.trailing_total}",
                "never_before": u.never_before,
            }
            for u in report.unusual_purposes
        ],
        "new_verifiers": [
            {
                "day": n.day.isoformat(),
                "verifier": f"{n.verifier.actor} · {n.verifier.org}",
                "count": n.count,
            }
            for n in report.new_verifiers
        ],
    }

"""``province_overview``'s answer as the operator console shows it: figures, tables, charts.

The hourly series become bar charts (totals per hour, the keys in the table
beside them); the anchoring latency is a two-bar chart (median and p95); the
audit events of the last 48 hours are totalled per purpose. Every chart's
numbers are also given as a table (``templates/console/_chart.html``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from api.portal.console.charts import BarChart, bar_chart
from api.portal.console.words import words
from api.province.overview import HourCount, ProvinceOverview

__all__ = ["overview_values"]


def _hour(hour_ms: int) -> str:
    return datetime.fromtimestamp(hour_ms / 1000, UTC).strftime("%m-%d %H:00")


def _per_hour(key: str, title: str, desc: str, series: list[HourCount]) -> BarChart:
    totals: dict[int, int] = defaultdict(int)
    for count in series:
        totals[count.hour_ms] += count.count
    points = [(_hour(h), float(totals[h])) for h in sorted(totals)]
    return bar_chart(key, title, desc, points)


def overview_values(view: ProvinceOverview, lang: str) -> dict[str, Any]:
    """The template's values for ``view`` in ``lang``."""
    w = words(lang)
    charts = [
        _per_hour("chart-issued", w["chart_issued"], w["chart_issued_desc"], view.issued_per_hour),
        _per_hour(
            "chart-verified", w["chart_verified"], w["chart_verified_desc"], view.verified_per_hour
        ),
    ]
    if view.batches is not None:
        latency = view.batches.latency
        charts.append(
            bar_chart(
                "chart-latency",
                w["chart_latency"],
                w["chart_latency_desc"],
                [
                    (w["latency_p50"], float(latency.p50_seconds or 0.0)),
                    (w["latency_p95"], float(latency.p95_seconds or 0.0)),
                ],
            )
        )
    purposes: dict[str, int] = defaultdict(int)
    for count in view.audit_per_purpose_per_hour:
        purposes[count.key] += count.count
    charts.append(
        bar_chart(
            "chart-purposes",
            w["chart_purposes"],
            w["chart_purposes_desc"],
            [(p, float(n)) for p, n in sorted(purposes.items())],
        )
    )
    return {"view": view, "charts": charts}

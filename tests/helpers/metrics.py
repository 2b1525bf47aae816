"""Reading a Prometheus exposition in tests: every series by a label-order-free name."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def series_name(name: str, **labels: str) -> str:
    """``name{a="x",b="y"}`` with the labels sorted (``name`` alone without labels)."""
    if not labels:
        return name
    inner = ",".join(f'{key}="{labels[key]}"' for key in sorted(labels))
    return f"{name}{{{inner}}}"


def parse_exposition(text: str) -> dict[str, float]:
    """Every sample of ``text`` by ``series_name``."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[series_name(sample.name, **sample.labels)] = float(sample.value)
    return found


def metric_types(text: str) -> dict[str, str]:
    """Each metric family's type (``counter``, ``gauge``, ``histogram``) by family name."""
    return {family.name: family.type for family in text_string_to_metric_families(text)}


def monotonic_series(text: str) -> dict[str, float]:
    """The samples that must never go down: counters, histogram buckets, counts and sums.

    (A histogram's ``_sum`` only grows while nothing negative is observed: durations and
    sizes never are.)
    """
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.type not in ("counter", "histogram"):
            continue
        for sample in family.samples:
            found[series_name(sample.name, **sample.labels)] = float(sample.value)
    return found

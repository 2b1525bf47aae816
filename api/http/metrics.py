"""Prometheus metrics in the text exposition format (0.0.4), written by hand.

Counters and histograms here count what *this process* served (per worker:
sum them over workers in Prometheus). Gauges read from the store at scrape
time (log size, outbox lag) are the same whichever worker answers.

Hooks for the credential routes: ``Metrics.issued``, ``Metrics.verified`` and
``Metrics.anchored`` are counters they increment (``metrics.issued.inc()``);
``Metrics.verification_seconds`` times verifications by kind.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["CONTENT_TYPE", "Counter", "Histogram", "Metrics", "Sample"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Media type of the exposition format."""

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the request-duration histogram."""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Counter:
    """A monotonically growing count, optionally split by labels."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        """A counter called ``name`` with ``labels``."""
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self._lock = threading.Lock()
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        """Add ``amount`` (default 1) to the series named by ``labels``."""
        if len(labels) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}")
        if amount < 0:
            raise ValueError("counters only grow")
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        """The current value of one series (0 if never incremented)."""
        with self._lock:
            return self._values.get(labels, 0.0)

    def render(self) -> list[str]:
        """Exposition lines."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            items = sorted(self._values.items())
        if not items and not self.label_names:
            items = [((), 0.0)]
        lines += [f"{self.name}{_labels(self.label_names, k)} {_number(v)}" for k, v in items]
        return lines


class Histogram:
    """Observations counted into cumulative buckets, with their sum and count."""

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = DURATION_BUCKETS,
    ) -> None:
        """A histogram called ``name`` with upper bounds ``buckets``."""
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self.buckets = tuple(sorted(buckets))
        self._lock = threading.Lock()
        self._series: dict[tuple[str, ...], tuple[list[int], float, int]] = {}

    def observe(self, value: float, *labels: str) -> None:
        """Record one observation in the series named by ``labels``."""
        with self._lock:
            counts, total, count = self._series.get(labels, ([0] * len(self.buckets), 0.0, 0))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
            self._series[labels] = (counts, total + value, count + 1)

    def render(self) -> list[str]:
        """Exposition lines."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self._lock:
            items = sorted((k, (list(c), s, n)) for k, (c, s, n) in self._series.items())
        for key, (counts, total, count) in items:
            for bound, bucket in zip(self.buckets, counts, strict=True):
                le = f'le="{_number(bound)}"'
                lines.append(f"{self.name}_bucket{_labels(self.label_names, key, le)} {bucket}")
            inf = 'le="+Inf"'
            lines.append(f"{self.name}_bucket{_labels(self.label_names, key, inf)} {count}")
            lines.append(f"{self.name}_sum{_labels(self.label_names, key)} {_number(total)}")
            lines.append(f"{self.name}_count{_labels(self.label_names, key)} {count}")
        return lines


@dataclass(frozen=True)
class Sample:
    """A value read at scrape time (from the store), rendered as a gauge or counter."""

    name: str
    help: str
    value: float
    kind: str = "gauge"

    def render(self) -> list[str]:
        """Exposition lines."""
        return [
            f"# HELP {self.name} {self.help}",
            f"# TYPE {self.name} {self.kind}",
            f"{self.name} {_number(self.value)}",
        ]


class Metrics:
    """This process's metrics; one instance per ``ProvinceContext``."""

    def __init__(self) -> None:
        """Every series starts at zero."""
        self.http_requests = Counter(
            "tongban_http_requests_total",
            "HTTP requests served, by route template and status.",
            ("route", "status"),
        )
        self.http_duration = Histogram(
            "tongban_http_request_duration_seconds",
            "Time to serve an HTTP request, by route template.",
            ("route",),
        )
        self.denied = Counter(
            "tongban_api_denied_total",
            "Requests refused by authentication or authorization, by reason.",
            ("reason",),
        )
        self.rate_limited = Counter(
            "tongban_rate_limited_total",
            "Requests refused by a rate limit, by bucket.",
            ("bucket",),
        )
        self.issued = Counter("tongban_credentials_issued_total", "Credentials issued.")
        self.verified = Counter(
            "tongban_credentials_verified_total", "Credentials and presentations verified."
        )
        self.anchored = Counter("tongban_anchored_total", "Batch roots and checkpoints anchored.")
        self.verification_seconds = Histogram(
            "tongban_verification_duration_seconds",
            "Time to verify a credential or presentation, access event included, by kind.",
            ("kind",),
        )

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        """Count one served request."""
        self.http_requests.inc(route, str(status))
        self.http_duration.observe(seconds, route)

    def render(self, samples: Iterable[Sample] = ()) -> str:
        """The whole exposition: store samples first, then this process's series."""
        lines: list[str] = []
        for sample in samples:
            lines += sample.render()
        for metric in (
            self.http_requests,
            self.http_duration,
            self.denied,
            self.rate_limited,
            self.issued,
            self.verified,
            self.anchored,
            self.verification_seconds,
        ):
            lines += metric.render()
        return "\n".join(lines) + "\n"

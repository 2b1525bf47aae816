"""Prometheus metrics (``prometheus_client``), correct across the processes of one service.

Three kinds of series:

- **per-process counters and histograms**: ``Metrics`` (one per API context:
  HTTP requests, denials, rate limiting, credentials issued and verified,
  verification and audit-append latency) and ``WriterMetrics`` (the writer:
  duty runs, failures and durations, anchors, batch sizes, the chain head);
- **store samples** (``Sample``), read from the store at scrape time (audit
  log size, outbox lag, index height, signing keys): the same whichever
  process answers.

A served province (``tongban serve``) is a supervisor (the writer) and N HTTP
workers, and a scrape reaches one worker at random. So every process of the
service keeps its series in files of its own under one directory
(``share_between_processes``, prometheus_client's multiprocess mode: one
memory-mapped file per process and metric type), and whichever worker answers
``/metrics`` sums the files of all of them. A restarted worker leaves its
files behind, so a sum never goes down; the supervisor empties the directory
at start (a restarted service starts its counters at zero, which Prometheus
reads as a counter reset). Without a shared directory (tests, an app served in
one process) a ``Metrics`` renders its own series.

Hooks for the routes: ``Metrics.issued`` and ``Metrics.verified`` are counters
(``metrics.issued.inc()``); ``Metrics.verification_seconds`` times
verifications by kind. Labels are bounded: route templates, never raw paths.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest, values
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from credentials.issuance.records import BATCH_KIND
from ledger.audit.anchoring import OUTBOX_KIND as CHECKPOINT_KIND
from ledger.audit.events import Caller, EventInput
from ledger.audit.log import AppendResult, AuditLog, Guard

__all__ = [
    "ANCHOR_KINDS",
    "BATCH_SIZE_BUCKETS",
    "CONTENT_TYPE",
    "DURATION_BUCKETS",
    "MULTIPROCESS_ENV",
    "Counter",
    "Gauge",
    "Histogram",
    "Metrics",
    "Sample",
    "WriterMetrics",
    "observe_audit_appends",
    "share_between_processes",
    "shared_directory",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Media type of the exposition format."""

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's variable naming the shared directory (children inherit it)."""

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the duration histograms."""

BATCH_SIZE_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 10_000, 100_000)
"""Upper bounds (credentials) of the batch-size histogram."""

# Counters of a multiprocess directory have no _created series; without this an
# in-process registry would add them, and the two renderings would differ.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


def share_between_processes(directory: Path) -> None:
    """Keep this process's series in ``directory``, shared with the service's other processes.

    Call it before any ``Metrics`` or ``WriterMetrics`` of the process is made:
    series made earlier stay private. prometheus_client decides this when it is
    imported, from ``PROMETHEUS_MULTIPROC_DIR``; setting the variable here and
    choosing the file-backed value class does the same later, and processes
    started from this one inherit the variable. One ``Metrics`` per process then:
    two would write the same series of the same file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROCESS_ENV] = str(directory)
    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def shared_directory() -> Path | None:
    """The directory this process shares its series through, or None."""
    if not getattr(values.ValueClass, "_multiprocess", False):
        return None
    name = os.environ.get(MULTIPROCESS_ENV)
    return Path(name) if name else None


def _find(metric: Collector, sample_name: str, labels: Mapping[str, str]) -> float:
    for family in metric.collect():
        for sample in family.samples:
            if sample.name == sample_name and sample.labels == labels:
                return float(sample.value)
    return 0.0


class Counter:
    """A monotonically growing count, optionally split by labels."""

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        """A counter called ``name`` (ending in ``_total``) with ``labels``."""
        self.name = name
        self.label_names = tuple(labels)
        self._metric = prometheus_client.Counter(
            name.removesuffix("_total"), help_text, self.label_names, registry=registry
        )

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        """Add ``amount`` (default 1, never negative) to the series named by ``labels``."""
        if self.label_names:
            self._metric.labels(*labels).inc(amount)
        elif labels:
            raise ValueError(f"{self.name} takes no labels")
        else:
            self._metric.inc(amount)

    def touch(self, *labels: str) -> None:
        """Show the series named by ``labels`` at zero before its first increment."""
        self._metric.labels(*labels)

    def value(self, *labels: str) -> float:
        """This process's value of one series (0 if never incremented)."""
        return _find(self._metric, self.name, dict(zip(self.label_names, labels, strict=True)))


class Histogram:
    """Observations counted into cumulative buckets, with their sum and count."""

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = DURATION_BUCKETS,
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        """A histogram called ``name`` with upper bounds ``buckets``."""
        self.name = name
        self.label_names = tuple(labels)
        self._metric = prometheus_client.Histogram(
            name, help_text, self.label_names, registry=registry, buckets=tuple(buckets)
        )

    def observe(self, value: float, *labels: str) -> None:
        """Record one observation in the series named by ``labels``."""
        if self.label_names:
            self._metric.labels(*labels).observe(value)
        elif labels:
            raise ValueError(f"{self.name} takes no labels")
        else:
            self._metric.observe(value)

    def count(self, *labels: str) -> float:
        """How many observations this process made in one series."""
        wanted = dict(zip(self.label_names, labels, strict=True))
        return _find(self._metric, self.name + "_count", wanted)


class Gauge:
    """A value set now and then; across processes, the one set last wins."""

    def __init__(
        self, name: str, help_text: str, *, registry: CollectorRegistry | None = None
    ) -> None:
        """A gauge called ``name`` (no labels)."""
        self.name = name
        self._metric = prometheus_client.Gauge(
            name, help_text, registry=registry, multiprocess_mode="mostrecent"
        )

    def set(self, value: float) -> None:
        """Set the value."""
        self._metric.set(value)

    def value(self) -> float:
        """This process's value."""
        return _find(self._metric, self.name, {})


@dataclass(frozen=True)
class Sample:
    """A value read at scrape time (from the store), rendered as a gauge or counter."""

    name: str
    help: str
    value: float
    kind: str = "gauge"
    labels: Mapping[str, str] = field(default_factory=dict)


class _Samples:
    """The store samples as metric families (samples of one name share a family)."""

    def __init__(self, samples: Iterable[Sample]) -> None:
        self.samples = list(samples)

    def collect(self) -> Iterator[Metric]:
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
        for sample in self.samples:
            family = families.get(sample.name)
            names = list(sample.labels)
            if family is None:
                kind = CounterMetricFamily if sample.kind == "counter" else GaugeMetricFamily
                family = families[sample.name] = kind(sample.name, sample.help, labels=names)
            family.add_metric([sample.labels[n] for n in names], sample.value)
        yield from families.values()


class _Exposition:
    """Several collectors rendered as one exposition."""

    def __init__(self, *parts: Collector) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        for part in self.parts:
            yield from part.collect()


def _render(own: CollectorRegistry, samples: Iterable[Sample]) -> str:
    directory = shared_directory()
    series: Collector = own
    if directory is not None:
        series = MultiProcessCollector(None, path=str(directory))  # type: ignore[no-untyped-call]
    return generate_latest(_Exposition(_Samples(samples), series)).decode("utf-8")


class Metrics:
    """An API process's metrics; one per ``ProvinceContext`` (one per process when shared)."""

    def __init__(self) -> None:
        """Every series starts at zero."""
        self.registry = CollectorRegistry(auto_describe=False)
        registry = self.registry
        self.http_requests = Counter(
            "tongban_http_requests_total",
            "HTTP requests served, by route template and status.",
            ("route", "status"),
            registry=registry,
        )
        self.http_duration = Histogram(
            "tongban_http_request_duration_seconds",
            "Time to serve an HTTP request, by route template.",
            ("route",),
            registry=registry,
        )
        self.denied = Counter(
            "tongban_api_denied_total",
            "Requests refused by authentication or authorization, by reason.",
            ("reason",),
            registry=registry,
        )
        self.rate_limited = Counter(
            "tongban_rate_limited_total",
            "Requests refused by a rate limit, by bucket.",
            ("bucket",),
            registry=registry,
        )
        self.issued = Counter(
            "tongban_credentials_issued_total", "Credentials issued.", registry=registry
        )
        self.verified = Counter(
            "tongban_credentials_verified_total",
            "Credentials and presentations verified.",
            registry=registry,
        )
        self.verification_seconds = Histogram(
            "tongban_verification_duration_seconds",
            "Time to verify a credential or presentation, access event included, by kind.",
            ("kind",),
            registry=registry,
        )
        self.audit_append_seconds = Histogram(
            "tongban_audit_append_duration_seconds",
            "Time from handing events to the audit log until they are durable (group commit).",
            registry=registry,
        )

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        """Count one served request."""
        self.http_requests.inc(route, str(status))
        self.http_duration.observe(seconds, route)

    def render(self, samples: Iterable[Sample] = ()) -> str:
        """The whole exposition: ``samples``, then the series of every process of the service."""
        return _render(self.registry, samples)


ANCHOR_KINDS = (BATCH_KIND, CHECKPOINT_KIND)
"""Outbox kinds that anchor a root on chain (the ``kind`` label of ``tongban_anchored_total``)."""


class WriterMetrics:
    """The writer's metrics (in the supervisor process)."""

    def __init__(self) -> None:
        """Every series starts at zero; both anchor kinds show at zero."""
        self.registry = CollectorRegistry(auto_describe=False)
        registry = self.registry
        self.duty_runs = Counter(
            "tongban_writer_duty_runs_total",
            "Writer duty runs, by duty.",
            ("duty",),
            registry=registry,
        )
        self.duty_failures = Counter(
            "tongban_writer_duty_failures_total",
            "Writer duty runs that failed, by duty and error class.",
            ("duty", "error"),
            registry=registry,
        )
        self.duty_seconds = Histogram(
            "tongban_writer_duty_duration_seconds",
            "Time one writer duty run took, by duty.",
            ("duty",),
            registry=registry,
        )
        self.anchored = Counter(
            "tongban_anchored_total",
            "Roots anchored on chain (final), by kind: credential batches, audit checkpoints.",
            ("kind",),
            registry=registry,
        )
        for kind in ANCHOR_KINDS:
            self.anchored.touch(kind)
        self.batch_size = Histogram(
            "tongban_credential_batch_size",
            "Credentials per sealed batch.",
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        self.chain_height = Gauge(
            "tongban_chain_height",
            "The chain's latest block, as the writer last saw it.",
            registry=registry,
        )

    def render(self, samples: Iterable[Sample] = ()) -> str:
        """The exposition (this process's series, or every process's when shared)."""
        return _render(self.registry, samples)


_TIMED = "_tongban_timed_appends"


def observe_audit_appends(audit_log: AuditLog, histogram: Histogram) -> None:
    """Time every append to ``audit_log`` (``submit``, which every append path goes through).

    Observed when the events are durable (or failed); once per log, however often called.
    """
    if getattr(audit_log, _TIMED, False):
        return
    submit = audit_log.submit

    def timed(
        caller: Caller, events: Sequence[EventInput], *, guard: Guard | None = None
    ) -> Future[list[AppendResult]]:
        started = time.perf_counter()
        future = submit(caller, events, guard=guard)
        future.add_done_callback(lambda _: histogram.observe(time.perf_counter() - started))
        return future

    audit_log.submit = timed  # type: ignore[method-assign]
    setattr(audit_log, _TIMED, True)

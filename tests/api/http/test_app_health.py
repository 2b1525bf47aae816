"""``/healthz``, ``/readyz``, ``/metrics`` and the access log, over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from api.http.metrics import Counter, Histogram, Metrics, Sample
from api.province.clients import Role
from ledger.chain import outbox
from ledger.chain.errors import ChainUnavailableError
from ledger.store.lease import Leases
from tests.helpers.metrics import metric_types, parse_exposition, series_name
from tests.helpers.server import PURPOSE, Province, event_body, running_province

ID_NUMBER = "110101199003071234"


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Province]:
    with running_province(tmp_path) as served:
        yield served


class _Chain:
    def __init__(self, fail: bool) -> None:
        self.fail = fail

    def block_number(self) -> int:
        if self.fail:
            raise ChainUnavailableError("node down")
        return 42


def test_healthz_answers_while_the_process_lives(province: Province) -> None:
    reply = province.request("GET", "/healthz")
    assert reply.status == 200
    assert reply.json() == {"status": "ok"}
    assert reply.header("X-Request-Id")
    assert reply.header("Cache-Control") == "no-store"


def test_readyz_needs_a_live_writer_lease(province: Province) -> None:
    reply = province.request("GET", "/readyz")
    assert reply.status == 503
    document = reply.json()
    assert document["ready"] is False
    assert document["checks"]["store"]["ok"] is True
    assert document["checks"]["writerLease"]["ok"] is False
    assert document["checks"]["chain"] == {
        "ok": True,
        "detail": "",
        "configured": False,
        "blockNumber": None,
    }

    now = province.context.clock()
    lease = Leases(province.db).acquire("writer", "writer-1", ttl_ms=60_000, now_ms=now)
    assert lease is not None
    reply = province.request("GET", "/readyz")
    assert reply.status == 200, reply.text
    checks = reply.json()["checks"]
    assert checks["writerLease"]["holder"] == "writer-1"
    assert 0 < checks["writerLease"]["expiresInMs"] <= 60_000

    Leases(province.db).release(lease)  # expires it
    assert province.request("GET", "/readyz").status == 503


def test_readyz_fails_on_outbox_lag_and_an_unreachable_chain(province: Province) -> None:
    now = province.context.clock()
    Leases(province.db).acquire("writer", "writer-1", ttl_ms=60_000, now_ms=now)
    province.context.chain = _Chain(fail=False)
    reply = province.request("GET", "/readyz")
    assert reply.status == 200
    assert reply.json()["checks"]["chain"]["blockNumber"] == 42

    province.context.chain = _Chain(fail=True)
    reply = province.request("GET", "/readyz")
    assert reply.status == 503
    chain = reply.json()["checks"]["chain"]
    assert chain["ok"] is False
    assert chain["detail"] == "chain error: ChainUnavailableError"

    province.context.chain = None
    old = now - 3_600_000
    with province.db.write() as tx:
        outbox.enqueue(tx, "test", "k1", "0x" + "00" * 20, b"", now_ms=old)
    reply = province.request("GET", "/readyz")
    assert reply.status == 503
    lag = reply.json()["checks"]["outbox"]
    assert lag["ok"] is False
    assert lag["openItems"] == 1
    assert lag["oldestAgeSeconds"] >= 3600


def test_metrics_count_requests_by_route_template_and_read_the_store(province: Province) -> None:
    for _ in range(3):
        assert province.request("GET", "/healthz").status == 200
    for n in range(2):
        reply = province.request("POST", "/audit/events", Role.VERIFIER, json_body=event_body(n))
        assert reply.status == 201
    province.request("GET", f"/nothing/{ID_NUMBER}")
    assert province.request("GET", "/credentials/issue").status == 405
    province.context.metrics.issued.inc(amount=5)

    reply = province.request("GET", "/metrics")
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    text = reply.text
    assert ID_NUMBER not in text
    values = parse_exposition(text)
    requests = "tongban_http_requests_total"
    assert values[series_name(requests, route="/healthz", status="200")] == 3
    assert values[series_name(requests, route="/audit/events", status="201")] == 2
    assert values[series_name(requests, route="unmatched", status="404")] == 1
    assert values[series_name(requests, route="/credentials/issue", status="405")] == 1
    duration = "tongban_http_request_duration_seconds"
    assert values[series_name(duration + "_count", route="/healthz")] == 3
    assert values[series_name(duration + "_bucket", route="/healthz", le="+Inf")] == 3
    assert values["tongban_audit_events_total"] == province.log.size() == 2
    # Each append is timed from hand-over to durable: two events, two observations.
    assert values["tongban_audit_append_duration_seconds_count"] == 2
    assert values["tongban_outbox_open_items"] == 0
    assert values["tongban_outbox_oldest_age_seconds"] == 0
    assert values["tongban_credentials_issued_total"] == 5
    assert values["tongban_credentials_verified_total"] == 0
    types = metric_types(text)
    assert types[duration] == "histogram"
    assert types["tongban_http_requests"] == "counter"
    assert types["tongban_outbox_open_items"] == "gauge"
    assert not any(name.endswith("_created") for name in values)


def test_the_access_log_names_route_templates_and_never_query_strings(
    province: Province, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tongban.access")
    reply = province.request(
        "GET", f"/audit/events/0?name={ID_NUMBER}", Role.AUDITOR, headers=PURPOSE
    )
    assert reply.status == 404
    records = [r for r in caplog.records if r.name == "tongban.access"]
    assert len(records) == 1
    record = records[0]
    assert record.route == "/audit/events/{index}"  # type: ignore[attr-defined]
    assert record.status == 404  # type: ignore[attr-defined]
    assert record.request_id == reply.header("X-Request-Id")  # type: ignore[attr-defined]
    assert record.client_id == "auditor-app"  # type: ignore[attr-defined]
    assert all(ID_NUMBER not in str(r.__dict__) for r in caplog.records)


def test_metric_rendering_follows_the_exposition_format() -> None:
    registry = CollectorRegistry()
    counter = Counter("t_total", "A test.", ("route",), registry=registry)
    counter.inc('/a"b\\c\n')
    counter.inc('/a"b\\c\n', amount=2)
    with pytest.raises(ValueError, match="label"):
        counter.inc()
    with pytest.raises(ValueError, match="non-negative"):
        counter.inc("x", amount=-1)
    assert counter.value('/a"b\\c\n') == 3
    assert counter.value("never") == 0
    histogram = Histogram("h_seconds", "A test.", (), buckets=(0.1, 1.0), registry=registry)
    histogram.observe(0.05)
    histogram.observe(0.5)
    histogram.observe(5.0)
    assert histogram.count() == 3
    text = generate_latest(registry).decode()
    assert 't_total{route="/a\\"b\\\\c\\n"} 3.0' in text.splitlines()
    assert [line for line in text.splitlines() if line.startswith("h_seconds")] == [
        'h_seconds_bucket{le="0.1"} 1.0',
        'h_seconds_bucket{le="1.0"} 2.0',
        'h_seconds_bucket{le="+Inf"} 3.0',
        "h_seconds_count 3.0",
        "h_seconds_sum 5.55",
    ]

    metrics = Metrics()
    text = metrics.render(
        [
            Sample("g", "A gauge.", 1.5),
            Sample("c_total", "A counter.", 7, "counter"),
            Sample("k", "Labelled.", 1, labels={"kind": "a"}),
            Sample("k", "Labelled.", 2, labels={"kind": "b"}),
        ]
    )
    assert text.startswith("# HELP g A gauge.\n# TYPE g gauge\ng 1.5\n")
    assert "# TYPE c_total counter\nc_total 7.0\n" in text
    assert 'k{kind="a"} 1.0\nk{kind="b"} 2.0\n' in text
    assert text.endswith("\n")
    assert parse_exposition(text)["tongban_credentials_issued_total"] == 0
    # Two contexts in one process count apart (tests serve several provinces at once).
    other = Metrics()
    metrics.issued.inc()
    assert (metrics.issued.value(), other.issued.value()) == (1, 0)

"""GET /metrics: what the workflows report through the sink, and the HTTP traffic."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from domain.governance import Role
from domain.observability import MetricsSink, NullMetrics
from gateway.metrics import PrometheusMetrics
from sandboxes.firm import Firm
from tests.graph_support import GraphClient, graph_client

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def graph(firm: Firm) -> AsyncIterator[GraphClient]:
    async with graph_client(firm) as client:
        yield client


async def scrape(graph: GraphClient) -> Samples:
    response = await graph.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_what_the_workflows_report_is_served(graph: GraphClient) -> None:
    sink: MetricsSink = graph.app.state.metrics
    assert isinstance(sink, PrometheusMetrics)
    sink.transition("closeWin", "ok")
    sink.transition("closeWin", "ok")
    sink.transition("closeWin", "policy_rejected")
    sink.saga_step("activation.create_psa_project", "done")
    sink.dead_lettered("activation")
    sink.dead_letter_replayed("activation", "succeeded")
    sink.business_exception("RATE_CARD_MISMATCH", Role.FINANCE)
    sink.idempotent_replay("postInvoice")
    samples = await scrape(graph)
    assert sample(samples, "eg_transitions_total", transition="closeWin", outcome="ok") == 2
    assert (
        sample(samples, "eg_transitions_total", transition="closeWin", outcome="policy_rejected")
        == 1
    )
    assert (
        sample(samples, "eg_saga_steps_total", step="activation.create_psa_project", outcome="done")
        == 1
    )
    assert sample(samples, "eg_dead_letters_total", operation="activation") == 1
    assert (
        sample(samples, "eg_dead_letter_replays_total", operation="activation", outcome="succeeded")
        == 1
    )
    assert (
        sample(
            samples,
            "eg_business_exceptions_total",
            code="RATE_CARD_MISMATCH",
            owner_role="FINANCE",
        )
        == 1
    )
    assert sample(samples, "eg_idempotent_replays_total", operation="postInvoice") == 1


async def test_http_requests_are_counted_by_route_template(graph: GraphClient) -> None:
    await graph.data("{ systems { name } }")
    await graph.http.get("/healthz")
    await graph.http.get("/healthz", headers={"Authorization": "Bearer nonsense"})
    await graph.http.get("/no/such/page/ENG-2026-00042")
    samples = await scrape(graph)
    requests = "eg_http_requests_total"
    assert sample(samples, requests, method="POST", route="/graphql", status="200") == 1
    assert sample(samples, requests, method="GET", route="/healthz", status="200") == 1
    assert sample(samples, requests, method="GET", route="/healthz", status="401") == 1
    assert sample(samples, requests, method="GET", route="<unmatched>", status="404") == 1
    assert not any("ENG-2026" in str(labels) for _, labels in samples)
    count = sample(
        samples, "eg_http_request_duration_seconds_count", method="POST", route="/graphql"
    )
    assert count == 1
    total = sample(samples, "eg_http_request_duration_seconds_sum", method="POST", route="/graphql")
    assert total is not None and total > 0


async def test_each_app_counts_in_its_own_registry(graph: GraphClient, firm: Firm) -> None:
    graph.app.state.metrics.dead_lettered("activation")
    async with graph_client(firm) as other:
        samples = await scrape(other)
    assert sample(samples, "eg_dead_letters_total", operation="activation") is None
    assert sample(await scrape(graph), "eg_dead_letters_total", operation="activation") == 1


async def test_openmetrics_is_served_when_asked_for(graph: GraphClient) -> None:
    response = await graph.http.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


async def test_metrics_can_be_turned_off(firm: Firm) -> None:
    async with graph_client(firm, metrics_enabled=False) as graph:
        assert (await graph.http.get("/metrics")).status_code == 404
        assert isinstance(graph.app.state.metrics, NullMetrics)
        graph.app.state.metrics.transition("closeWin", "ok")  # accepted, recorded nowhere

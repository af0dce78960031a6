"""``GET /metrics``: the exposition parses with Prometheus's own parser, labels stay bounded, and it is closed to
whoever is neither on the allow-list nor sends the token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chatserver.config import Settings

from ..conftest import RunningServer, run_server

EXPECTED = {
    "chatserver_deliveries",
    "chatserver_fanout_seconds",
    "chatserver_publishes",
    "chatserver_publish_seconds",
    "chatserver_group_commit_size",
    "chatserver_group_commit_seconds",
    "chatserver_redis_round_trips",
    "chatserver_redis_errors",
    "chatserver_mongodb_commands",
    "chatserver_job_runs",
    "chatserver_connections",
    "chatserver_subscriptions",
    "chatserver_commit_queue",
    "chatserver_reflectie_pending",
}


async def test_the_exposition_parses_and_names_every_metric(server: RunningServer, client: httpx.AsyncClient) -> None:
    await client.get("/f/psychosenet/")  # some Redis and MongoDB round trips
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    assert set(families) >= EXPECTED, EXPECTED - set(families)
    round_trips = [s.value for s in families["chatserver_redis_round_trips"].samples if s.name.endswith("_total")]
    assert round_trips and round_trips[0] > 0
    for family in families.values():
        for sample in family.samples:
            for name, value in sample.labels.items():
                assert name in {"outcome", "command", "kind", "job", "le", "quantile"}, (family.name, name)
                assert len(value) <= 40 and "@" not in value and "psychosenet" not in value


@pytest.fixture
async def guarded(settings: Settings) -> AsyncIterator[RunningServer]:
    closed = replace(settings, metrics_allow=(), metrics_token="een-lang-geheim-token-voor-tests")
    async with run_server(closed) as running:
        yield running


async def test_metrics_are_closed_without_allow_list_or_token(guarded: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=guarded.url, timeout=10.0) as client:
        refused = await client.get("/metrics")
        assert refused.status_code == 403 and "chatserver_" not in refused.text
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer niet-het-goede-token-hier"})
        assert wrong.status_code == 403
        right = await client.get("/metrics", headers={"Authorization": "Bearer een-lang-geheim-token-voor-tests"})
        assert right.status_code == 200 and "chatserver_deliveries_total" in right.text

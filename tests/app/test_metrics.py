"""GET /metrics: real requests move the counters under their route templates, the job and
ingest gauges follow the rows in the database, and only the token holder (or, without a
token, a scraper on loopback) may read it. Every body is read with prometheus_client's own
parser, as Prometheus would."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from plyr.db.models import IngestCursor, utcnow
from plyr.jobs import queue
from plyr.runtime import Runtime
from tests.conftest import make_settings
from tests.support.databases import clear_tables
from tests.support.served_app import serving

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
TOKEN = "metrics-token-for-tests-0123456789"
PROCESS_KIND = "track.process"
IDLE_KIND = "record.sync"


async def scrape(client: httpx.AsyncClient, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return value(samples, "plyr_http_requests_total", **labels)


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client whose requests reach the app as if from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://plyr.test")


async def test_requests_are_counted_under_route_templates(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    for _ in range(2):
        assert (await client.get("/health")).status_code == 200
    assert (await client.get("/api/tracks/987654")).status_code == 404
    assert (await client.get("/no/such/place/424242")).status_code == 404
    assert (await client.post("/health")).status_code == 405
    response = await client.get("/metrics")
    after = await scrape(client)

    def moved(method: str, route: str, status: int) -> float:
        return requests(after, method, route, status) - requests(before, method, route, status)

    assert moved("GET", "/health", 200) == 2
    assert moved("GET", "/api/tracks/{track_id}", 404) == 1
    assert moved("GET", "unmatched", 404) == 1
    assert moved("POST", "/health", 405) == 1
    assert moved("GET", "/metrics", 200) == 2  # the first scrape and the one in between

    def latency_moved(part: str) -> float:
        name = f"plyr_http_request_duration_seconds_{part}"
        labels = {"method": "GET", "route": "/health"}
        return value(after, name, **labels) - value(before, name, **labels)

    assert latency_moved("count") == 2
    assert latency_moved("sum") > 0
    # Raw paths never become labels: the series stay bounded whatever clients ask for.
    assert "987654" not in response.text
    assert "424242" not in response.text
    assert "process_resident_memory_bytes" in response.text


async def test_job_and_ingest_gauges_follow_the_rows(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    runtime: Runtime = app.state.runtime
    source = "subscribeRepos:ws://relay.test"
    async with runtime.sessions() as session:
        for n in range(3):
            await queue.enqueue(session, PROCESS_KIND, {"n": n})
        session.add(
            IngestCursor(source=source, cursor=4242, updated_at=utcnow() - timedelta(seconds=90))
        )
        await session.commit()
    async with runtime.sessions() as session:
        (claimed,) = await queue.claim(session, "metrics-test", limit=1, lease_seconds=60)
        await queue.fail(
            session,
            claimed,
            "metrics-test",
            "refused for good",
            permanent=True,
            backoff_base=1,
            backoff_cap=1,
        )

    samples = await scrape(client)

    assert value(samples, "plyr_jobs", kind=PROCESS_KIND, status="queued") == 2
    assert value(samples, "plyr_jobs", kind=PROCESS_KIND, status="failed") == 1
    assert value(samples, "plyr_jobs", kind=PROCESS_KIND, status="running") == 0
    # A registered kind with no rows is still a series, at 0.
    idle = (("kind", IDLE_KIND), ("status", "queued"))
    assert ("plyr_jobs", frozenset(idle)) in samples
    assert value(samples, "plyr_jobs_oldest_due_seconds", kind=PROCESS_KIND) >= 0
    assert 90 <= value(samples, "plyr_ingest_lag_seconds", source=source) < 150
    assert value(samples, "plyr_ingest_cursor", source=source) == 4242

    async with runtime.sessions() as session:
        await queue.enqueue(session, PROCESS_KIND, {"n": 3})
        await session.commit()
    assert value(await scrape(client), "plyr_jobs", kind=PROCESS_KIND, status="queued") == 3


async def test_without_a_token_only_local_scrapers_are_served(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    assert (await client.get("/metrics")).status_code == 200
    async with client_from(app, "::1") as local_v6:
        assert (await local_v6.get("/metrics")).status_code == 200
    # Forwarded by a proxy on this machine: the visitor is elsewhere.
    forwarded = await client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"})
    assert forwarded.status_code == 404
    async with client_from(app, "203.0.113.7") as remote:
        refused = await remote.get("/metrics")
    assert refused.status_code == 404
    assert "plyr_" not in refused.text


async def test_with_a_token_only_its_bearer_is_served(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path, db_url, metrics_token=TOKEN)
    async with serving(settings) as (app, client):
        assert (await client.get("/metrics")).status_code == 403  # loopback is not enough
        wrong = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
        assert wrong.status_code == 403
        basic = await client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
        assert basic.status_code == 403
        async with client_from(app, "203.0.113.7") as remote:
            samples = await scrape(remote, Authorization=f"Bearer {TOKEN}")
        assert requests(samples, "GET", "/metrics", 403) == 3
        await clear_tables(app.state.runtime.engine)


async def test_each_app_counts_only_its_own_requests(
    app_client: tuple[FastAPI, httpx.AsyncClient], tmp_path: Path, db_url: str
) -> None:
    _, client = app_client
    for _ in range(3):
        await client.get("/health")
    async with serving(make_settings(tmp_path / "other", db_url)) as (_, other):
        other_samples = await scrape(other)
    assert requests(await scrape(client), "GET", "/health", 200) == 3
    assert requests(other_samples, "GET", "/health", 200) == 0


async def test_metrics_are_not_part_of_the_api_schema(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    assert "/metrics" not in schema["paths"]


async def test_openmetrics_is_served_when_asked(client: httpx.AsyncClient) -> None:
    accept = "application/openmetrics-text; version=1.0.0"
    response = await client.get("/metrics", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")

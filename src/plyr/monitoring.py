"""What Prometheus reads from one plyr process: requests and their latency, the job queue and
how far behind the event stream the ingest is.

Each app owns a `Monitoring` with its own `CollectorRegistry` (never the library's global
one), so several apps in one process (the tests) never see each other's counts. Request
counters live in the process; the queue and ingest figures are read from the database when
Prometheus scrapes, so every process reports the same numbers for them (aggregate those with
`max`, not `sum`). The read is async and a collector's `collect()` is not, so a scrape first
reads the rows (`read_operations`) and then encodes them with the counters in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from plyr.db.models import IngestCursor, Job, JobStatus, utcnow
from plyr.jobs.registry import registered_kinds

# Up to 10 s: media ranges and API calls are milliseconds, uploads and SSE streams longer.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# The statuses a job can wait or be stuck in; succeeded rows only pile up, so they are not
# reported (a count of them says nothing an operator acts on).
REPORTED_STATUSES = (JobStatus.queued, JobStatus.running, JobStatus.failed)


@dataclass(frozen=True)
class StreamPosition:
    source: str
    cursor: int
    lag_seconds: float


@dataclass
class OperationsState:
    """The queue and ingest as the database has them at one moment."""

    jobs: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, status) -> count
    oldest_due_seconds: dict[str, float] = field(default_factory=dict)  # kind -> wait
    streams: list[StreamPosition] = field(default_factory=list)


async def read_operations(sessions: async_sessionmaker[AsyncSession]) -> OperationsState:
    """Jobs by kind and status, the longest wait of a due job, and each stream's cursor age."""
    now = utcnow()
    state = OperationsState()
    async with sessions() as session:
        counted = await session.execute(
            select(Job.kind, Job.status, func.count())
            .where(Job.status.in_(REPORTED_STATUSES))
            .group_by(Job.kind, Job.status)
        )
        for kind, status, count in counted.all():
            state.jobs[(kind, JobStatus(status).value)] = int(count)
        waiting = await session.execute(
            select(Job.kind, func.min(Job.run_at))
            .where(Job.status == JobStatus.queued, Job.run_at <= now)
            .group_by(Job.kind)
        )
        for kind, oldest in waiting.all():
            state.oldest_due_seconds[kind] = _seconds_since(oldest, now)
        cursors = await session.execute(
            select(IngestCursor.source, IngestCursor.cursor, IngestCursor.updated_at)
        )
        for source, cursor, updated_at in cursors.all():
            state.streams.append(StreamPosition(source, cursor, _seconds_since(updated_at, now)))
    return state


def _seconds_since(moment: datetime, now: datetime) -> float:
    return max(0.0, (now - moment).total_seconds())


class OperationsCollector:
    """The database's side of a scrape, as gauges (a collector for one scrape only)."""

    def __init__(self, state: OperationsState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "plyr_jobs",
            "Jobs in the durable queue by kind and status (queued, running, failed).",
            labels=["kind", "status"],
        )
        # Every known kind appears with 0, so a series does not vanish when its queue empties.
        kinds = sorted({*registered_kinds(), *(kind for kind, _ in self.state.jobs)})
        for kind in kinds:
            for status in REPORTED_STATUSES:
                jobs.add_metric([kind, status.value], self.state.jobs.get((kind, status.value), 0))
        yield jobs
        waiting = GaugeMetricFamily(
            "plyr_jobs_oldest_due_seconds",
            "How long the oldest due queued job of a kind has waited for a worker.",
            labels=["kind"],
        )
        for kind in kinds:
            waiting.add_metric([kind], self.state.oldest_due_seconds.get(kind, 0.0))
        yield waiting
        lag = GaugeMetricFamily(
            "plyr_ingest_lag_seconds",
            "Seconds since the stored cursor of an event stream last moved (the firehose "
            "advances it every second while events flow).",
            labels=["source"],
        )
        cursor = GaugeMetricFamily(
            "plyr_ingest_cursor",
            "The stored sequence number of an event stream.",
            labels=["source"],
        )
        for stream in self.state.streams:
            lag.add_metric([stream.source], stream.lag_seconds)
            cursor.add_metric([stream.source], stream.cursor)
        yield lag
        yield cursor


class _Scrape:
    """The registry's metrics followed by one scrape's database figures."""

    def __init__(self, *collectors: CollectorRegistry | OperationsCollector) -> None:
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


class Monitoring:
    """One app's metrics: request counts and latencies, process figures, and the database's."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "plyr_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "plyr_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)  # memory, CPU, open files of this process

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    async def scrape(
        self, sessions: async_sessionmaker[AsyncSession], accept: str | None
    ) -> tuple[bytes, str]:
        """The exposition body and its content type (text, or OpenMetrics when asked)."""
        state = await read_operations(sessions)
        encode, content_type = choose_encoder(accept or "")
        return encode(_Scrape(self.registry, OperationsCollector(state))), content_type

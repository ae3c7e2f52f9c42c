"""How fast plyr's read paths are on a large catalogue, and how much the app adds to the SQL.

For each backend: plyr's app is started in-process (uvicorn on a loopback port, no worker,
no ingest) against a catalogue made by `bench/catalogue.py`; then, one request at a time
over a kept-alive connection (after a warm-up), with varied inputs:

- home feed `/`;
- track page `/tracks/{id}`, ids drawn by popularity (plays);
- artist page `/artists/{handle}`, half drawn by popularity, half uniformly;
- top tracks `/api/tracks/top?window=week` (skipped when the route does not exist);
- search `/api/search?q=` with real-looking queries built from the catalogue's names
  (whole words, partial words, typos, artist names; skipped when the route does not exist).

Each path reports p50/p95/p99 in ms, SQL statements per request, and the ratio of the
app's p50 to the p50 of the *bare* query: the one query the page cannot do without,
written with SQLAlchemy Core and run directly on an engine of the same database (what the
app adds on top of the database: other queries, ORM, templates, HTTP). Then requests per
second for the home feed with 50 concurrent connections (wrk when installed, else httpx
with 50 tasks).

Usage:
  uv run python bench/read_paths.py [--sqlite /tmp/plyr-bench.db]
      [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/plyr_bench]
      [--backends sqlite,postgresql] [--requests 300] [--rps-seconds 10] [--scale 1] [--keep]
A database that does not exist is generated first (at `--scale`) and removed at the end
unless `--keep`; one that exists is reused as it is (after running plyr's migrations).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from sqlalchemy import event, func, literal_column, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from catalogue import fill, prepare_target, sizes_for
from plyr.config import Settings, normalise_database_url
from plyr.db import migrate
from plyr.db.engine import create_engine
from plyr.db.models import Artist, Play, PublishState, Track
from plyr.listening import top as listening_top
from plyr.web.app import create_app

DEFAULT_SQLITE = "/tmp/plyr-bench.db"  # noqa: S108 - a benchmark file, reused on purpose
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/plyr_bench"
WRK = "/usr/bin/wrk"
HAVE_WRK = Path(WRK).exists()
SCREEN = 50  # what a page can show at once: the bare queries fetch this many rows


# --- inputs ------------------------------------------------------------------------------


@dataclass
class Inputs:
    track_ids: list[int]
    handles: list[str]
    queries: list[str]


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    at = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # two letters swapped
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if kind == 1:  # a letter dropped
        return word[:at] + word[at + 1 :]
    return word[:at] + rng.choice("aeioustrnl") + word[at + 1 :]  # a letter wrong


def search_queries(
    rng: random.Random, titles: list[str], names: list[str], count: int
) -> list[str]:
    """What people type: a word of a title, its start, a typo, two words, an artist."""
    found: list[str] = []
    while len(found) < count:
        source = rng.choice(titles) if rng.random() < 0.7 else rng.choice(names)
        words = [w for w in re.split(r"\W+", source.lower()) if w]
        if not words:
            continue
        word = rng.choice(words)
        shape = rng.random()
        if shape < 0.3:
            query = word
        elif shape < 0.55:
            query = word[: max(3, len(word) // 2)]  # typed halfway
        elif shape < 0.75:
            query = typo(rng, word)
        elif shape < 0.9 and len(words) > 1:
            start = rng.randrange(len(words) - 1)
            query = " ".join(words[start : start + 2])
        else:
            query = source.lower()
        found.append(query)
    return found


async def gather_inputs(engine: AsyncEngine, count: int, seed: int) -> Inputs:
    rng = random.Random(seed)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Track.id, Track.play_count, Track.title, Track.artist_did).where(
                    Track.publish_state == PublishState.published
                )
            )
        ).all()
        artists = (
            await conn.execute(
                select(Artist.did, Artist.handle, Artist.display_name).where(
                    Artist.did.in_(select(Track.artist_did).distinct())
                )
            )
        ).all()
    ids = [row.id for row in rows]
    weights = [row.play_count + 1 for row in rows]
    handle_of = {row.did: row.handle for row in artists}
    popular = [handle_of[row.artist_did] for row in rng.choices(rows, weights, k=count // 2)]
    uniform = [row.handle for row in rng.choices(artists, k=count - len(popular))]
    handles = popular + uniform
    rng.shuffle(handles)
    titles = [row.title for row in rng.sample(rows, min(len(rows), 5000))]
    names = [row.display_name or row.handle.split(".")[0] for row in artists]
    return Inputs(
        track_ids=rng.choices(ids, weights, k=count),
        handles=handles,
        queries=search_queries(rng, titles, names, count),
    )


# --- the bare queries --------------------------------------------------------------------


def bare_queries(engine: AsyncEngine, inputs: Inputs) -> dict[str, Callable[[int], Awaitable[Any]]]:
    """The one query each page cannot do without, on a plain connection."""

    async def run(statement: Any) -> Any:
        async with engine.connect() as conn:
            return (await conn.execute(statement)).all()

    track_columns = [c for c in Track.__table__.c]

    async def home(i: int) -> Any:
        return await run(
            select(*track_columns)
            .where(Track.publish_state == PublishState.published)
            .order_by(Track.created_at.desc(), Track.id.desc())
            .limit(SCREEN)
        )

    async def track(i: int) -> Any:
        return await run(select(*track_columns).where(Track.id == inputs.track_ids[i]))

    async def artist(i: int) -> Any:
        async with engine.connect() as conn:
            did = await conn.scalar(
                select(Artist.did).where(Artist.handle == inputs.handles[i]).limit(1)
            )
            return (
                await conn.execute(
                    select(*track_columns)
                    .where(Track.artist_did == did, Track.publish_state == PublishState.published)
                    .order_by(Track.created_at.desc(), Track.id.desc())
                    .limit(SCREEN)
                )
            ).all()

    async def top(i: int) -> Any:
        # Plays per track in the window, then the tracks (plyr.listening.top's shape).
        since = datetime.now(UTC) - timedelta(days=7)
        grouped = (Play.track_id + literal_column("0")).label("track_id")  # as top.py groups
        counts = (
            select(grouped, func.count().label("plays"))
            .where(Play.created_at >= since)
            .group_by(grouped)
            .subquery()
        )
        return await run(
            select(*track_columns, counts.c.plays)
            .join(counts, counts.c.track_id == Track.id)
            .where(Track.publish_state == PublishState.published)
            .order_by(counts.c.plays.desc(), Track.created_at.desc(), Track.id.desc())
            .limit(20)
        )

    async def search(i: int) -> Any:
        # Plain substring match on titles and artist names: what a search index replaces.
        pattern = f"%{inputs.queries[i]}%"
        return await run(
            select(Track.id, Track.title, Track.artist_name)
            .where(
                Track.publish_state == PublishState.published,
                Track.title.ilike(pattern) | Track.artist_name.ilike(pattern),
            )
            .limit(20)
        )

    return {"home": home, "track": track, "artist": artist, "top": top, "search": search}


# --- measuring ---------------------------------------------------------------------------


@dataclass
class PathResult:
    name: str
    app_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    statements: float = 0.0
    errors: int = 0
    skipped: str | None = None


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StatementCounter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1


async def measure_path(
    client: httpx.AsyncClient,
    counter: StatementCounter,
    name: str,
    url_for: Callable[[int], str],
    bare: Callable[[int], Awaitable[Any]],
    requests: int,
) -> PathResult:
    result = PathResult(name)
    probe = await client.get(url_for(0))
    if probe.status_code == 404 and "/api/" in url_for(0):
        result.skipped = f"{url_for(0).split('?')[0]} does not exist yet"
        return result
    warm = min(20, requests)
    for i in range(warm):
        await client.get(url_for(i))
        await bare(i)
    before = counter.count
    for i in range(requests):
        started = time.perf_counter()
        response = await client.get(url_for(i))
        result.app_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            result.errors += 1
    result.statements = (counter.count - before) / requests
    for i in range(requests):
        started = time.perf_counter()
        await bare(i)
        result.bare_ms.append((time.perf_counter() - started) * 1000)
    return result


async def home_rps_wrk(base: str, seconds: int) -> tuple[float, str]:
    process = await asyncio.create_subprocess_exec(
        WRK,
        "-t1",
        "-c50",
        f"-d{seconds}s",
        "--latency",
        f"{base}/",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    text = out.decode()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    timeouts = re.search(r"timeout (\d+)", text)
    p50 = re.search(r"50%\s+([\d.]+\w+)", text)
    note = f"wrk -t1 -c50, p50 {p50.group(1) if p50 else '?'}"
    if errors:
        note += f", {errors.group(1)} non-2xx"
    if timeouts and timeouts.group(1) != "0":
        note += f", {timeouts.group(1)} timed out (over 2 s)"
    return (float(rps.group(1)) if rps else 0.0), note


async def home_rps_httpx(base: str, seconds: int) -> tuple[float, str]:
    done = 0
    failed = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def one() -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                response = await client.get("/")
                done += 1
                failed += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(50)))
        elapsed = time.perf_counter() - started
    return (
        done / elapsed,
        f"httpx, 50 tasks in this process{f', {failed} failed' if failed else ''}",
    )


async def bench_backend(
    label: str, url: str, requests: int, rps_seconds: int, seed: int
) -> tuple[list[PathResult], tuple[float, str]]:
    await migrate.upgrade_async(url)
    bare_engine = create_engine(url)
    inputs = await gather_inputs(bare_engine, requests, seed)
    bare = bare_queries(bare_engine, inputs)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="plyr-bench-") as folder:
        settings = Settings(
            database_url=url,
            data_dir=Path(folder),
            public_url=f"http://127.0.0.1:{port}",
            jobs_enabled=False,
            ingest_enabled=False,
        )
        app = create_app(settings, run_worker=False, run_ingest=False)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, lifespan="on", access_log=False
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        try:
            counter = StatementCounter(app.state.runtime.engine)
            base = f"http://127.0.0.1:{port}"
            results = []

            def uncached_top(i: int) -> str:
                listening_top.clear_cache()  # the route keeps its answer 5 s: measure the query
                return "/api/tracks/top?window=week"

            paths: list[tuple[str, Callable[[int], str]]] = [
                ("home", lambda i: "/"),
                ("track", lambda i: f"/tracks/{inputs.track_ids[i]}"),
                ("artist", lambda i: f"/artists/{inputs.handles[i]}"),
                ("top", uncached_top),
                ("search", lambda i: f"/api/search?q={inputs.queries[i]}"),
            ]
            async with httpx.AsyncClient(base_url=base, timeout=120) as client:
                for name, url_for in paths:
                    result = await measure_path(
                        client, counter, name, url_for, bare[name], requests
                    )
                    results.append(result)
                    print(f"  {label} {name}: {summary(result)}", flush=True)
            if HAVE_WRK:
                rps = await home_rps_wrk(base, rps_seconds)
            else:
                rps = await home_rps_httpx(base, rps_seconds)
        finally:
            server.should_exit = True
            await task
            await bare_engine.dispose()
    return results, rps


def summary(result: PathResult) -> str:
    if result.skipped:
        return f"skipped: {result.skipped}"
    app50 = statistics.median(result.app_ms)
    bare50 = statistics.median(result.bare_ms)
    return (
        f"p50 {app50:.1f} ms, p95 {percentile(result.app_ms, 0.95):.1f} ms, "
        f"bare p50 {bare50:.2f} ms ({app50 / bare50:.1f}x), "
        f"{result.statements:.1f} statements/request"
        + (f", {result.errors} non-200" if result.errors else "")
    )


def print_table(label: str, results: list[PathResult], rps: tuple[float, str]) -> None:
    print(f"\n{label}")
    head = (
        f"  {'path':<8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'bare p50':>9} "
        f"{'bare p95':>9} {'app/bare':>9} {'SQL/req':>8}"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    for r in results:
        if r.skipped:
            print(f"  {r.name:<8} skipped: {r.skipped}")
            continue
        app50 = statistics.median(r.app_ms)
        bare50 = statistics.median(r.bare_ms)
        print(
            f"  {r.name:<8} {app50:8.1f} {percentile(r.app_ms, 0.95):8.1f} "
            f"{percentile(r.app_ms, 0.99):8.1f} {bare50:9.2f} "
            f"{percentile(r.bare_ms, 0.95):9.2f} {app50 / bare50:8.1f}x {r.statements:8.1f}"
            + (f"  ({r.errors} non-200)" if r.errors else "")
        )
    print(f"  home feed, 50 concurrent clients: {rps[0]:,.0f} requests/s ({rps[1]})")


# --- databases ---------------------------------------------------------------------------


def sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


async def exists(url: str) -> bool:
    parsed = make_url(url)
    path = sqlite_file(url)
    if path is not None:
        return path.exists()
    admin = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        return bool(
            await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database)
        )
    finally:
        await conn.close()


def absolute(path: str) -> Path:
    return Path(path).resolve()


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def remove(url: str) -> None:
    parsed = make_url(url)
    path = sqlite_file(url)
    if path is not None:
        remove_sqlite(path)
        return
    admin = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", default=DEFAULT_SQLITE, help="SQLite file")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL URL")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=300, help="per path")
    parser.add_argument("--rps-seconds", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0, help="for a generated catalogue")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep databases generated here")
    args = parser.parse_args()
    targets = {
        "sqlite": f"sqlite+aiosqlite:///{absolute(args.sqlite)}",
        "postgresql": normalise_database_url(args.postgres),
    }
    wrk = "wrk" if HAVE_WRK else "httpx"
    print(f"{args.requests} requests per path, one at a time; home RPS with {wrk}")
    tables = []
    for backend in args.backends.split(","):
        url = targets[backend]
        made = False
        if not await exists(url):
            print(f"\ngenerating the {backend} catalogue (scale {args.scale})")
            target = args.sqlite if backend == "sqlite" else url
            url = await prepare_target(target, replace=False)
            await fill(url, sizes_for(args.scale), args.seed, datetime.now(UTC))
            made = True
        print(f"\n{backend}: {make_url(url).render_as_string(hide_password=True)}")
        try:
            results, rps = await bench_backend(
                backend, url, args.requests, args.rps_seconds, args.seed
            )
            tables.append((backend, results, rps))
        finally:
            if made and not args.keep:
                await remove(url)
    for backend, results, rps in tables:
        print_table(backend, results, rps)


if __name__ == "__main__":
    asyncio.run(main())

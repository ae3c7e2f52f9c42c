"""How fast plyr's read paths are on a large catalogue, and how much the app adds to the SQL.

For each backend: plyr's app is started in-process (uvicorn on a loopback port, no worker,
no ingest) against a catalogue made by `bench/catalogue.py`; then, one request at a time
over a kept-alive connection (after a warm-up), with varied inputs:

- home feed `/`;
- track page `/tracks/{id}`, ids drawn by popularity (plays);
- artist page `/artists/{handle}`, half drawn by popularity, half uniformly;
- the same three pages rendered every time (`home-uncached`…: the signed-out page cache
  emptied before each request), and home's RPS with the cache off;
- top tracks `/api/tracks/top?window=week` (skipped when the route does not exist), its
  5 s cache cleared before each request; `top-day` and `top-month` on request (`--paths`);
- search `/api/search?q=` with real-looking queries built from the catalogue's names
  (whole words, partial words, typos, artist names; skipped when the route does not exist);
- typing: what the Cmd+K dialog asks as those queries are typed, a letter more each time
  (`/api/search?q=n`, `?q=ni`, … with `limit=5`).

Each path reports p50/p95/p99 in ms, SQL statements per request, and the ratio of the
app's p50 to the p50 of the *bare* query: the one query the page cannot do without,
written with SQLAlchemy Core and run directly on an engine of the same database (what the
app adds on top of the database: other queries, ORM, templates, HTTP). Then requests per
second for the home feed with 50 concurrent connections (wrk when installed, else httpx
with 50 tasks). Last, issue 19's targets: search and typing p50/p95/p99 per backend, top
tracks uncached. The pieces are in `support/read_paths/`.

Usage:
  uv run python bench/read_paths.py [--sqlite /tmp/plyr-bench.db]
      [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/plyr_bench]
      [--backends sqlite,postgresql] [--requests 300] [--rps-seconds 10] [--scale 1] [--keep]
      [--paths home,track,artist,top,search,typing]   (also: top-day, top-month)
A database that does not exist is generated first (at `--scale`) and removed at the end
unless `--keep`; one that exists is reused as it is (after running plyr's migrations).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from plyr.config import normalise_database_url
from support.catalogue.fill import fill
from support.catalogue.sizes import sizes_for
from support.databases import exists, prepare_target, remove
from support.read_paths.backend import DEFAULT_PATHS, PATHS, bench_backend
from support.read_paths.home_rps import HAVE_WRK
from support.read_paths.pages import print_page_targets
from support.read_paths.report import print_table, print_targets

DEFAULT_SQLITE = "/tmp/plyr-bench.db"  # noqa: S108 - a benchmark file, reused on purpose
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/plyr_bench"


def absolute(path: str) -> Path:
    return Path(path).resolve()


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
    parser.add_argument(
        "--paths", default=",".join(DEFAULT_PATHS), help=f"some of {','.join(PATHS)}"
    )
    args = parser.parse_args()
    only = tuple(name.strip() for name in args.paths.split(",") if name.strip())
    if unknown := set(only) - set(PATHS):
        parser.error(f"unknown paths: {', '.join(sorted(unknown))}")
    targets = {
        "sqlite": f"sqlite+aiosqlite:///{absolute(args.sqlite)}",
        "postgresql": normalise_database_url(args.postgres),
    }
    wrk = "wrk" if HAVE_WRK else "httpx"
    print(f"{args.requests} requests per path, one at a time; home RPS with {wrk}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
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
                backend, url, args.requests, args.rps_seconds, args.seed, only
            )
            tables.append((backend, results, rps))
        finally:
            if made and not args.keep:
                await remove(url)
    for backend, results, rps in tables:
        print_table(backend, results, rps)
    print_targets(tables)
    print_page_targets(tables)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())

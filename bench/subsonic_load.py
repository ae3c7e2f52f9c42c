"""Subsonic under 50 concurrent clients, beside plyr's own web API on the same server.

For each backend (SQLite, PostgreSQL): fills a catalogue (`support.catalogue`: at the
default 100 000 tracks, 10 000 artists, 2 000 albums, plays and likes), links real MP3s
behind the stream keys of its 500 most played tracks, makes an app password for its
busiest listener (plyr's own function), starts `plyr serve` on it (web only), then drives
each path with 50 clients (one kept-alive connection each, token auth with a fresh salt
per request, as players sign) for --seconds after a 2 s warm-up:

- getAlbumList2 (size 20, one of the first 25 pages) of types newest, alphabeticalByName,
  frequent and random, beside the web API's newest tracks (`/api/tracks?limit=20`);
- search3 with the empty query, 500 songs from any offset (a player syncing the library);
- stream of a 64 KiB range, beside `/audio/{id}` with the same range.

It prints requests per second, p50 and p95 in ms, errors, and how many cores the server
used. The load generator shares the machine (2 cores here): read ratios, not absolutes.

Usage: uv run python bench/subsonic_load.py [--tracks 100000] [--seconds 15]
           [--clients 50] [--backends sqlite,postgresql]
           [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/plyr_subsonic_bench]
The PostgreSQL database is made (or emptied) for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from plyr.config import normalise_database_url
from support.databases import remove
from support.load.server import stop_server
from support.loopback import free_port
from support.subsonic_load.drive import Result, drive
from support.subsonic_load.scenarios import scenarios
from support.subsonic_load.server import start_server
from support.subsonic_load.setup import build, prepare

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/plyr_subsonic_bench"
SERVER_LOG = Path(tempfile.gettempdir()) / "plyr-subsonic-load-serve.log"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000, help="catalogue size")
    parser.add_argument("--seconds", type=float, default=15.0, help="per path")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--seed", type=int, default=18)
    return parser.parse_args()


async def run_backend(backend: str, args: argparse.Namespace, work: Path) -> list[Result]:
    data_dir = work / backend / "data"
    data_dir.mkdir(parents=True)
    target = str(data_dir / "plyr.db") if backend == "sqlite" else args.postgres
    url = await build(target, data_dir, args.tracks, args.seed)
    try:
        setup = await prepare(url, data_dir, work, args.seed)
        print(f"\n{backend}: {make_url(url).render_as_string(hide_password=True)}")
        port = free_port()
        server = await start_server(normalise_database_url(url), data_dir, port, SERVER_LOG)
        results = []
        try:
            base = f"http://127.0.0.1:{port}"
            for scenario in scenarios(setup, args.tracks):
                result = await drive(
                    base, scenario, args.clients, args.seconds, args.seed, server.pid
                )
                print(f"  {line(result)}", flush=True)
                results.append(result)
        finally:
            await stop_server(server)
    finally:
        if backend == "postgresql":
            await remove(url)
    return results


def line(result: Result) -> str:
    return (
        f"{result.name:<42} {result.per_second:7.1f} req/s  p50 {result.p50_ms:7.1f}"
        f"  p95 {result.p95_ms:7.1f} ms  {result.errors} errors"
        f"  server {result.server_cpu:.2f} cores"
    )


def table(backend: str, results: list[Result], clients: int) -> None:
    print(f"\n{backend}, {clients} clients:\n")
    print("| path | req/s | p50 ms | p95 ms | errors | server cores |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r.name} | {r.per_second:.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.errors} "
            f"| {r.server_cpu:.2f} |"
        )


async def main() -> None:
    args = parse_args()
    SERVER_LOG.unlink(missing_ok=True)
    tables = []
    with tempfile.TemporaryDirectory(prefix="plyr-subsonic-load-") as folder:
        for backend in args.backends.split(","):
            tables.append((backend, await run_backend(backend, args, Path(folder))))
    for backend, results in tables:
        table(backend, results, args.clients)
    print(f"\nserver log (warnings and errors): {SERVER_LOG}")


if __name__ == "__main__":
    asyncio.run(main())

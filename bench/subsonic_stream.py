"""Time to the first audio byte of Subsonic's `stream`: the stored file (what `/audio/{id}`
serves the web player) against transcodes made while they are sent.

Makes a small catalogue (`support.load.media`: SQLite, real 128 kbit/s MP3s of 2, 4 and
6 minutes hard-linked behind every stream key), an app password for one of its users
(plyr's own function), starts `plyr serve` on it (web only), then for each kind of request
times --requests of them, --concurrency at a time (each its own kept-alive connection),
over random tracks, reading only up to the first byte of audio and closing there:

- `/audio/{id}`, the web player's file, for reference;
- `stream` with no parameters: the same file, through the Subsonic surface (auth included);
- `stream` with `maxBitRate=96`: an MP3 re-encoded at 96 kbit/s;
- `stream` with `format=opus&maxBitRate=96`: Opus in Ogg;
- `stream` with `timeOffset=60`: a transcode starting one minute in (a seek).

It prints p50 and p95 in ms and the errors. The client shares the machine (2 cores here):
read ratios, not absolutes.

Usage: uv run python bench/subsonic_stream.py [--requests 200] [--concurrency 1,8]
           [--tracks 2000] [--seed 18]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from plyr.config import normalise_database_url
from support.load.server import stop_server
from support.loopback import free_port
from support.subsonic_stream.server import start_server
from support.subsonic_stream.setup import prepare
from support.subsonic_stream.timing import KINDS, Figures, measure

SERVER_LOG = Path(tempfile.gettempdir()) / "plyr-subsonic-stream-serve.log"
WARM_UP = 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per kind and concurrency")
    parser.add_argument("--concurrency", default="1,8", help="clients at once, comma-separated")
    parser.add_argument("--tracks", type=int, default=2_000, help="catalogue size")
    parser.add_argument("--seed", type=int, default=18)
    return parser.parse_args()


def table(figures: list[Figures]) -> list[str]:
    lines = [
        "| request | clients | first byte p50 ms | p95 ms | errors |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        lines.append(
            f"| {f.name} | {f.concurrency} | {f.p50_ms:.1f} | {f.p95_ms:.1f} | {f.errors} |"
        )
    return lines


async def main() -> None:
    args = parse_args()
    SERVER_LOG.unlink(missing_ok=True)
    figures: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="plyr-subsonic-stream-") as folder:
        work = Path(folder)
        data_dir = work / "data"
        url, listener = await prepare(data_dir, work, args.tracks, args.seed)
        port = free_port()
        server = await start_server(normalise_database_url(url), data_dir, port, SERVER_LOG)
        base = f"http://127.0.0.1:{port}"
        try:
            for kind in KINDS:  # caches, code paths and the thread pool warmed once
                await measure(base, kind, listener, WARM_UP, 1, args.seed + 1)
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                for kind in KINDS:
                    found = await measure(
                        base, kind, listener, args.requests, concurrency, args.seed
                    )
                    print(
                        f"{found.name:<40} x{concurrency:<3} p50 {found.p50_ms:7.1f}"
                        f"  p95 {found.p95_ms:7.1f} ms  {found.errors} errors",
                        flush=True,
                    )
                    figures.append(found)
        finally:
            await stop_server(server)
    print("\n" + "\n".join(table(figures)))
    print(f"\nserver log (warnings and errors): {SERVER_LOG}")


if __name__ == "__main__":
    asyncio.run(main())

"""Load on one machine: listeners, uploads and browsing against one `plyr serve` at once.

Starts a local ATProto network (for the uploaders' accounts), fills a SQLite catalogue of
--tracks tracks (`support.catalogue`, real MP3s hard-linked behind every stream key), runs
`plyr serve` on it (web and jobs in one process, local storage), signs the uploaders in
through the real sign-in in headless Chromium, then for --minutes:

- --listeners listeners read audio in 64 KB Range requests every 4 s (128 kbit/s),
- --uploads uploads (MP3, FLAC, AIFF to transcode) spread over the run, each followed to
  its published record,
- --browsers visitors fetch the home page, tracks, artists, search and the typeahead with
  1-5 s of think time,

and prints per route template the requests, errors (an exception or anything but
2xx/3xx) and p50/p95/p99, the listeners' achieved rate and late chunks, the uploads' time to
published, the server's resident memory sampled every 10 s (a minute after warm-up against
the last minute), and a verdict: 0 errors, memory flat (within 10 %).

Usage: uv run python bench/load.py [--minutes 10] [--listeners 500] [--browsers 50]
                                    [--uploads 20] [--tracks 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support: the browser sign-in

from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from plyr.atproto.devnet import start_network  # noqa: E402
from support.load.accounts import signed_in_clients, uploader_accounts  # noqa: E402
from support.load.browsing import browser  # noqa: E402
from support.load.listeners import Listening, listener  # noqa: E402
from support.load.media import build_catalogue, link_audio, make_lengths  # noqa: E402
from support.load.memory import MemorySamples, cpu_seconds, descendants  # noqa: E402
from support.load.report import (  # noqa: E402
    Windows,
    listening_lines,
    memory_flat,
    route_table,
    upload_lines,
)
from support.load.server import start_server, stop_server  # noqa: E402
from support.load.stats import Recorder, client_limits  # noqa: E402
from support.load.uploads import make_sources, upload_one  # noqa: E402
from support.loopback import free_port  # noqa: E402
from support.read_paths.inputs import Inputs, gather_inputs  # noqa: E402

UPLOADERS = 4
# Kept after the run (the rest of the work folder is not): the server's warnings and errors.
SERVER_LOG = Path(tempfile.gettempdir()) / "plyr-load-serve.log"
# After the run, uploads still processing get this long to reach their PDS.
UPLOAD_GRACE_SECONDS = 180.0


def server_cpu(pid: int) -> float:
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in descendants(pid))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--listeners", type=int, default=500)
    parser.add_argument("--browsers", type=int, default=50)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--tracks", type=int, default=1000, help="catalogue size")
    parser.add_argument(
        "--connections",
        type=int,
        default=None,
        help="the listeners' connection pool (default: one per listener, as browsers have)",
    )
    parser.add_argument("--seed", type=int, default=14)
    return parser.parse_args()


async def prepare(work: Path, args: argparse.Namespace) -> tuple[str, list[Path]]:
    """The catalogue with its audio, and the files to upload (made before the clock runs)."""
    began = time.perf_counter()
    url = await build_catalogue(work / "data", args.tracks, args.seed)
    linked = await link_audio(url, work / "data" / "media", make_lengths(work / "tones"))
    sources = make_sources(work / "uploads", args.uploads)
    print(
        f"catalogue and audio ready ({linked} stream files) in {time.perf_counter() - began:.0f} s"
    )
    return url, sources


async def run(work: Path, args: argparse.Namespace) -> bool:
    url, sources = await prepare(work, args)
    engine = create_async_engine(url)
    inputs = await gather_inputs(engine, 2000, args.seed)
    await engine.dispose()
    data_dir = work / "data"
    net = start_network(
        work / "net",
        plc_port=free_port(),
        pds_port=free_port(),
        accounts=uploader_accounts(UPLOADERS),
    )
    port = free_port()
    log = SERVER_LOG
    log.unlink(missing_ok=True)
    server = await start_server(data_dir, port, net, log)
    base = f"http://127.0.0.1:{port}"
    try:
        handles = [handle for handle, _ in uploader_accounts(UPLOADERS)]
        uploaders = await signed_in_clients(base, data_dir, net, handles)
        print(f"plyr serving at {base} (pid {server.pid}); {len(uploaders)} uploaders signed in")
        return await measure(args, base, server.pid, inputs, uploaders, sources, log)
    finally:
        await stop_server(server)
        net.stop()


async def measure(
    args: argparse.Namespace,
    base: str,
    pid: int,
    inputs: Inputs,
    uploaders: list[httpx.AsyncClient],
    sources: list[Path],
    log: Path,
) -> bool:
    rng = random.Random(args.seed)
    recorder = Recorder()
    totals = Listening()
    seconds = args.minutes * 60
    started = time.monotonic()
    until = started + seconds
    memory = MemorySamples(pid)
    cpu_before = server_cpu(pid), time.process_time()
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(memory.run(started, stop_sampling))
    weights = [1] * len(inputs.track_ids)  # track_ids are already drawn by plays
    pool = args.connections or args.listeners
    listen_limits = client_limits(pool)
    browse_limits = client_limits(args.browsers)
    async with (
        httpx.AsyncClient(base_url=base, limits=listen_limits, timeout=30) as listen_http,
        httpx.AsyncClient(base_url=base, limits=browse_limits, timeout=30) as browse_http,
    ):
        spacing = seconds / max(1, len(sources))
        tasks = [
            asyncio.create_task(
                upload_one(
                    uploaders[n % len(uploaders)],
                    recorder,
                    source,
                    started + n * spacing + rng.uniform(0, spacing / 2),
                    until + UPLOAD_GRACE_SECONDS,
                )
            )
            for n, source in enumerate(sources)
        ]
        clients = [
            listener(
                listen_http,
                recorder,
                inputs.track_ids,
                weights,
                until,
                random.Random(rng.random()),
                totals,
            )
            for _ in range(args.listeners)
        ] + [
            browser(browse_http, recorder, inputs, until, random.Random(rng.random()))
            for _ in range(args.browsers)
        ]
        await asyncio.gather(*clients)
        stop_sampling.set()
        await sampler
        cpu_used = server_cpu(pid) - cpu_before[0], time.process_time() - cpu_before[1]
        outcomes = await asyncio.gather(*tasks)
    for client in uploaders:
        await client.aclose()

    print()
    print("\n".join(route_table(recorder)))
    print()
    print("\n".join(listening_lines(totals, args.listeners, seconds)))
    print("\n".join(upload_lines(outcomes)))
    flat, memory_lines = memory_flat(memory, Windows.for_run(seconds))
    print("\n".join(memory_lines))
    print(
        f"CPU over the run: plyr with its children {cpu_used[0] / seconds:.0%} of one core, "
        f"this load generator {cpu_used[1] / seconds:.0%} (the machine has {os.cpu_count()})"
    )
    server_log = await anyio.Path(log).read_text(errors="replace")
    server_errors = [line for line in server_log.splitlines() if " error " in line]
    warnings = sum(" warning " in line for line in server_log.splitlines())
    print(
        f"server log ({log}): {len(server_errors)} error lines, {warnings} warnings"
        + (f"; first: {server_errors[0]}" if server_errors else "")
    )
    errors = recorder.total_errors
    ok = errors == 0 and flat is not False and not server_errors
    memory_word = {True: "flat", False: "NOT flat", None: "not compared"}[flat]
    print(
        f"verdict: {'PASS' if ok else 'FAIL'}: {errors} errors "
        f"({recorder.total_retried} GETs retried after a dropped keep-alive), memory "
        f"{memory_word} over {args.minutes:g} min"
    )
    return ok


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="plyr-load-") as folder:
        ok = asyncio.run(run(Path(folder), args))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()

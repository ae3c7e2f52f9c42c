"""How fast `plyr backfill` rebuilds the index: records indexed per second, and the audio.

It starts a local PLC + PDS, fills `--accounts` repositories with plyr records (by
default 10 x (1 profile + 20 tracks with a 1 s tone as their audioBlob + 110 likes + 60
comments + 10 playlists of 20) = 2 010 records), then for each backend backfills them
into a fresh database: first the records alone (both phases, what `--no-audio` does), then
the audio phase (getBlob, probe, loudness, storage) on its own.

Usage: .venv/bin/python bench/backfill.py [--accounts 10] [--backends sqlite,postgresql]
       [--concurrency 4]
PostgreSQL comes from PLYR_BENCH_POSTGRES_URL (a temporary database, dropped after).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from support.backfill.timing import Timed, time_backfill
from support.backfill.world import Plan, fill, start


def print_timed(timed: Timed) -> None:
    report = timed.report
    print(
        f"{timed.backend:10} index {timed.records} records in {timed.index_seconds:.1f} s "
        f"= {timed.per_thousand_records:.2f} s per 1 000 records; "
        f"audio {timed.tracks} tracks in {timed.audio_seconds:.1f} s "
        f"= {timed.audio_per_thousand_tracks:.1f} s per 1 000 tracks; "
        f"together {timed.total_per_thousand_records:.2f} s per 1 000 records"
    )
    if report.skipped or report.repos_failed or report.audio_ready != timed.tracks:
        print(f"           problems: {report.as_json()}")


async def main(args: argparse.Namespace) -> None:
    plan = Plan(accounts=args.accounts, tracks=args.tracks, likes=args.likes)
    with tempfile.TemporaryDirectory(prefix="plyr-bench-net-") as scratch:
        folder = Path(scratch)
        net = start(folder, plan)
        try:
            started = time.perf_counter()
            written = await fill(net, plan, folder)
            kinds = ", ".join(
                f"{name.rsplit('.', 1)[-1]} {count}" for name, count in written.records.items()
            )
            print(
                f"wrote {written.total} records in {plan.accounts} repositories ({kinds})"
                f" in {time.perf_counter() - started:.1f} s; concurrency {args.concurrency}"
            )
            for backend in args.backends.split(","):
                print_timed(await time_backfill(backend, net, args.concurrency))
        finally:
            net.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--tracks", type=int, default=20, help="per account")
    parser.add_argument("--likes", type=int, default=110, help="per account")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--concurrency", type=int, default=4)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))

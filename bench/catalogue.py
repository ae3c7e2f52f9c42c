"""Fill a database with a realistic catalogue, to measure plyr's read paths at scale.

At scale 1: 10 000 artists, 100 000 tracks, 2 000 albums and 5 000 playlists (5 to 30
entries each), 300 tags (0 to 4 per track), 300 000 likes and 1 000 000 plays over the last
90 days. Popularity is Zipf-like: a few artists own many tracks, and a few tracks (mostly
theirs) get most plays and likes. Names are built from syllables; every track is a
published record (rkey, at:// URI, CID), with artwork on most.

The schema comes from plyr's own migrations (`plyr.db.migrate.upgrade_async`); nothing
the app relies on (foreign keys, indexes, unique constraints) is turned off. Rows go in
with SQLAlchemy Core executemany on SQLite and with COPY (asyncpg
`copy_records_to_table`) on PostgreSQL. The same seed and `--now` give the same rows
(`support/catalogue/` makes them, table by table).

Usage:
  uv run python bench/catalogue.py /tmp/plyr-bench.db [--scale 1] [--seed 8] [--replace]
  uv run python bench/catalogue.py postgresql+asyncpg://postgres@127.0.0.1:5432/plyr_bench
A PostgreSQL database that does not exist is created; `--replace` empties an existing
target first (deletes the SQLite file, drops and recreates the PostgreSQL database).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from sqlalchemy.engine import make_url

from support.catalogue.fill import fill
from support.catalogue.sizes import sizes_for
from support.databases import prepare_target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a SQLite file path or a PostgreSQL URL")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100 000 tracks")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--now",
        default=None,
        help="ISO time the catalogue ends at (default: today 00:00 UTC, so reruns agree)",
    )
    parser.add_argument("--replace", action="store_true", help="empty the target first")
    args = parser.parse_args()
    now = (
        datetime.fromisoformat(args.now).astimezone(UTC)
        if args.now
        else datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    sizes = sizes_for(args.scale)
    print(", ".join(f"{count:,} {name}" for name, count in sizes.items()) + f"; seed {args.seed}")

    async def run() -> None:
        url = await prepare_target(args.target, args.replace)
        print(f"target: {make_url(url).render_as_string(hide_password=True)}")
        await fill(url, sizes, args.seed, now)

    asyncio.run(run())


if __name__ == "__main__":
    main()

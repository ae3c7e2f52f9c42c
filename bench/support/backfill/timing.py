"""Timing a backfill against a fresh database: the records alone (both indexing phases,
`--no-audio`), then the audio phase on its own, as `plyr backfill` runs them."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from plyr import handlers  # noqa: F401 - registers the indexers, as the CLI does
from plyr.atproto.devnet import Network
from plyr.backfill import BackfillOptions, BackfillReport, backfill
from plyr.backfill.audio import AudioLimits, fetch_pending_audio
from plyr.config import Settings
from plyr.db import migrate
from plyr.runtime import Runtime

ADMIN_URL = os.environ.get(
    "PLYR_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class Timed:
    backend: str
    records: int
    index_seconds: float
    tracks: int
    audio_seconds: float
    report: BackfillReport

    @property
    def per_thousand_records(self) -> float:
        return self.index_seconds / self.records * 1000

    @property
    def audio_per_thousand_tracks(self) -> float:
        return self.audio_seconds / max(self.tracks, 1) * 1000

    @property
    def total_per_thousand_records(self) -> float:
        return (self.index_seconds + self.audio_seconds) / self.records * 1000


@asynccontextmanager
async def database(backend: str, folder: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'backfill-{uuid.uuid4().hex[:6]}.db'}"
        return
    admin = make_url(ADMIN_URL)
    name = f"plyr_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def time_backfill(backend: str, net: Network, concurrency: int) -> Timed:
    with tempfile.TemporaryDirectory(prefix="plyr-bench-backfill-") as scratch:
        folder = Path(scratch)
        async with database(backend, folder) as url:
            await migrate.upgrade_async(url)
            settings = Settings(
                _env_file=None,
                data_dir=folder / "data",
                database_url=url,
                plc_url=net.plc_url,
                atproto_dev_network=True,
                atproto_dev_pds_url=net.pds_url,
                jobs_enabled=False,
                log_level="WARNING",
            )
            runtime = Runtime.open(settings)
            try:
                options = BackfillOptions(concurrency=concurrency, fetch_audio=False)
                handles = [account.handle for account in net.accounts.values()]
                started = time.perf_counter()
                report = await backfill(runtime, identifiers=handles, options=options)
                index_seconds = time.perf_counter() - started
                started = time.perf_counter()
                await fetch_pending_audio(
                    runtime, report, AudioLimits(concurrency=concurrency), lambda _: None
                )
                audio_seconds = time.perf_counter() - started
            finally:
                await runtime.close()
    return Timed(
        backend=backend,
        records=report.records_indexed,
        index_seconds=index_seconds,
        tracks=report.audio_ready + report.audio_unplayable + report.audio_pending,
        audio_seconds=audio_seconds,
        report=report,
    )

"""A like undone while its record.sync job is building the record (the row vanishes between
the job reading it and noting the track's CID on it) is a normal outcome: the job reads
again, finds the row gone, makes sure no record is left, and succeeds at its first attempt
instead of failing with StaleDataError. Real PDS, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.atproto.devnet import Network
from plyr.db.models import Job, JobStatus, Like
from plyr.runtime import Runtime
from plyr.social import sync
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import public_record, sign_in, upload_published

pytestmark = pytest.mark.browser


def unliked_while_building(plyr: PlyrServer, builds: list[str]) -> sync.RecordKind:
    """The like kind, its builder followed once by an unlike committed elsewhere."""
    original = sync.kind_named("like")

    async def build(db: AsyncSession, runtime: Runtime, row: Any) -> dict[str, Any] | None:
        record = await original.build(db, runtime, row)
        if not builds:
            async with plyr.runtime.sessions() as other:
                await other.execute(delete(Like).where(Like.id == row.id))
                await other.commit()
        builds.append(row.rkey)
        return record

    return sync.RecordKind("like", Like, build)


async def test_an_unlike_during_the_sync_is_a_normal_outcome(
    browser: Browser, atproto_net: Network, db_url: str, tmp_path: Path
) -> None:
    settings = devnet_settings(tmp_path / "plyr", db_url, atproto_net)
    async with running_plyr(settings, worker=True) as plyr:
        original = sync.kind_named("like")
        try:
            alice = await sign_in(browser, plyr, atproto_net, "alice.test")
            async with alice.client(plyr) as http:
                track = await upload_published(
                    http, make_audio(tmp_path / "a.mp3", "mp3", seconds=2)
                )
                builds: list[str] = []
                sync._kinds["like"] = unliked_while_building(plyr, builds)
                liked = await http.post(f"/api/tracks/{track['id']}/like")
                assert liked.status_code == 200, liked.text
                job = await finished_sync_job(plyr)
            assert builds, "the like's record was never built"
            assert job.status == JobStatus.succeeded, job.last_error
            assert job.attempts == 1
            assert job.last_error is None
            collection = plyr.runtime.lexicons.collection("like")
            assert job.result == {"deleted": f"at://{alice.did}/{collection}/{builds[0]}"}
            assert await public_record(atproto_net, job.result["deleted"]) is None
        finally:
            sync._kinds["like"] = original
            await clear_tables(plyr.runtime.engine)


async def finished_sync_job(plyr: PlyrServer) -> Job:
    async with asyncio.timeout(30):
        while True:
            async with plyr.runtime.sessions() as db:
                job = await db.scalar(
                    select(Job)
                    .where(Job.kind == sync.JOB_KIND, Job.payload["kind"].as_string() == "like")
                    .order_by(Job.id.desc())
                    .limit(1)
                )
            if job is not None and job.status in (JobStatus.succeeded, JobStatus.failed):
                return job
            if job is not None and job.attempts >= 1 and job.last_error:
                return job  # failed once and waiting to retry: the bug this test is about
            await asyncio.sleep(0.1)

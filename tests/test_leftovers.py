"""The sweep a process runs when it starts (`plyr.tracks.leftovers`): what stopped processes
left goes, what a live process is using stays. Real files, real processes, SQLite and
PostgreSQL; the crash itself is in test_crash_recovery.py."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from plyr.db.models import Artist, Job, JobStatus, Upload, UploadStatus
from plyr.runtime import Runtime
from plyr.storage.local import TMP_DIR, LocalStorage
from plyr.tracks.leftovers import LIVE_DIR, mark_alive, on_start, scratch_root, sweep_leftovers

DID = "did:plc:leftovers"


def _aged(path: Path, seconds_ago: float) -> Path:
    moment = time.time() - seconds_ago
    os.utime(path, (moment, moment))
    return path


def _write(path: Path, seconds_ago: float = 600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    return _aged(path, seconds_ago)


@pytest.fixture
def other_process() -> Iterator[int]:
    """Another live process (its pid is what a mark names)."""
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        yield sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()


def _local(runtime: Runtime) -> LocalStorage:
    assert isinstance(runtime.storage, LocalStorage)
    return runtime.storage


async def test_scratch_of_stopped_processes_goes_and_a_live_ones_stays(
    runtime: Runtime, other_process: int
) -> None:
    tmp = scratch_root(runtime)
    live = tmp / LIVE_DIR
    # A process started 5 minutes ago is still running; one that ran before was killed.
    _write(live / f"{other_process}-aaaa", seconds_ago=300)
    dead = await asyncio.create_subprocess_exec("true")
    await dead.wait()
    _write(live / f"{dead.pid}-bbbb", seconds_ago=900)
    stale_upload = _write(tmp / "upload-old", seconds_ago=600)
    stale_work = _write(tmp / "process-old" / "original.flac", seconds_ago=600).parent
    _aged(stale_work, 600)
    # Written after the live process started: may be its own, so it stays.
    its_upload = _write(tmp / "upload-live", seconds_ago=60)
    its_work = _write(tmp / "process-live" / "original.flac", seconds_ago=700).parent
    _write(its_work / "out.mp3", seconds_ago=1)  # still being written
    partial = _write(_local(runtime).root / TMP_DIR / "abc.part", seconds_ago=600)

    mine = mark_alive(runtime)
    swept = await sweep_leftovers(runtime)
    mine.release()

    assert not stale_upload.exists()
    assert not stale_work.exists()
    assert not partial.exists()
    assert its_upload.exists()
    assert its_work.exists()
    assert sorted(p.name for p in live.iterdir()) == [f"{other_process}-aaaa"]
    assert (swept.scratch, swept.partial_writes) == (2, 1)


async def test_incoming_files_no_processing_upload_claims_are_removed(runtime: Runtime) -> None:
    root = _local(runtime).root
    async with runtime.sessions() as db:
        db.add(Artist(did=DID, handle="leftovers.test", pds_url="http://pds.invalid"))
        job = Job(kind="track.process", payload={}, status=JobStatus.running, attempts=1)
        db.add(job)
        await db.flush()
        db.add(_upload("u-live", job.id, "incoming/u-live.flac"))
        await db.commit()
    claimed = _write(root / "incoming" / "u-live.flac")
    unclaimed = _write(root / "incoming" / "u-never-committed.flac")
    old_layout = _write(root / "incoming" / "u-old" / "audio.mp3")
    _aged(old_layout.parent, 600)

    mark = await on_start(runtime)
    mark.release()

    assert claimed.exists()
    assert not unclaimed.exists()
    assert not old_layout.parent.exists()


def _upload(upload_id: str, job_id: int | None, key: str | None) -> Upload:
    return Upload(
        id=upload_id,
        artist_did=DID,
        status=UploadStatus.processing,
        filename="take.flac",
        size_bytes=10,
        audio_format="flac",
        fields={},
        incoming_audio_key=key,
        job_id=job_id,
        warnings=[],
    )


async def test_an_upload_nothing_will_finish_fails_with_the_reason(runtime: Runtime) -> None:
    root = _local(runtime).root
    async with runtime.sessions() as db:
        db.add(Artist(did=DID, handle="leftovers.test", pds_url="http://pds.invalid"))
        given_up = Job(
            kind="track.process",
            payload={},
            status=JobStatus.failed,
            attempts=8,
            last_error="the worker running this job stopped (lease expired) on the last attempt",
        )
        waiting = Job(kind="track.process", payload={}, status=JobStatus.queued, attempts=1)
        db.add_all([given_up, waiting])
        await db.flush()
        db.add_all(
            [
                _upload("u-given-up", given_up.id, "incoming/u-given-up.flac"),
                _upload("u-jobless", None, None),
                _upload("u-waiting", waiting.id, "incoming/u-waiting.flac"),
            ]
        )
        await db.commit()
    given_up_file = _write(root / "incoming" / "u-given-up.flac", seconds_ago=1)
    waiting_file = _write(root / "incoming" / "u-waiting.flac", seconds_ago=1)

    swept = await sweep_leftovers(runtime)

    async with runtime.sessions() as db:
        failed = await db.get(Upload, "u-given-up")
        jobless = await db.get(Upload, "u-jobless")
        still = await db.get(Upload, "u-waiting")
    assert failed is not None
    assert jobless is not None
    assert still is not None
    assert failed.status == UploadStatus.failed
    assert failed.error == (
        "processing stopped: the worker running this job stopped (lease expired) on the last "
        "attempt"
    )
    assert failed.incoming_audio_key is None
    assert not given_up_file.exists()
    assert jobless.status == UploadStatus.failed
    assert jobless.error == "processing stopped and cannot resume; upload the file again"
    assert still.status == UploadStatus.processing
    assert waiting_file.exists()
    assert swept.failed_uploads == 2

"""Waveforms of stored tracks (`plyr.tracks.waveforms`), on SQLite and PostgreSQL: the
backfill gives a track without peaks its own (computed from its stored audio by a
`track.waveform` job, stored content-addressed, its key on the row), enqueues each track
once however often it is asked, fails a track whose audio can't be decoded at once (and
does not ask again), `plyr waveforms backfill` enqueues from the shell, and the cleanup of
a deleted track's files takes its waveform."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from plyr.db.models import Artist, Job, JobStatus, Track
from plyr.jobs.worker import Worker, WorkerOptions
from plyr.media.waveform import Waveform
from plyr.runtime import Runtime
from plyr.storage.base import put_content_addressed
from plyr.tracks import waveforms
from plyr.tracks.deleting import delete_unused
from plyr.tracks.fetching import media_keys
from tests.support.cli import plyr_env, run_plyr
from tests.support.waveforms import tone_then_silence, track_row

DID = "did:plc:waveformsaaaaaaaaaaaaaaa"
FAST = WorkerOptions(
    concurrency=2, poll_seconds=0.05, lease_seconds=30, backoff_base=0.01, backoff_cap=0.05
)


async def _run_jobs(runtime: Runtime) -> None:
    worker = Worker(runtime.sessions, FAST)
    worker.services["runtime"] = runtime
    worker.services["storage"] = runtime.storage
    await worker.run_until_idle(within=120)


async def _stored_bytes(runtime: Runtime, key: str) -> bytes:
    return b"".join([chunk async for chunk in runtime.storage.get_range(key)])


async def test_the_backfill_gives_tracks_without_peaks_theirs(
    runtime: Runtime, tmp_path: Path
) -> None:
    audio = tone_then_silence(tmp_path / "half.mp3", "mp3")
    stored, _ = await put_content_addressed(runtime.storage, "audio", audio, "mp3", "audio/mpeg")
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(audio.read_bytes()[:4000] + b"\x00\xff" * 40_000)
    stored_broken, _ = await put_content_addressed(
        runtime.storage, "audio", broken, "mp3", "audio/mpeg"
    )
    async with runtime.sessions() as db:
        db.add(Artist(did=DID, handle="waves.test", pds_url="https://pds.test"))
        await db.flush()
        rows = {
            "lacking": track_row(DID, "lacking", original_key=stored.key),
            "broken": track_row(DID, "broken", original_key=stored_broken.key),
            "pending": track_row(DID, "pending", original_key="", audio_state="pending"),
            "done": track_row(DID, "done", original_key=stored.key, waveform_key="waveforms/x"),
        }
        db.add_all(rows.values())
        await db.commit()
        ids = {name: row.id for name, row in rows.items()}

    # A starting worker sees tracks without peaks and enqueues the backfill once.
    assert await waveforms.backfill_on_start(runtime) is True
    assert await waveforms.backfill_on_start(runtime) is True
    # The command line's backfill, asked twice: still one job per track.
    assert await waveforms.enqueue_backfill(runtime) == 2
    assert await waveforms.enqueue_backfill(runtime) == 2
    async with runtime.sessions() as db:
        kinds = list(await db.scalars(select(Job.kind).order_by(Job.id)))
    assert sorted(kinds) == sorted([waveforms.BACKFILL, waveforms.KIND, waveforms.KIND])

    await _run_jobs(runtime)

    async with runtime.sessions() as db:
        found = {name: await db.get(Track, track_id) for name, track_id in ids.items()}
        jobs = list(await db.scalars(select(Job).where(Job.kind == waveforms.KIND)))
    lacking = found["lacking"]
    assert lacking is not None
    assert lacking.waveform_key
    assert lacking.waveform_key.startswith("waveforms/")
    assert lacking.waveform_key.endswith(".json")
    waveform = Waveform.from_bytes(await _stored_bytes(runtime, lacking.waveform_key))
    assert waveform.duration > 5.5
    assert min(waveform.peaks[:480]) > 100
    assert max(waveform.peaks[530:]) <= 1
    # The broken file failed at once, said why, and is not asked again.
    by_track = {job.payload["track_id"]: job for job in jobs}
    failed = by_track[ids["broken"]]
    assert failed.status == JobStatus.failed
    assert failed.attempts == 1
    assert "no waveform" in (failed.last_error or "")
    assert found["broken"] is not None
    assert found["broken"].waveform_key == waveforms.NONE_POSSIBLE
    assert by_track[ids["lacking"]].status == JobStatus.succeeded
    # Untouched: a track whose audio is not here, and one that had its waveform.
    assert found["pending"] is not None
    assert found["pending"].waveform_key is None
    assert found["done"] is not None
    assert found["done"].waveform_key == "waveforms/x"
    assert await waveforms.backfill_on_start(runtime) is False
    assert await waveforms.enqueue_backfill(runtime) == 0

    # Deleting the track takes its waveform with its audio (nothing else uses them).
    async with runtime.sessions() as db:
        row = await db.get(Track, ids["lacking"])
        assert row is not None
        keys = media_keys(row)
        assert lacking.waveform_key in keys
        await db.delete(row)
        await db.commit()
    await delete_unused(runtime, keys)
    assert await runtime.storage.stat(lacking.waveform_key) is None


async def test_a_waveform_in_use_by_another_track_stays(runtime: Runtime, tmp_path: Path) -> None:
    """The same audio on two tracks: one waveform object, kept while either holds it."""
    audio = tone_then_silence(tmp_path / "half.flac", "flac", seconds=2.0)
    stored, _ = await put_content_addressed(runtime.storage, "audio", audio, "flac", "audio/flac")
    async with runtime.sessions() as db:
        db.add(Artist(did=DID, handle="waves.test", pds_url="https://pds.test"))
        await db.flush()
        first = track_row(DID, "first", original_key=stored.key)
        second = track_row(DID, "second", original_key=stored.key)
        db.add_all([first, second])
        await db.commit()
        first_id, second_id = first.id, second.id
    assert await waveforms.enqueue_backfill(runtime) == 2
    await _run_jobs(runtime)
    async with runtime.sessions() as db:
        a, b = await db.get(Track, first_id), await db.get(Track, second_id)
        assert a is not None
        assert b is not None
        assert a.waveform_key
        assert a.waveform_key == b.waveform_key
        key = a.waveform_key
        await db.delete(a)
        await db.commit()
    assert await delete_unused(runtime, [key]) == 0
    assert await runtime.storage.stat(key) is not None


async def test_the_command_enqueues_the_backfill(runtime: Runtime) -> None:
    async with runtime.sessions() as db:
        db.add(Artist(did=DID, handle="waves.test", pds_url="https://pds.test"))
        await db.flush()
        db.add(track_row(DID, "from before waveforms"))
        await db.commit()
    env = plyr_env(
        runtime.settings.data_dir,
        PLYR_DATABASE_URL=runtime.settings.effective_database_url,
        PLYR_SECRET_KEY="test-secret-key-not-for-production",
    )
    for _ in range(2):  # asked twice: the track's job waits once
        run = await run_plyr("waveforms", "backfill", env=env, cwd=runtime.settings.data_dir.parent)
        assert run.returncode == 0, run.output
        assert "1 track without a waveform: enqueued" in run.output
    async with runtime.sessions() as db:
        kinds = list(await db.scalars(select(Job.kind)))
    assert kinds == [waveforms.KIND]

"""Where an upload stands, read from its row, its jobs and its track: the API returns it,
the progress stream sends it, and the upload page shows it (works across processes)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from plyr.db.models import Job, JobStatus, PublishState, Track, Upload, UploadStatus
from plyr.errors import ServiceError
from plyr.runtime import Runtime


class Progress(BaseModel):
    """Where an upload stands; the API returns it and the progress stream sends it. `phase`
    runs queued → receiving → probing → hashing → (transcoding) → loudness → artwork →
    publishing → published, or ends at failed (`error` says why)."""

    # The example /api/docs shows (the OpenAPI's component schema).
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "phase": "transcoding",
                    "percent": 41,
                    "message": "making a streamable mp3",
                    "warnings": [],
                    "track_id": None,
                    "error": None,
                    "done": False,
                },
                {
                    "phase": "published",
                    "percent": 100,
                    "message": "published to your pds",
                    "warnings": [],
                    "track_id": 42,
                    "error": None,
                    "done": True,
                },
            ]
        }
    )

    phase: str
    percent: int
    message: str
    warnings: list[str]
    track_id: int | None
    error: str | None
    done: bool


async def upload_progress(runtime: Runtime, upload_id: str, did: str) -> Progress:
    """Where an upload stands, from its row, its jobs and its track (works across processes)."""
    async with runtime.sessions() as db:
        upload = await db.get(Upload, upload_id)
        if upload is None or upload.artist_did != did:
            raise ServiceError(404, "not_found", "there is no such upload")
        job = await db.get(Job, upload.job_id) if upload.job_id else None
        track = await db.get(Track, upload.track_id) if upload.track_id else None
        publish_job = None
        if track is not None:
            publish_job = await db.scalar(
                select(Job)
                .where(
                    Job.kind == "track.publish", Job.payload["track_id"].as_integer() == track.id
                )
                .order_by(Job.id.desc())
                .limit(1)
            )
    warnings = list(upload.warnings or [])
    if upload.status == UploadStatus.failed:
        return Progress(
            phase="failed",
            percent=100,
            message=upload.error or "failed",
            warnings=warnings,
            track_id=None,
            error=upload.error,
            done=True,
        )
    if track is None:
        phase = (job.phase if job else None) or "queued"
        percent = round((job.progress if job else 0.0) * 90)
        message = (job.message if job else None) or "waiting for a worker"
        if job is not None and job.status == JobStatus.queued and job.attempts > 0:
            # Only transient failures are retried (plyr.tracks.processing): say so.
            message = (
                f"a temporary problem stopped processing; trying again "
                f"(attempt {job.attempts + 1} of {job.max_attempts})"
            )
        return Progress(
            phase=phase,
            percent=percent,
            message=message,
            warnings=warnings,
            track_id=None,
            error=None,
            done=False,
        )
    if track.publish_state == PublishState.published:
        return Progress(
            phase="published",
            percent=100,
            message="published to your pds",
            warnings=warnings,
            track_id=track.id,
            error=None,
            done=True,
        )
    if track.publish_state == PublishState.failed:
        error = track.publish_error or "publishing failed"
        return Progress(
            phase="failed",
            percent=100,
            message=error,
            warnings=warnings,
            track_id=track.id,
            error=error,
            done=True,
        )
    percent = 90 + round((publish_job.progress if publish_job else 0.0) * 9)
    message = track.publish_error or (
        (publish_job.message if publish_job else None) or "writing the record to your pds"
    )
    return Progress(
        phase="publishing",
        percent=percent,
        message=message,
        warnings=warnings,
        track_id=track.id,
        error=None,
        done=False,
    )

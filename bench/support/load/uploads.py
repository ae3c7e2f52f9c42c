"""Uploads spread over the run: real audio files (MP3 as is, FLAC, AIFF that is transcoded)
sent through the upload API by signed-in users, each followed (polling its progress, as
the upload page does without SSE) until its track is published; the time from sending to
published is its figure. An upload that fails or is not published in time is an error."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx

from support.load.stats import Recorder
from support.load.tones import write_tone

UPLOAD_FORMATS = ("mp3", "flac", "aiff")
POLL_SECONDS = 1.0


@dataclass
class UploadOutcome:
    source: str
    seconds: float | None  # sending to published; None when it did not get there
    problem: str | None = None


def make_sources(folder: Path, count: int) -> list[Path]:
    """`count` distinct files (another tone each: the duplicate check must not refuse them)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_tone(
            folder / f"upload-{n:02d}.{UPLOAD_FORMATS[n % len(UPLOAD_FORMATS)]}",
            60 + 15 * (n % 6),
            300.0 + 37 * n,
        )
        for n in range(count)
    ]


async def upload_one(
    http: httpx.AsyncClient, recorder: Recorder, source: Path, start_at: float, deadline: float
) -> UploadOutcome:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    started = time.monotonic()
    audio = await anyio.Path(source).read_bytes()
    sent = await recorder.timed(
        "POST /api/tracks",
        lambda: http.post(
            "/api/tracks", data={"title": source.stem}, files={"file": (source.name, audio)}
        ),
    )
    if sent is None or sent.status_code != 202:
        return UploadOutcome(
            source.name, None, f"refused: {sent.status_code if sent else 'no answer'}"
        )
    upload_id = sent.json()["upload_id"]
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        status = await recorder.get("GET /api/uploads/{id}", http, f"/api/uploads/{upload_id}")
        if status is None or status.status_code != 200:
            continue
        progress = status.json()
        if progress["phase"] == "failed":
            recorder.error("upload → published", "failed")
            return UploadOutcome(source.name, None, str(progress.get("error")))
        if progress["done"] and progress.get("track_id"):
            track_url = f"/api/tracks/{progress['track_id']}"
            track = await recorder.get("GET /api/tracks/{id}", http, track_url)
            if track is None or track.status_code != 200:
                continue
            state, error = track.json()["publish_state"], track.json().get("publish_error")
            if state == "published":
                return UploadOutcome(source.name, time.monotonic() - started)
            if state == "failed":
                recorder.error("upload → published", "publish failed")
                return UploadOutcome(source.name, None, str(error))
    recorder.error("upload → published", "not published in time")
    return UploadOutcome(source.name, None, "not published in time")

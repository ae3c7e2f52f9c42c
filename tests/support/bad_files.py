"""The bad-file corpus: files an unlucky or hostile uploader sends, built from real audio and
images (tests.support.audio), and what a test needs to prove such an upload left nothing
behind: the job's row, leftovers on disk, a multipart body with the raw file name."""

from __future__ import annotations

import asyncio
import functools
import io
import secrets
import struct
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from mutagen.id3 import APIC, ID3, PRIV
from PIL import Image
from sqlalchemy import and_, func, or_, select

from plyr.db.models import Job, JobStatus, Upload, utcnow
from tests.support.plyr_server import PlyrServer

# --- files ------------------------------------------------------------------------------


def make_noise(path: Path, size: int = 64_000) -> Path:
    """Random bytes (seeded: the same file every run)."""
    path.write_bytes(np.random.default_rng(14).bytes(size))
    return path


def flac_header_length(flac: Path) -> int:
    """Bytes of "fLaC" and every metadata block, i.e. where the first audio frame starts."""
    data = flac.read_bytes()
    offset = 4
    while True:
        header = data[offset : offset + 4]
        offset += 4 + int.from_bytes(header[1:4], "big")
        if header[0] & 0x80:
            return offset


def make_wav_claiming(src: Path, dst: Path, *, riff: int | None, data: int | None) -> Path:
    """A copy of a small WAV whose RIFF size and/or `data` chunk size say otherwise."""
    wav = bytearray(src.read_bytes())
    if riff is not None:
        wav[4:8] = struct.pack("<I", riff)
    if data is not None:
        at = wav.index(b"data")
        wav[at + 4 : at + 8] = struct.pack("<I", data)
    dst.write_bytes(bytes(wav))
    return dst


def add_id3_junk(mp3: Path, megabytes: int) -> Path:
    """Put `megabytes` of private ID3 frames (random bytes) in front of a valid MP3."""
    rng = np.random.default_rng(50)
    tag = ID3()
    for index in range(megabytes):
        tag.add(PRIV(owner=f"junk-{index}", data=rng.bytes(1_000_000)))
    tag.save(mp3)
    return mp3


def embed_picture(mp3: Path, picture: bytes, mime: str) -> Path:
    """Replace an MP3's ID3 tag with one front-cover picture."""
    tag = ID3()
    tag.add(APIC(encoding=3, mime=mime, type=3, desc="cover", data=picture))
    tag.save(mp3)
    return mp3


@functools.cache  # the same bytes each time (a seeded grain), and 2.8 s of CPU to make
def large_cover_jpeg(side: int = 3000) -> bytes:
    """A photo-like side x side JPEG (gradient plus grain) of a few MB: a normal big cover."""
    y, x = np.mgrid[0:side, 0:side]
    base = np.stack([x * 255 // side, y * 255 // side, (x + y) * 255 // (2 * side)], axis=-1)
    grain = np.random.default_rng(3).integers(0, 40, (side, side, 3))
    image = Image.fromarray(np.clip(base + grain, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def jpeg_looking_blob(size: int) -> bytes:
    """`size` bytes starting like a JPEG (what a tag's size check sees before any decoding)."""
    return b"\xff\xd8\xff\xe0" + secrets.token_bytes(size - 4)


# --- sending ----------------------------------------------------------------------------


async def upload_named(
    http: httpx.AsyncClient, filename: str, content: bytes, **fields: str
) -> httpx.Response:
    """POST /api/tracks with the file name exactly as given (raw UTF-8 bytes, NUL and
    quotes included): httpx would percent-escape it, a hostile client doesn't."""
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename.encode()
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return await http.post(
        "/api/tracks",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


async def follow_to_the_end(http: httpx.AsyncClient, upload_id: str) -> dict[str, Any]:
    """Poll the upload's status until it is done (tests of the stream itself use SSE)."""
    async with asyncio.timeout(90):
        while True:
            status: dict[str, Any] = (await http.get(f"/api/uploads/{upload_id}")).json()
            if status["done"]:
                return status
            await asyncio.sleep(0.1)


# --- what is left -----------------------------------------------------------------------


async def settled(plyr: PlyrServer) -> None:
    """Wait until no job runs or is due (an earlier upload may still be publishing)."""
    due = or_(
        Job.status == JobStatus.running,
        and_(Job.status == JobStatus.queued, Job.run_at <= utcnow()),
    )
    async with asyncio.timeout(90):
        while True:
            async with plyr.runtime.sessions() as db:
                busy = int(await db.scalar(select(func.count()).select_from(Job).where(due)) or 0)
            if not busy:
                return
            await asyncio.sleep(0.1)


async def finished_job(plyr: PlyrServer, upload_id: str) -> Job:
    """The upload's processing job once the worker recorded its end."""
    async with asyncio.timeout(30):
        while True:
            async with plyr.runtime.sessions() as db:
                upload = await db.get(Upload, upload_id)
                assert upload is not None
                assert upload.job_id is not None
                job = await db.get(Job, upload.job_id)
            assert job is not None
            if job.status in (JobStatus.failed, JobStatus.succeeded):
                return job
            await asyncio.sleep(0.05)


def paths_naming(root: Path, text: str) -> list[Path]:
    """Every file or folder under `root` whose name holds `text`."""
    return [path for path in root.rglob("*") if text in path.name]

"""The operator's reference catalogue: known works uploads are matched against.

A work comes from an audio file (fingerprinted here; the audio is kept in storage so the
review page can play it beside the flagged track) or from a fingerprint file fpcalc wrote
(no audio; one file may hold several works). Title and artist default to the file's tags,
then to its name. An import enqueues `moderation.scan_works` in the same transaction, so a
new work flags what is already on plyr.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath

import anyio
from sqlalchemy import and_, func, or_, select

from plyr.db.models import FlagStatus, ModerationFlag, ReferenceWork
from plyr.errors import ServiceError
from plyr.jobs.queue import enqueue
from plyr.media.errors import MediaError
from plyr.media.fingerprint import (
    Fingerprint,
    FingerprintFileError,
    fingerprint_file,
    parse_fingerprint_file,
)
from plyr.media.probe import probe_audio
from plyr.media.sniff import sniff_audio
from plyr.moderation import audit, flags
from plyr.moderation.scanning import SCAN_WORKS
from plyr.runtime import Runtime
from plyr.storage.base import put_content_addressed

MAX_TEXT = 256
MAX_FINGERPRINT_FILE = 64 * 1024 * 1024
# One import is one transaction and one scan job: a catalogue beyond this is split in files.
MAX_WORKS_PER_FILE = 1000
AUDIO_NAMESPACE = "references"


@dataclass(frozen=True, slots=True)
class WorkInfo:
    id: int
    title: str
    artist: str
    rights_holder: str | None
    source: str | None
    duration_seconds: float
    engine: str
    audio_key: str | None
    audio_content_type: str | None
    created_by: str | None
    created_at: datetime


def _info(work: ReferenceWork) -> WorkInfo:
    return WorkInfo(
        work.id,
        work.title,
        work.artist,
        work.rights_holder,
        work.source,
        work.duration_seconds,
        work.engine,
        work.audio_key,
        work.audio_content_type,
        work.created_by,
        work.created_at,
    )


def _text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if len(value) > MAX_TEXT:
        raise ServiceError(422, "invalid_input", f"the {name} is longer than {MAX_TEXT} characters")
    return value or None


def _stem(name: str) -> str:
    return PurePath(name).stem.replace("_", " ").strip() or name


@dataclass(frozen=True, slots=True)
class _Parsed:
    fingerprint: Fingerprint
    source: str
    title: str | None
    artist: str | None
    audio: Path | None = None
    extension: str = ""
    mime: str | None = None


def _looks_like_fingerprint_file(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(64).lstrip()
    return head.startswith((b"FILE=", b"DURATION=", b"FINGERPRINT=", b"{", b"["))


def _read(path: Path, filename: str) -> list[_Parsed]:
    """In a thread: fingerprint an audio file, or parse a fingerprint file."""
    if _looks_like_fingerprint_file(path):
        if path.stat().st_size > MAX_FINGERPRINT_FILE:
            raise FingerprintFileError("the fingerprint file is too large")
        text = path.read_text("utf-8", errors="replace")
        return [
            _Parsed(entry.fingerprint, entry.source or filename, None, None)
            for entry in parse_fingerprint_file(text)
        ]
    fmt = sniff_audio(path)
    info = probe_audio(path, fmt)
    fp = fingerprint_file(path, fmt)
    return [_Parsed(fp, filename, info.title, info.artist, path, fmt.extension, fmt.mime)]


async def import_file(
    runtime: Runtime,
    path: Path,
    *,
    filename: str,
    title: str | None = None,
    artist: str | None = None,
    rights_holder: str | None = None,
    actor: str,
) -> list[WorkInfo]:
    """Import one audio or fingerprint file: the works it made (enqueues their scan)."""
    title, artist = _text(title, "title"), _text(artist, "artist")
    rights_holder = _text(rights_holder, "rights holder")
    filename = PurePath(filename).name[:512] or "upload"
    try:
        parsed = await anyio.to_thread.run_sync(_read, path, filename)
    except MediaError as exc:
        raise ServiceError(422, "invalid_file", f"{filename}: {exc}") from exc
    if len(parsed) > MAX_WORKS_PER_FILE:
        raise ServiceError(
            422,
            "invalid_input",
            f"{filename} holds {len(parsed)} works: at most {MAX_WORKS_PER_FILE} in one file "
            "(split it and import the parts)",
        )
    if len(parsed) > 1 and title is not None:
        raise ServiceError(
            422, "invalid_input", f"{filename} holds {len(parsed)} works: leave the title unset"
        )
    rows: list[ReferenceWork] = []
    for item in parsed:
        work_artist = artist or _text(item.artist, "artist")
        if not work_artist:
            raise ServiceError(
                422, "invalid_input", f"{filename}: name the artist (the file doesn't)"
            )
        audio_key = None
        if item.audio is not None:
            stored, _new = await put_content_addressed(
                runtime.storage, AUDIO_NAMESPACE, item.audio, item.extension, item.mime
            )
            audio_key = stored.key
        rows.append(
            ReferenceWork(
                title=title or _text(item.title, "title") or _stem(item.source)[:MAX_TEXT],
                artist=work_artist,
                rights_holder=rights_holder,
                source=item.source[:512],
                duration_seconds=item.fingerprint.duration,
                engine=item.fingerprint.engine,
                fingerprint=item.fingerprint.to_bytes(),
                audio_key=audio_key,
                audio_content_type=item.mime if audio_key else None,
                created_by=actor,
            )
        )
    async with runtime.sessions() as db:
        db.add_all(rows)
        await db.flush()
        for row in rows:
            audit.record(
                db,
                actor=actor,
                action="reference.import",
                subject=f"work:{row.id}",
                title=row.title,
                artist=row.artist,
                source=row.source,
            )
        await enqueue(db, SCAN_WORKS, {"work_ids": [row.id for row in rows]})
        infos = [_info(row) for row in rows]
        await db.commit()
    return infos


async def list_works(
    runtime: Runtime, *, offset: int = 0, limit: int = 100
) -> tuple[list[WorkInfo], int]:
    """Newest first, a page and the total."""
    async with runtime.sessions() as db:
        total = await db.scalar(select(func.count()).select_from(ReferenceWork))
        rows = await db.scalars(
            select(ReferenceWork)
            .order_by(ReferenceWork.id.desc())
            .offset(max(0, offset))
            .limit(max(1, min(limit, 500)))
        )
        return [_info(row) for row in rows], int(total or 0)


async def get_work(runtime: Runtime, work_id: int) -> WorkInfo:
    async with runtime.sessions() as db:
        work = await db.get(ReferenceWork, work_id)
        if work is None:
            raise ServiceError(404, "not_found", "no such reference work")
        return _info(work)


async def delete_work(runtime: Runtime, work_id: int, *, actor: str) -> None:
    """Delete a work (its flags go with it, and the takedowns only they held) and its audio
    when no other work shares it."""
    async with runtime.sessions() as db:
        work = await db.get(ReferenceWork, work_id)
        if work is None:
            raise ServiceError(404, "not_found", "no such reference work")
        audio_key = work.audio_key
        # Its flags go with it (cascade); a track only they held down (a violation, or an
        # appealed former one) comes back, unless an operator took it down themselves.
        held = (
            await db.scalars(
                select(ModerationFlag).where(
                    ModerationFlag.reference_work_id == work_id,
                    or_(
                        ModerationFlag.status == FlagStatus.violation,
                        and_(
                            ModerationFlag.status == FlagStatus.open,
                            ModerationFlag.appeal_text.is_not(None),
                            ModerationFlag.resolved_at.is_not(None),
                        ),
                    ),
                )
            )
        ).all()
        batch = set(
            (
                await db.scalars(
                    select(ModerationFlag.id).where(ModerationFlag.reference_work_id == work_id)
                )
            ).all()
        )
        for track_id in dict.fromkeys(flag.track_id for flag in held):
            await flags.restore_if_cleared(runtime, db, track_id, batch, actor)
        audit.record(
            db,
            actor=actor,
            action="reference.delete",
            subject=f"work:{work.id}",
            title=work.title,
            artist=work.artist,
        )
        await db.delete(work)
        await db.commit()
        shared = audio_key is not None and await db.scalar(
            select(ReferenceWork.id).where(ReferenceWork.audio_key == audio_key).limit(1)
        )
    if audio_key is not None and not shared:
        await runtime.storage.delete(audio_key)

"""Exports made by a job, for libraries too big to zip while a browser waits.

```
start_export → Export row "queued" + export.build job (one transaction) → 202 {id}
export.build → "running": the zip (plyr.export.archive) streamed into storage under a
  private key (exports/<id>-<random>.zip: never served by /media, unguessable in a public
  bucket), progress written about once a second → "ready", expires_at = now +
  PLYR_EXPORT_LINK_HOURS, and an export.expire job due then (one transaction)
export.expire → the object deleted, the row "expired"; every other export past its time
  is swept on the way (a lost job does not leave a zip behind)
```

Downloads go to the owner only (404 to anyone else, as if there were nothing), 410 once
the link has expired, even before the sweep has run. A failed attempt is retried (the put
is atomic, so nothing half-written is left); after the last one the row says why.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import select, update

from plyr.db.models import Artist, Export, utcnow
from plyr.errors import ServiceError
from plyr.export.archive import Archive, prepare
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, PermanentJobError, ProgressReporter, job_handler
from plyr.runtime import Runtime

BUILD = "export.build"
EXPIRE = "export.expire"
NAMESPACE = "exports"  # storage keys of finished zips; private (web/media refuses them)
BUILD_ATTEMPTS = 3
PROGRESS_EVERY_SECONDS = 1.0

QUEUED, RUNNING, READY, FAILED, EXPIRED = "queued", "running", "ready", "failed", "expired"
UNFINISHED = (QUEUED, RUNNING)


@dataclass(frozen=True, slots=True)
class ExportView:
    id: str
    status: str
    progress: float
    files: int
    size_bytes: int | None
    error: str | None
    created_at: datetime
    expires_at: datetime | None

    @property
    def download_url(self) -> str | None:
        return f"/api/me/exports/{self.id}/download" if self.status == READY else None

    @property
    def done(self) -> bool:
        return self.status not in UNFINISHED


@dataclass(frozen=True, slots=True)
class Download:
    key: str
    size: int | None
    filename: str


def _view(row: Export, now: datetime | None = None) -> ExportView:
    status = row.status
    if status == READY and row.expires_at is not None and row.expires_at <= (now or utcnow()):
        status = EXPIRED  # the sweep may not have run yet; the link is dead all the same
    return ExportView(
        id=row.id,
        status=status,
        progress=1.0 if status in (READY, EXPIRED) else float(row.progress or 0.0),
        files=row.files or 0,
        size_bytes=row.size_bytes,
        error=row.error,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _not_found() -> ServiceError:
    return ServiceError(404, "not_found", "there is no such export")


async def start_export(runtime: Runtime, did: str) -> ExportView:
    """Queue an export of everything `did` has on plyr; one already under way is returned
    instead of starting a second."""
    async with runtime.sessions() as db:
        if await db.get(Artist, did) is None:
            raise ServiceError(404, "not_found", "plyr has nothing of this user")
        under_way = await db.scalar(
            select(Export)
            .where(Export.did == did, Export.status.in_(UNFINISHED))
            .order_by(Export.created_at.desc())
            .limit(1)
        )
        if under_way is not None:
            return _view(under_way)
        row = Export(id=str(uuid4()), did=did, status=QUEUED, progress=0.0, files=0)
        db.add(row)
        await db.flush()
        job = await enqueue(db, BUILD, {"export_id": row.id}, dedupe_key=f"{BUILD}:{row.id}")
        row.job_id = job.id
        await db.commit()
        return _view(row)


async def _own(runtime: Runtime, export_id: str, did: str) -> Export:
    async with runtime.sessions() as db:
        row = await db.get(Export, export_id)
    if row is None or row.did != did:
        raise _not_found()
    return row


async def export_status(runtime: Runtime, export_id: str, did: str) -> ExportView:
    return _view(await _own(runtime, export_id, did))


async def latest_export(runtime: Runtime, did: str) -> ExportView | None:
    async with runtime.sessions() as db:
        row = await db.scalar(
            select(Export).where(Export.did == did).order_by(Export.created_at.desc()).limit(1)
        )
    return _view(row) if row is not None else None


async def export_download(runtime: Runtime, export_id: str, did: str) -> Download:
    """The finished zip of the caller's export: 404 when it is not theirs, 410 once expired,
    409 while it is being made or when it failed."""
    row = await _own(runtime, export_id, did)
    view = _view(row)
    if view.status == EXPIRED:
        raise ServiceError(410, "expired", "this export's link has expired; start a new export")
    if view.status == FAILED:
        raise ServiceError(409, "export_failed", f"this export failed: {row.error or 'unknown'}")
    if view.status != READY or row.object_key is None:
        raise ServiceError(409, "not_ready", "this export is not ready yet")
    if await runtime.storage.stat(row.object_key) is None:  # swept, or lost by storage
        raise ServiceError(410, "expired", "this export's zip is gone; start a new export")
    async with runtime.sessions() as db:
        handle = await db.scalar(select(Artist.handle).where(Artist.did == did))
    return Download(row.object_key, row.size_bytes, f"plyr-{handle}-{row.created_at:%Y-%m-%d}.zip")


# --- the jobs -------------------------------------------------------------------------


async def _update(runtime: Runtime, export_id: str, **values: Any) -> None:
    async with runtime.sessions() as db:
        await db.execute(update(Export).where(Export.id == export_id).values(**values))
        await db.commit()


async def _reporting(
    runtime: Runtime, export_id: str, archive: Archive, report: ProgressReporter | None
) -> AsyncGenerator[bytes, None]:
    """The zip's chunks, with its progress written to the row about once a second."""
    progress = archive.progress
    last = time.monotonic()
    async with aclosing(archive.chunks()) as chunks:
        async for chunk in chunks:
            yield chunk
            if time.monotonic() - last < PROGRESS_EVERY_SECONDS:
                continue
            last = time.monotonic()
            done = min(0.99, progress.fraction)  # 1.0 is for "ready"
            await _update(runtime, export_id, progress=done, files=progress.files)
            if report is not None:
                message = f"{progress.files} files, {progress.done_bytes / 1e6:.0f} MB"
                await report("packing", done, message)


async def build_export(
    runtime: Runtime, export_id: str, report: ProgressReporter | None = None
) -> dict[str, Any] | None:
    """Write the export's zip into storage and mark it ready (the export.build job)."""
    async with runtime.sessions() as db:
        row = await db.get(Export, export_id)
        if row is None or row.status not in UNFINISHED:
            return None  # gone with its account, or finished by an earlier attempt
        row.status, row.error = RUNNING, None
        row.object_key = row.object_key or f"{NAMESPACE}/{row.id}-{secrets.token_hex(16)}.zip"
        did, key = row.did, row.object_key
        await db.commit()
    try:
        archive = await prepare(runtime, did)
    except ServiceError as exc:
        if exc.status == 404:
            raise PermanentJobError(exc.message) from exc
        raise
    # Closed here whatever put does: a failed write stops the zip and its reads at once.
    async with aclosing(_reporting(runtime, export_id, archive, report)) as chunks:
        stored = await runtime.storage.put(key, chunks, "application/zip")
    expires_at = utcnow() + timedelta(hours=runtime.settings.export_link_hours)
    async with runtime.sessions() as db:
        row = await db.get(Export, export_id)
        if row is not None:
            row.status, row.error, row.progress = READY, None, 1.0
            row.size_bytes, row.files, row.expires_at = (
                stored.size,
                archive.progress.files,
                expires_at,
            )
        # Due when the link dies; it also takes the zip of a row deleted with its account.
        await enqueue(
            db,
            EXPIRE,
            {"export_id": export_id, "key": key},
            run_at=expires_at if row is not None else utcnow(),
            dedupe_key=f"{EXPIRE}:{export_id}",
        )
        await db.commit()
    return {"size_bytes": stored.size, "files": archive.progress.files}


@job_handler(BUILD, max_attempts=BUILD_ATTEMPTS)
async def build_job(ctx: JobContext) -> dict[str, Any] | None:
    runtime: Runtime = ctx.services["runtime"]
    export_id = str(ctx.payload["export_id"])
    try:
        return await build_export(runtime, export_id, ctx.report)
    except Exception as exc:
        message = (str(exc) or type(exc).__name__)[:500]
        if ctx.last_attempt or isinstance(exc, PermanentJobError):
            await _update(runtime, export_id, status=FAILED, error=message)
        else:
            await _update(runtime, export_id, error=f"{message}; trying again")
        raise


async def sweep_expired(runtime: Runtime, now: datetime | None = None) -> int:
    """Delete the zips of exports past their time and mark them expired; how many."""
    now = now or utcnow()
    async with runtime.sessions() as db:
        rows = list(
            await db.scalars(select(Export).where(Export.status == READY, Export.expires_at <= now))
        )
    for row in rows:
        if row.object_key:
            await runtime.storage.delete(row.object_key)  # before the row: a retry finds it
        await _update(runtime, row.id, status=EXPIRED, object_key=None)
    return len(rows)


@job_handler(EXPIRE)
async def expire_job(ctx: JobContext) -> dict[str, Any]:
    runtime: Runtime = ctx.services["runtime"]
    expired = await sweep_expired(runtime)
    key = ctx.payload.get("key")
    async with runtime.sessions() as db:
        row = await db.get(Export, str(ctx.payload.get("export_id", "")))
    if key and (row is None or row.object_key != key):
        await runtime.storage.delete(str(key))  # its row went with the account
    return {"expired": expired}

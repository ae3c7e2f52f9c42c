"""What a killed process leaves of uploads, swept when the next process starts.

`kill -9`, a power cut or the OOM killer stop a process without its cleanup running. The
jobs it was running are taken up again by the next worker (`jobs.worker` reclaims them), so
processing resumes; what remains is on disk and in a few rows:

- the files of forms still being received and the work folders of processing, in
  `<data_dir>/tmp`;
- objects local storage was half-way through writing, in `<media>/.tmp`;
- incoming files no upload will claim (stored just before the upload's row would have
  been committed, or left when a finished upload's cleanup was cut short);
- uploads still "processing" whose job is gone or failed for good: nothing would ever
  finish them, so they fail with a message and their incoming files go.

Several processes may share a data folder (a web process and a worker on one host), and a
scratch file must not be taken from under a live one. Each process marks itself alive in
`<data_dir>/tmp/.live` while it runs; a live process's files are all younger than its mark,
so what is older than the oldest live mark belongs to a process that is gone.

Local storage only for the files: on S3, half-written objects are the bucket's incomplete
multipart uploads (an abort rule cleans them), and incoming objects are listed nowhere but
in the rows (an expiry rule on `incoming/` is the S3 way).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy import or_, select

from plyr.db.models import Job, JobStatus, Upload, UploadStatus
from plyr.jobs.worker import pid_alive
from plyr.runtime import Runtime
from plyr.storage.local import TMP_DIR, LocalStorage

log = logging.getLogger(__name__)

LIVE_DIR = ".live"
INCOMING = "incoming"


@dataclass(frozen=True, slots=True)
class LiveMark:
    """This process's mark in the data folder: removed when it stops cleanly (a killed
    process's mark is removed by the next sweep, its pid being gone)."""

    path: Path

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Swept:
    scratch: int = 0
    partial_writes: int = 0
    incoming: int = 0
    failed_uploads: int = 0


def scratch_root(runtime: Runtime) -> Path:
    """Where forms being received and processing work are kept."""
    return runtime.settings.data_dir / "tmp"


def mark_alive(runtime: Runtime) -> LiveMark:
    live = scratch_root(runtime) / LIVE_DIR
    live.mkdir(parents=True, exist_ok=True)
    mark = live / f"{os.getpid()}-{secrets.token_hex(4)}"
    mark.touch()
    return LiveMark(mark)


def oldest_live_start(live_dir: Path) -> float:
    """When the oldest process still running started (its mark's time); the marks of
    processes that are gone are removed on the way."""
    oldest = time.time()
    for mark in live_dir.iterdir() if live_dir.is_dir() else ():
        pid = mark.name.split("-", 1)[0]
        if not pid.isdigit() or not pid_alive(int(pid)):
            mark.unlink(missing_ok=True)
            continue
        with contextlib.suppress(FileNotFoundError):
            oldest = min(oldest, mark.stat().st_mtime)
    return oldest


def _last_change(path: Path) -> float:
    """The latest modification of a file, or of a folder and anything in it."""
    latest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for inner in path.rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                latest = max(latest, inner.lstat().st_mtime)
    return latest


def sweep_folder(folder: Path, before: float, *, keep: frozenset[str] = frozenset()) -> int:
    """Remove the entries of `folder` (but `keep`) that nothing changed since `before`."""
    removed = 0
    for entry in folder.iterdir() if folder.is_dir() else ():
        if entry.name in keep:
            continue
        try:
            if _last_change(entry) >= before:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue  # removed meanwhile by whoever owned it
        removed += 1
    return removed


async def _claimed_incoming(runtime: Runtime) -> set[str]:
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Upload.incoming_audio_key, Upload.incoming_image_key).where(
                Upload.status == UploadStatus.processing
            )
        )
    return {key for row in rows for key in row if key}


def _sweep_incoming_files(storage: LocalStorage, claimed: set[str], before: float) -> int:
    removed = 0
    emptied: set[Path] = set()
    folder = storage.root / INCOMING
    # Deepest first, so a folder (older layouts: one per upload) comes after its files.
    for path in sorted(folder.rglob("*") if folder.is_dir() else (), reverse=True):
        try:
            if path.is_dir():
                if path in emptied or path.stat().st_mtime < before:
                    with contextlib.suppress(OSError):
                        path.rmdir()  # only when empty
                continue
            if path.stat().st_mtime >= before:
                continue
            if path.relative_to(storage.root).as_posix() in claimed:
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        emptied.add(path.parent)
        removed += 1
    return removed


async def fail_stranded_uploads(runtime: Runtime) -> int:
    """Uploads still processing whose job is gone or failed for good fail with a message,
    and their incoming files are deleted."""
    async with runtime.sessions() as db:
        rows = (
            await db.execute(
                select(Upload, Job.last_error)
                .outerjoin(Job, Job.id == Upload.job_id)
                .where(
                    Upload.status == UploadStatus.processing,
                    or_(Job.id.is_(None), Job.status == JobStatus.failed),
                )
            )
        ).all()
        keys: list[str] = []
        for upload, last_error in rows:
            upload.status = UploadStatus.failed
            upload.error = (
                f"processing stopped: {last_error}"
                if last_error
                else "processing stopped and cannot resume; upload the file again"
            )[:500]
            keys += [k for k in (upload.incoming_audio_key, upload.incoming_image_key) if k]
            upload.incoming_audio_key = upload.incoming_image_key = None
        await db.commit()
    for key in keys:  # after the commit: a crash here leaves files the next sweep finds
        await runtime.storage.delete(key)
    return len(rows)


async def sweep_leftovers(runtime: Runtime) -> Swept:
    """Sweep what stopped processes left (call after `mark_alive`)."""
    before = await anyio.to_thread.run_sync(oldest_live_start, scratch_root(runtime) / LIVE_DIR)
    scratch = await anyio.to_thread.run_sync(
        lambda: sweep_folder(scratch_root(runtime), before, keep=frozenset({LIVE_DIR}))
    )
    partial = incoming = 0
    storage = runtime.storage
    if isinstance(storage, LocalStorage):
        partial = await anyio.to_thread.run_sync(sweep_folder, storage.root / TMP_DIR, before)
        claimed = await _claimed_incoming(runtime)
        incoming = await anyio.to_thread.run_sync(_sweep_incoming_files, storage, claimed, before)
    failed = await fail_stranded_uploads(runtime)
    return Swept(scratch, partial, incoming, failed)


async def on_start(runtime: Runtime) -> LiveMark:
    """Mark this process alive, then sweep; a failed sweep is logged, never fatal."""
    mark = await anyio.to_thread.run_sync(mark_alive, runtime)
    try:
        swept = await sweep_leftovers(runtime)
    except Exception:
        log.exception("sweeping what stopped processes left failed")
        return mark
    if swept != Swept():
        log.info(
            "swept what stopped processes left: %d scratch entries, %d partial writes, "
            "%d incoming files, %d uploads failed",
            swept.scratch,
            swept.partial_writes,
            swept.incoming,
            swept.failed_uploads,
        )
    return mark

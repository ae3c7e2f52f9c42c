"""The export job on S3 storage (SeaweedFS), on SQLite and PostgreSQL: the zip goes up as a
multipart upload while it is made (bigger than a part), reads back byte for byte, and the
sweep deletes it from the bucket once expired.

Outside tests/export/ on purpose: no plyr of that package (with its job worker on the same
database) may be running, or its worker would take this export's job."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from plyr.db.models import Artist, Export, PublishState, Track, utcnow
from plyr.export.jobs import build_export, export_download, start_export, sweep_expired
from plyr.runtime import Runtime
from plyr.storage.base import content_key
from tests.support.databases import clear_tables
from tests.support.ports import free_port
from tests.support.seaweedfs import S3Server
from tests.support.storage import MIB, PART_SIZE, admin_client, remove_bucket, s3_settings

pytestmark = pytest.mark.s3

DID = "did:plc:s3exportuser0000000000000"


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_the_job_streams_its_zip_into_s3(
    s3_server: S3Server, db_url: str, tmp_path: Path
) -> None:
    settings = s3_settings(tmp_path, s3_server, database_url=db_url)
    runtime = Runtime.open(settings)
    try:
        await runtime.storage.check()  # makes the bucket
        original = os.urandom(PART_SIZE + 3 * MIB)  # the zip needs a multipart upload
        digest = hashlib.sha256(original).hexdigest()
        key = content_key("audio", digest, "flac")
        await runtime.storage.put(key, _once(original), "audio/flac")
        async with runtime.sessions() as db:
            db.add(Artist(did=DID, handle="s3.test", pds_url=f"http://127.0.0.1:{free_port()}"))
            await db.flush()
            db.add(
                Track(
                    artist_did=DID,
                    title="on s3",
                    artist_name="s3",
                    file_type="flac",
                    content_hash=digest,
                    original_key=key,
                    rkey="3ls3track0000",
                    publish_state=PublishState.published,
                )
            )
            await db.commit()

        started = await start_export(runtime, DID)
        assert await build_export(runtime, started.id) is not None
        download = await export_download(runtime, started.id, DID)
        assert download.size is not None
        assert download.size > PART_SIZE
        data = b"".join([chunk async for chunk in runtime.storage.get_range(download.key)])
        assert len(data) == download.size
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.testzip() is None
            manifest = json.loads(archive.read("manifest.json"))
            (track,) = manifest["tracks"]
            assert archive.read(track["original"]["file"]) == original
        assert track["original"]["sha256"] == digest
        assert manifest["records"]["source"] == "plyr"  # no PDS here: plyr's copies

        async with runtime.sessions() as db:
            await db.execute(
                update(Export)
                .where(Export.id == started.id)
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
            await db.commit()
        assert await sweep_expired(runtime) == 1
        assert await runtime.storage.stat(download.key) is None
        assert await runtime.storage.stat(key) is not None  # the original stays, of course
    finally:
        await clear_tables(runtime.engine)
        await runtime.close()
        async with admin_client(s3_server) as admin:
            await remove_bucket(admin, settings.s3_bucket)

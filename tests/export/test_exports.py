"""Exporting everything of a user's, both ways (the zip streamed by `GET /api/me/export` and
the job's zip behind an expiring link), on SQLite and PostgreSQL against the real PDS:
originals byte for byte as uploaded, artwork, a complete manifest, records as the PDS holds
them; only the owner downloads; an expired link is 410 and its zip is swept; with the PDS
down the export still comes, with plyr's copies of the records and a note saying so; and
`plyr export` writes the same zip to a file."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME
from plyr.db.models import Artist, Export, Job, utcnow
from plyr.export.jobs import EXPIRE, sweep_expired
from tests.support.cli import plyr_env, run_plyr
from tests.support.exports import (
    Library,
    check_export,
    check_manifest_and_files,
    open_zip,
    pds_records,
    plyr_collections,
    zipped_records,
)
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn
from tests.support.ports import free_port

pytestmark = pytest.mark.browser  # users sign in through the PDS in Chromium


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what plyr's copy cannot know exactly: `updatedAt` (a row's
    updated_at moves when the sync marks it published, after the record went out) and the
    type the PDS named a blob (`audio/x-flac` for plyr's `audio/flac`)."""
    kept: dict[str, Any] = {}
    for name, value in record.items():
        if name == "updatedAt":
            continue
        if isinstance(value, dict) and value.get("$type") == "blob":
            value = {key: part for key, part in value.items() if key != "mimeType"}
        kept[name] = value
    return kept


async def _finished(http: httpx.AsyncClient, export_id: str) -> tuple[dict[str, Any], list[float]]:
    """Follow an export until it is done; its last status and the progress seen on the way."""
    seen: list[float] = []
    async with asyncio.timeout(60):
        while True:
            status = (await http.get(f"/api/me/exports/{export_id}")).json()
            seen.append(status["progress"])
            if status["status"] not in ("queued", "running"):
                return status, seen
            await asyncio.sleep(0.05)


async def test_the_streamed_export_holds_everything(
    plyr: PlyrServer, alice: SignedIn, library: Library, atproto_net: Network
) -> None:
    async with alice.client(plyr) as http:
        head = await http.head("/api/me/export")
        assert head.status_code == 200
        assert head.content == b""
        response = await http.get("/api/me/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="plyr-alice.test-')
    assert "content-length" not in response.headers  # streamed as it is made
    await check_export(response.content, library, plyr, atproto_net)

    async with httpx.AsyncClient(base_url=plyr.url) as anonymous:
        refused = await anonymous.get("/api/me/export")
    assert refused.status_code == 401


async def test_the_job_makes_a_zip_behind_an_expiring_link_for_its_owner_only(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, library: Library, atproto_net: Network
) -> None:
    async with alice.client(plyr) as http:
        started = await http.post("/api/me/exports")
        assert started.status_code == 202, started.text
        export_id = started.json()["id"]
        assert started.json()["status"] in ("queued", "running")
        status, seen = await _finished(http, export_id)
        assert status["status"] == "ready", status
        assert seen == sorted(seen)  # progress only goes forward
        assert status["progress"] == 1.0
        expires = status["expires_at"]
        assert status["download_url"] == f"/api/me/exports/{export_id}/download"
        download = await http.get(status["download_url"])
        assert download.status_code == 200, download.text
        assert download.headers["content-disposition"].startswith("attachment;")
        assert int(download.headers["content-length"]) == status["size_bytes"]
        head = await http.head(status["download_url"])
        assert head.status_code == 200
        assert head.headers["content-length"] == download.headers["content-length"]
    manifest = await check_export(download.content, library, plyr, atproto_net)
    assert status["files"] == len(open_zip(download.content).namelist())
    assert len(manifest["tracks"]) >= len(library.tracks)

    async with plyr.runtime.sessions() as db:
        row = await db.get(Export, export_id)
        assert row is not None
        key = row.object_key
        assert key is not None
        assert key.startswith("exports/")
        expiry_job = await db.scalar(select(Job).where(Job.dedupe_key == f"{EXPIRE}:{export_id}"))
        assert expiry_job is not None
        assert row.expires_at is not None
        assert abs((expiry_job.run_at - row.expires_at).total_seconds()) < 1
    assert abs(row.expires_at - (utcnow() + timedelta(hours=24))) < timedelta(minutes=5)
    assert expires is not None
    stored = plyr.settings.effective_storage_local_dir / key
    assert stored.is_file()

    # Not bob's, not anyone's: 404 as if there were nothing; not under /media either.
    async with bob.client(plyr) as http:
        assert (await http.get(f"/api/me/exports/{export_id}")).status_code == 404
        assert (await http.get(f"/api/me/exports/{export_id}/download")).status_code == 404
    async with httpx.AsyncClient(base_url=plyr.url) as anonymous:
        assert (await anonymous.get(f"/api/me/exports/{export_id}/download")).status_code == 401
        assert (await anonymous.get(f"/media/{key}")).status_code == 404

    # Past its time: 410 at once (before any sweep), then the sweep deletes the zip.
    async with plyr.runtime.sessions() as db:
        await db.execute(
            update(Export)
            .where(Export.id == export_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    async with alice.client(plyr) as http:
        gone = await http.get(f"/api/me/exports/{export_id}/download")
        assert gone.status_code == 410, gone.text
        assert gone.json()["error"]["code"] == "expired"
        assert (await http.get(f"/api/me/exports/{export_id}")).json()["status"] == "expired"
    # The export.expire job, due at the old expiry, is made due now: the worker sweeps.
    async with plyr.runtime.sessions() as db:
        await db.execute(update(Job).where(Job.id == expiry_job.id).values(run_at=utcnow()))
        await db.commit()
    async with asyncio.timeout(30):
        while True:
            async with plyr.runtime.sessions() as db:
                row = await db.get(Export, export_id)
            assert row is not None
            if row.status == "expired":
                break
            await asyncio.sleep(0.1)
    assert row.object_key is None
    assert not stored.exists()
    assert await sweep_expired(plyr.runtime) == 0  # nothing left to sweep


async def test_with_the_pds_down_plyr_s_copies_of_the_records_stand_in(
    plyr: PlyrServer, alice: SignedIn, library: Library, atproto_net: Network
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with plyr.runtime.sessions() as db:
        artist = await db.get(Artist, alice.did)
        assert artist is not None
        pds_url = artist.pds_url
        artist.pds_url = dead
        await db.commit()
    try:
        async with alice.client(plyr) as http:
            response = await http.get("/api/me/export")
    finally:
        async with plyr.runtime.sessions() as db:
            await db.execute(update(Artist).where(Artist.did == alice.did).values(pds_url=pds_url))
            await db.commit()
    assert response.status_code == 200, response.text
    archive = open_zip(response.content)
    manifest = await check_manifest_and_files(archive, library, plyr)
    records = manifest["records"]
    assert records["source"] == "plyr"
    assert dead in records["note"]
    assert "could not be read" in records["note"]
    assert {entry["source"] for entry in records["files"]} == {"plyr"}
    # Each stand-in is the record the PDS holds under that key (built the same way), as far
    # as plyr can know it (the note says the copies may differ).
    for collection in plyr_collections():
        held = await pds_records(atproto_net, alice.did, collection)
        built = zipped_records(archive, collection)
        assert set(built) <= set(held), collection
        for rkey, value in built.items():
            assert _comparable(value) == _comparable(held[rkey]), (collection, rkey)
    tracks = zipped_records(archive, "fm.plyr.track")
    assert {t.uri.rsplit("/", 1)[-1] for t in library.tracks} <= set(tracks)
    assert zipped_records(archive, "fm.plyr.actor.profile")["self"]["bio"] == library.bio
    assert zipped_records(archive, "fm.plyr.like")
    assert zipped_records(archive, "fm.plyr.list")


async def test_the_portal_form_starts_an_export_without_javascript(
    plyr: PlyrServer, bob: SignedIn
) -> None:
    async with bob.client(plyr) as http:
        started = await http.post(
            "/portal/export", data={"csrf_token": bob.csrf}, headers={"Accept": "text/html"}
        )
        assert started.status_code == 303
        assert started.headers["location"] == "/portal?done=export-started#export"
        page = await http.get("/portal?done=export-started", headers={"Accept": "text/html"})
        assert "your export is being made" in page.text
        assert "your originals come to 0.0 mb" in page.text  # bob uploaded nothing
        export_id = page.text.split('data-export-id="', 1)[1].split('"', 1)[0]
        status, _seen = await _finished(http, export_id)
        assert status["status"] == "ready", status
        zipped = await http.get(status["download_url"])
    manifest = json.loads(open_zip(zipped.content).read("manifest.json"))
    assert manifest["user"]["did"] == bob.did
    assert manifest["tracks"] == []
    cookie_only = {COOKIE_NAME: bob.cookie}  # a form from another site: no CSRF token
    async with httpx.AsyncClient(base_url=plyr.url, cookies=cookie_only) as forger:
        forged = await forger.post(
            "/portal/export", data={"csrf_token": "nope"}, headers={"Accept": "text/html"}
        )
    assert forged.status_code == 403


async def test_plyr_export_writes_the_same_zip_to_a_file(
    plyr: PlyrServer, alice: SignedIn, library: Library, atproto_net: Network, tmp_path: Path
) -> None:
    settings = plyr.settings
    env = plyr_env(
        settings.data_dir,
        PLYR_DATABASE_URL=settings.effective_database_url,
        PLYR_SECRET_KEY="test-secret-key-not-for-production",
        PLYR_ATPROTO_DEV_NETWORK="true",
        PLYR_PLC_URL=settings.plc_url,
        PLYR_PUBLIC_URL=settings.public_url,
    )
    out = tmp_path / "alice.zip"
    run = await run_plyr("export", "--did", "alice.test", "--out", str(out), env=env, cwd=tmp_path)
    assert run.returncode == 0, str(run)
    assert "records: from the pds" in run.output
    assert out.stat().st_mode & 0o777 == 0o600  # it holds everything of hers
    await check_export(out, library, plyr, atproto_net)
    again = await run_plyr("export", "--did", alice.did, "--out", str(out), env=env, cwd=tmp_path)
    assert again.returncode == 1
    assert "exists" in again.output
    nobody = await run_plyr(
        "export", "--did", "nobody.test", "--out", str(tmp_path / "n.zip"), env=env, cwd=tmp_path
    )
    assert nobody.returncode == 1
    assert "no user" in nobody.output
    assert not (tmp_path / "n.zip").exists()
    assert json.loads(open_zip(out).read("manifest.json"))["user"]["handle"] == "alice.test"

"""After the upload: publishing while the PDS is away, retries, owner-only edits, play counts."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from plyr.atproto.devnet import Network
from plyr.db.models import Job
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, point_sessions_at, upload
from tests.support.uploads import follow_progress, public_record, stored_objects

pytestmark = pytest.mark.browser


async def test_pds_down_keeps_publishing_then_recovers(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "patient.ogg", "ogg-opus", freq=450)
    await point_sessions_at(plyr, alice.did, "http://127.0.0.1:9")  # nothing listens there
    try:
        async with alice.client(plyr) as http:
            accepted = await upload(http, source, title="patient")
            upload_id = accepted.json()["upload_id"]
            for _ in range(100):
                status = (await http.get(f"/api/uploads/{upload_id}")).json()
                if status["phase"] == "publishing" and status["message"].endswith("retrying"):
                    break
                await asyncio.sleep(0.1)
            assert status["phase"] == "publishing", status
            assert "pds" in status["message"]
            assert status["done"] is False
            track_id = status["track_id"]
            page = await http.get(f"/tracks/{track_id}", headers={"Accept": "text/html"})
            assert "publishing to your pds" in page.text
    finally:
        await point_sessions_at(plyr, alice.did, atproto_net.pds_url)
    async with alice.client(plyr) as http:
        final = (await follow_progress(http, f"/api/uploads/{upload_id}/progress"))[-1]
        assert final["phase"] == "published"


async def test_failed_publish_can_be_retried(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "retry.m4a", "m4a-aac", freq=470)
    await point_sessions_at(plyr, alice.did, "http://127.0.0.1:9")
    async with alice.client(plyr) as http:
        accepted = await upload(http, source, title="retry me")
        upload_id = accepted.json()["upload_id"]
        for _ in range(200):  # the publish job exhausts its attempts quickly here
            status = (await http.get(f"/api/uploads/{upload_id}")).json()
            if status["track_id"]:
                async with plyr.runtime.sessions() as db:
                    await db.execute(
                        update(Job)
                        .where(Job.kind == "track.publish", Job.status == "queued")
                        .values(max_attempts=Job.attempts + 1)
                    )
                    await db.commit()
            if status["done"]:
                break
            await asyncio.sleep(0.1)
        assert status["phase"] == "failed", status
        assert "pds" in status["error"]
        track_id = status["track_id"]
        await point_sessions_at(plyr, alice.did, atproto_net.pds_url)
        retried = await http.post(f"/api/tracks/{track_id}/publish")
        assert retried.status_code == 202
        final = (await follow_progress(http, f"/api/uploads/{upload_id}/progress"))[-1]
        assert final["phase"] == "published"


async def test_edit_and_delete_only_by_the_owner(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "edit.wav", "wav", freq=510)
    async with alice.client(plyr) as http:
        accepted = await upload(http, source, title="first title")
        final = (await follow_progress(http, accepted.json()["progress_url"]))[-1]
        track_id = final["track_id"]
        before = (await http.get(f"/api/tracks/{track_id}")).json()

    async with bob.client(plyr) as http:
        assert (
            await http.patch(f"/api/tracks/{track_id}", json={"title": "mine"})
        ).status_code == 403
        assert (await http.delete(f"/api/tracks/{track_id}")).status_code == 403

    async with alice.client(plyr) as http:
        edited = await http.patch(
            f"/api/tracks/{track_id}", json={"title": "second title", "tags": ["edited"]}
        )
        assert edited.status_code == 200
        for _ in range(100):
            after = (await http.get(f"/api/tracks/{track_id}")).json()
            if after["publish_state"] == "published" and after["cid"] != before["cid"]:
                break
            await asyncio.sleep(0.1)
        assert after["uri"] == before["uri"]  # same rkey: the record is rewritten in place
        record = await public_record(atproto_net, after["uri"])
        assert record["value"]["title"] == "second title"
        assert record["value"]["tags"] == ["edited"]

        objects = stored_objects(plyr)
        assert (await http.delete(f"/api/tracks/{track_id}")).status_code == 202
        assert (await http.get(f"/api/tracks/{track_id}")).status_code == 404
        for _ in range(100):
            if (await public_record(atproto_net, after["uri"]))["status"] != 200:
                break
            await asyncio.sleep(0.1)
        assert (await public_record(atproto_net, after["uri"]))["status"] == 400
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    audio_key = f"audio/{digest[:2]}/{digest}.wav"
    assert audio_key in objects
    for _ in range(100):  # the files go once no track uses them
        if audio_key not in stored_objects(plyr):
            break
        await asyncio.sleep(0.1)
    assert audio_key not in stored_objects(plyr)


async def test_plays_count_once_and_only_after_the_threshold(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "plays.mp3", "mp3", seconds=2.0, freq=640)
    async with alice.client(plyr) as http:
        accepted = await upload(http, source, title="count me")
        track_id = (await follow_progress(http, accepted.json()["progress_url"]))[-1]["track_id"]
    async with httpx.AsyncClient(base_url=plyr.url) as listener:
        started = (await listener.post(f"/api/tracks/{track_id}/listens")).json()
        assert started["threshold_ms"] == 600  # 30 % of 2 s
        token = started["listen_token"]
        early = await listener.post("/api/plays", json={"listen_token": token, "listened_ms": 700})
        assert early.status_code == 422  # claims 0.7 s of listening a moment after starting
        short = await listener.post("/api/plays", json={"listen_token": token, "listened_ms": 100})
        assert short.status_code == 422
        await asyncio.sleep(0.7)
        counted = await listener.post(
            "/api/plays", json={"listen_token": token, "listened_ms": 700}
        )
        assert counted.status_code == 201
        assert counted.json()["play_count"] == 1
        twice = await listener.post("/api/plays", json={"listen_token": token, "listened_ms": 700})
        assert twice.status_code == 409
        forged = await listener.post(
            "/api/plays", json={"listen_token": token[:-4] + "AAAA", "listened_ms": 700}
        )
        assert forged.status_code == 422
        track = (await listener.get(f"/api/tracks/{track_id}")).json()
        assert track["play_count"] == 1

"""Uploading real audio end to end: plyr (web + worker) on loopback, signed in through the
real PDS, files in every accepted format generated with PyAV, the records read back from
the PDS. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import delete, func, select, update

from plyr.atproto import dagcbor
from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME
from plyr.db.models import Job, RateLimitHit, Track, Upload
from tests.conftest import devnet_settings
from tests.support.audio import (
    make_audio,
    make_garbage_after_header,
    make_image,
    make_text,
    make_truncated,
    make_zip,
)
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, point_sessions_at, sign_in, upload

pytestmark = pytest.mark.browser

FORMATS = {
    # format: (stream content type, file type in the record, transcoded?)
    "mp3": ("audio/mpeg", "mp3", False),
    "wav": ("audio/wav", "wav", False),
    "aiff": ("audio/mpeg", "mp3", True),
    "flac": ("audio/flac", "flac", False),
    "ogg-vorbis": ("audio/mpeg", "mp3", True),
    "ogg-opus": ("audio/ogg", "opus", False),
    "m4a-aac": ("audio/mp4", "m4a", False),
    "m4a-alac": ("audio/mpeg", "mp3", True),
    "webm-opus": ("audio/webm", "webm", False),
}


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-uploads"),
        db_url,
        atproto_net,
        max_upload_bytes=8 * 1024 * 1024,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="module")
async def bob(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "bob.test")


async def follow_progress(http: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Read the Server-Sent Events stream until the upload is done."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(60), http.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
                if events[-1]["done"]:
                    break
    return events


async def public_record(net: Network, uri: str) -> dict[str, Any]:
    did, collection, rkey = uri.removeprefix("at://").split("/")
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{net.pds_url}/xrpc/com.atproto.repo.getRecord",
            params={"repo": did, "collection": collection, "rkey": rkey},
        )
    return dict(response.json()) | {"status": response.status_code}


def stored_objects(plyr: PlyrServer) -> set[str]:
    root = plyr.settings.effective_storage_local_dir
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def temp_files(plyr: PlyrServer) -> list[Path]:
    tmp = plyr.settings.data_dir / "tmp"
    return [p for p in tmp.rglob("*") if p.is_file()] if tmp.exists() else []


async def count(plyr: PlyrServer, model: Any) -> int:
    async with plyr.runtime.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


# --- every format ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(FORMATS))
async def test_upload_every_format_publishes_and_streams(
    fmt: str, plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    stream_type, file_type, transcoded = FORMATS[fmt]
    source = make_audio(tmp_path / f"tone-{fmt}.bin", fmt, seconds=2.0, freq=330 + len(fmt))
    async with alice.client(plyr) as http:
        accepted = await upload(http, source, title=f"tone in {fmt}", tags="test, Tones ,#sine")
        assert accepted.status_code == 202, accepted.text
        events = await follow_progress(http, accepted.json()["progress_url"])
        final = events[-1]
        assert final["phase"] == "published", events
        assert final["error"] is None
        percents = [event["percent"] for event in events]
        assert percents == sorted(percents)  # progress never goes backwards
        track = (await http.get(f"/api/tracks/{final['track_id']}")).json()

        assert track["title"] == f"tone in {fmt}"
        assert track["tags"] == ["test", "tones", "sine"]
        assert track["file_type"] == file_type
        assert track["duration"] == 2
        assert track["gain_db"] is not None

        ranged = await http.get(track["audio_url"], headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 206
        assert ranged.headers["content-type"].startswith(stream_type)
        assert len(ranged.content) == 100
        whole = await http.get(track["audio_url"])
        original = await http.get(track["download_url"])
        assert (
            hashlib.sha256(original.content).digest()
            == hashlib.sha256(source.read_bytes()).digest()
        )
        assert (whole.content == original.content) is not transcoded

    record = await public_record(atproto_net, track["uri"])
    assert record["cid"] == track["cid"]
    value = record["value"]
    assert value["$type"] == "fm.plyr.track"
    assert value["title"] == f"tone in {fmt}"
    assert value["fileType"] == file_type
    assert value["duration"] == 2
    assert value["tags"] == ["test", "tones", "sine"]
    assert value["audioUrl"] == track["audio_url"]
    # Small files also go into the PDS as the record's blob: the bytes we stream. The PDS
    # names the type itself (audio/x-flac, audio/vnd.wave…); WebM it calls video/webm,
    # which the lexicon's audio/* refuses, so WebM tracks carry audioUrl only.
    if fmt == "webm-opus":
        assert "audioBlob" not in value
    else:
        blob = value["audioBlob"]
        assert blob["ref"]["$link"] == dagcbor.cid_for_bytes(whole.content, codec="raw")
        assert blob["mimeType"].startswith("audio/")
        assert blob["size"] == len(whole.content)


async def test_file_tags_and_cover_fill_empty_fields(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    cover = make_image(tmp_path / "cover.jpg", "jpeg", (800, 800))
    source = make_audio(
        tmp_path / "tagged.mp3",
        "mp3",
        tags={"title": "From The Tags", "album": "Tagged Album"},
        cover=cover.read_bytes(),
        freq=523,
    )
    async with alice.client(plyr) as http:
        accepted = await upload(http, source)
        final = (await follow_progress(http, accepted.json()["progress_url"]))[-1]
        assert final["phase"] == "published"
        assert any("title taken from the file" in w for w in final["warnings"])
        track = (await http.get(f"/api/tracks/{final['track_id']}")).json()
        assert track["title"] == "From The Tags"
        assert track["album"] == "Tagged Album"
        thumb = await http.get(track["thumbnail_url"])
        assert thumb.status_code == 200
        assert thumb.content[:4] == b"RIFF"  # a WebP thumbnail
    record = await public_record(atproto_net, track["uri"])
    assert record["value"]["imageUrl"] == track["image_url"]


async def test_uploaded_artwork_and_duplicates(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "dupe.flac", "flac", freq=777)
    art = make_image(tmp_path / "art.heic", "heic", (600, 600))
    async with alice.client(plyr) as http:
        first = await upload(http, source, title="original", image=art)
        final = (await follow_progress(http, first.json()["progress_url"]))[-1]
        assert final["phase"] == "published"
        track = (await http.get(f"/api/tracks/{final['track_id']}")).json()
        assert (await http.get(track["image_url"])).status_code == 200
        objects = stored_objects(plyr)
        tracks = await count(plyr, Track)

        again = await upload(http, source, title="the same bytes")
        final = (await follow_progress(http, again.json()["progress_url"]))[-1]
        assert final["phase"] == "failed"
        assert "already uploaded this file" in final["error"]
        assert "original" in final["error"]
    assert await count(plyr, Track) == tracks
    assert stored_objects(plyr) == objects  # nothing new, nothing of the first one lost


# --- bad input ---------------------------------------------------------------------------


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, Path | None, int, str]]:
    good = make_audio(tmp_path / "good.mp3", "mp3", freq=880)
    return {
        "text renamed .mp3": (make_text(tmp_path / "notes.mp3"), None, 415, "accepted"),
        "truncated mp3": (make_truncated(good, tmp_path / "cut.mp3", 200), None, 422, ""),
        "garbage after header": (
            make_garbage_after_header(good, tmp_path / "garbage.mp3", 64),
            None,
            422,
            "",
        ),
        "zip as artwork": (good, make_zip(tmp_path / "cover.jpg"), 415, "accepted"),
    }


async def test_bad_files_are_refused_and_leave_nothing(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    async with alice.client(plyr) as http:
        for name, (audio, image, status, text) in _bad_files(tmp_path).items():
            objects, uploads = stored_objects(plyr), await count(plyr, Upload)
            response = await upload(http, audio, image=image, title=name)
            assert response.status_code == status, (name, response.text)
            error = response.json()["error"]
            assert text in error["message"], (name, error)
            assert stored_objects(plyr) == objects, name
            assert await count(plyr, Upload) == uploads, name
            assert temp_files(plyr) == [], name


async def test_oversized_upload_is_stopped_while_streaming(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    big = tmp_path / "big.wav"
    make_audio(big, "wav", seconds=60.0, sample_rate=48000)  # about 11 MB > the 8 MB limit
    objects = stored_objects(plyr)
    async with alice.client(plyr) as http:
        response = await upload(http, big, title="too big")
    assert response.status_code == 413
    assert "limit" in response.json()["error"]["message"]
    assert stored_objects(plyr) == objects
    assert temp_files(plyr) == []


async def test_invalid_fields_are_refused(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "fields.mp3", "mp3", freq=999)
    async with alice.client(plyr) as http:
        cases = {
            "too many tags": {"tags": ",".join(f"t{i}" for i in range(11))},
            "long tag": {"tags": "x" * 51},
            "long title": {"title": "t" * 257},
            "unknown featured artist": {"features": "nobody.test"},
        }
        for name, fields in cases.items():
            response = await upload(http, source, **fields)
            assert response.status_code == 422, (name, response.text)
    assert temp_files(plyr) == []


async def test_uploads_need_a_signed_in_artist_and_csrf(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "anon.mp3", "mp3", freq=600)
    async with httpx.AsyncClient(base_url=plyr.url) as anonymous:
        assert (await upload(anonymous, source)).status_code == 401
    async with httpx.AsyncClient(
        base_url=plyr.url,
        cookies={COOKIE_NAME: alice.cookie},
        headers={"Accept": "application/json"},
    ) as no_csrf:
        assert (await upload(no_csrf, source)).status_code == 403


# --- publishing when the PDS is away, edits, deletes -------------------------------------


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


async def test_browser_seeks_in_every_streamed_format(
    plyr: PlyrServer, alice: SignedIn, browser: Browser, tmp_path: Path
) -> None:
    """Each stream plyr serves plays and seeks in Chromium's <audio> (ranges, durations)."""
    track_ids: dict[str, int] = {}
    async with alice.client(plyr) as http:
        for fmt in FORMATS:
            source = make_audio(
                tmp_path / f"seek-{fmt}.bin", fmt, seconds=6.0, freq=200 + len(fmt) * 7
            )
            accepted = await upload(http, source, title=f"seek {fmt}")
            final = (await follow_progress(http, accepted.json()["progress_url"]))[-1]
            assert final["phase"] == "published", (fmt, final)
            track_ids[fmt] = final["track_id"]
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{plyr.url}/")
    try:
        for fmt, track_id in track_ids.items():
            result = await page.evaluate(
                """async (src) => {
                    const audio = new Audio();
                    audio.preload = "auto";
                    audio.src = src;
                    await new Promise((ok, fail) => {
                        audio.onloadedmetadata = ok;
                        audio.onerror = () => fail(new Error("error " + audio.error?.code));
                    });
                    audio.currentTime = 4.5;
                    await new Promise((ok) => { audio.onseeked = ok; });
                    return { duration: audio.duration, position: audio.currentTime };
                }""",
                f"{plyr.url}/audio/{track_id}",
            )
            assert abs(result["duration"] - 6.0) < 0.15, (fmt, result)
            assert abs(result["position"] - 4.5) < 0.05, (fmt, result)
    finally:
        await context.close()


async def test_uploads_are_rate_limited_for_the_api_and_the_plain_form(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    notes = make_text(tmp_path / "notes.mp3")
    async with plyr.runtime.sessions() as db:  # this hour's earlier uploads count too
        await db.execute(delete(RateLimitHit))
        await db.commit()
    limited = plyr.settings.model_copy(update={"rate_limit_uploads_per_hour": 2})
    async with running_plyr(limited) as server, alice.client(server) as http:
        first = await upload(http, notes)
        second = await http.post(
            f"/upload?csrf_token={alice.csrf}",
            files={"file": (notes.name, notes.read_bytes(), "audio/mpeg")},
            headers={"Accept": "text/html"},
        )
        third = await upload(http, notes)
    assert [first.status_code, second.status_code, third.status_code] == [415, 415, 429]
    assert "too many requests" in third.json()["error"]["message"]

"""Fixtures of the export tests: plyr (web + worker) once per database, and alice's library
made through the app as a user makes it: three real tracks (mp3 with artwork, flac, wav)
with tags and an album, a like, a comment, a reordered playlist and a bio, all published
to her PDS. bob is the other user, who must not reach her exports."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select

from plyr.atproto.devnet import Network
from plyr.db.models import Comment, Like, MusicList, Profile, RecordState
from tests.conftest import devnet_settings
from tests.support.audio import make_audio, make_image
from tests.support.databases import clear_tables
from tests.support.exports import Library, UploadedTrack
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published

MANY = 1_000_000


@pytest.fixture(scope="package")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-export"),
        db_url,
        atproto_net,
        rate_limit_writes_per_minute=MANY,
        rate_limit_uploads_per_hour=MANY,
        rate_limit_exports_per_hour=MANY,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="package")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="package")
async def bob(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "bob.test")


async def _all_published(plyr: PlyrServer, did: str) -> None:
    """Until every like, comment, list and profile of `did` is in their PDS."""
    async with asyncio.timeout(60):
        while True:
            pending = 0
            async with plyr.runtime.sessions() as db:
                for model in (Like, Comment, MusicList, Profile):
                    pending += int(
                        await db.scalar(
                            select(func.count())
                            .select_from(model)
                            .where(model.did == did, model.record_state != RecordState.published)
                        )
                        or 0
                    )
            if pending == 0:
                return
            await asyncio.sleep(0.2)


@pytest.fixture(scope="package")
async def library(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> Library:
    folder = tmp_path_factory.mktemp("export-library")
    cover = make_image(folder / "cover.png", "png", (400, 400))
    sources: list[tuple[Path, dict[str, str], Path | None]] = [
        (
            make_audio(folder / "first.mp3", "mp3", seconds=3, freq=330),
            {"title": "Night / Drive?", "album": "export album", "tags": "synth, night"},
            cover,
        ),
        (
            make_audio(folder / "second.flac", "flac", seconds=3, freq=390),
            {"title": "second", "album": "export album", "tags": "ambient"},
            None,
        ),
        (make_audio(folder / "third.wav", "wav", seconds=2, freq=450), {"title": "third"}, None),
    ]
    tracks: list[UploadedTrack] = []
    async with alice.client(plyr) as http:
        for path, fields, image in sources:
            track = await upload_published(http, path, image=image, **fields)
            data = path.read_bytes()
            tracks.append(
                UploadedTrack(
                    id=int(track["id"]),
                    title=fields["title"],
                    album=fields.get("album"),
                    tags=[t.strip() for t in fields.get("tags", "").split(",") if t.strip()],
                    extension=path.suffix.lstrip("."),
                    sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data),
                    uri=str(track["uri"]),
                    has_artwork=image is not None,
                )
            )
        liked = await http.post(f"/api/tracks/{tracks[1].id}/like")
        assert liked.status_code == 200, liked.text
        commented = await http.post(
            f"/api/tracks/{tracks[0].id}/comments", json={"text": "the drop", "timestamp_ms": 1200}
        )
        assert commented.status_code == 201, commented.text
        made = await http.post(
            "/api/lists",
            json={"type": "playlist", "name": "road", "track_ids": [t.id for t in tracks]},
        )
        assert made.status_code == 201, made.text
        playlist = made.json()
        items = [entry["item_id"] for entry in playlist["entries"]]
        reordered = await http.put(
            f"/api/lists/{playlist['id']}/order", json={"item_ids": items[::-1]}
        )
        assert reordered.status_code == 200, reordered.text
        bio = await http.put("/api/profile", json={"bio": "exports everything"})
        assert bio.status_code == 200, bio.text
    await _all_published(plyr, alice.did)
    return Library(
        did=alice.did,
        tracks=tracks,
        liked_track_id=tracks[1].id,
        comment="the drop",
        playlist_id=int(playlist["id"]),
        playlist_order=[t.id for t in reversed(tracks)],
        bio="exports everything",
    )

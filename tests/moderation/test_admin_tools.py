"""`plyr admin delete-track` and `DELETE /api/admin/tracks/{id}`: a dry run reports and
changes nothing; a deletion removes the rows, the stored files nothing else uses and, through
the artist's session, the record in their PDS; with no session left the record stays and the
report says where. Audited. alice publishes through the local PDS; bob is the operator. A
real plyr with its worker on SQLite and PostgreSQL; the CLI runs as its own process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import delete, func, select

from plyr.atproto.devnet import Network
from plyr.db.models import AuthSession, Comment, Job, JobStatus, Like, ModerationEvent, Track
from tests.conftest import devnet_settings
from tests.moderation.admin_support import run_cli
from tests.support.audio import make_audio, make_image
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, public_record, sign_in, upload_published

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-admin-tools"),
        db_url,
        atproto_net,
        admin_dids=[atproto_net.account("bob.test").did],
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


_made = 0


async def published(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, folder: Any
) -> dict[str, Any]:
    """A new track of alice's with artwork, a like and a comment of bob's."""
    global _made
    _made += 1
    audio = make_audio(folder / f"t{_made}.mp3", "mp3", seconds=2.0, freq=200.0 + 90 * _made)
    cover = make_image(folder / f"c{_made}.png", "png", size=(300 + _made, 300))
    async with alice.client(plyr) as http:
        track = await upload_published(http, audio, title=f"deletable {_made}")
        track_id = track["id"]
        added = await http.post(
            f"/api/tracks/{track_id}/artwork",
            files={"image": ("c.png", cover.read_bytes(), "image/png")},
        )
        assert added.status_code == 200, added.text
    async with bob.client(plyr) as http:
        assert (await http.post(f"/api/tracks/{track_id}/like")).status_code in (200, 201)
        said = await http.post(
            f"/api/tracks/{track_id}/comments", json={"text": "hm", "timestamp_ms": 0}
        )
        assert said.status_code == 201, said.text
    return dict(track)


async def keys_of(plyr: PlyrServer, track_id: int) -> list[str]:
    async with plyr.runtime.sessions() as db:
        track = await db.get(Track, track_id)
        assert track is not None
        keys = [
            track.original_key,
            track.stream_key,
            track.image_key,
            track.thumbnail_key,
            track.waveform_key,
        ]
    return list(dict.fromkeys(key for key in keys if key))  # an mp3 streams its original


def track_audio(keys: list[str]) -> str:
    return next(key for key in keys if key.startswith("audio/"))


async def stored(plyr: PlyrServer, keys: list[str]) -> list[bool]:
    return [await plyr.runtime.storage.stat(key) is not None for key in keys]


async def counts(plyr: PlyrServer, track_id: int) -> tuple[int, int, int]:
    async with plyr.runtime.sessions() as db:
        tracks = await db.scalar(select(func.count()).where(Track.id == track_id))
        likes = await db.scalar(select(func.count()).where(Like.track_id == track_id))
        comments = await db.scalar(select(func.count()).where(Comment.track_id == track_id))
    return int(tracks or 0), int(likes or 0), int(comments or 0)


async def deletion_jobs_done(plyr: PlyrServer) -> None:
    async with asyncio.timeout(60):
        while True:
            async with plyr.runtime.sessions() as db:
                waiting = await db.scalar(
                    select(func.count()).where(
                        Job.kind == "track.delete",
                        Job.status.in_([JobStatus.queued, JobStatus.running]),
                    )
                )
            if not waiting:
                return
            await asyncio.sleep(0.1)


async def test_a_dry_run_reports_and_changes_nothing(
    plyr: PlyrServer,
    alice: SignedIn,
    bob: SignedIn,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    track = await published(plyr, alice, bob, tmp_path_factory.mktemp("dry"))
    keys = await keys_of(plyr, track["id"])
    assert len(keys) >= 3  # audio, artwork, thumbnail

    code, out = await asyncio.to_thread(
        run_cli,
        plyr,
        "admin",
        "delete-track",
        f"{plyr.url}/tracks/{track['id']}",
        "--dry-run",
        "--json",
    )
    assert code == 0, out
    report = json.loads(out)
    assert report["dry_run"] is True
    assert report["track_id"] == track["id"]
    assert report["rows"]["likes"] == 1
    assert report["rows"]["comments"] == 1
    assert sorted(report["files_deleted"]) == sorted(keys)
    assert report["record"] == "deleted"  # plyr holds alice's session
    code, out = await asyncio.to_thread(
        run_cli, plyr, "admin", "delete-track", str(track["id"]), "--dry-run"
    )
    assert code == 0, out
    assert f"would delete track {track['id']}" in out

    async with bob.client(plyr) as http:
        answer = await http.delete(f"/api/admin/tracks/{track['id']}", params={"dry_run": "true"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["dry_run"] is True
    assert answer.json()["rows"] == report["rows"]

    assert await counts(plyr, track["id"]) == (1, 1, 1)
    assert await stored(plyr, keys) == [True] * len(keys)
    assert await public_record(atproto_net, track["uri"]) is not None
    async with plyr.runtime.sessions() as db:
        audited = await db.scalar(
            select(func.count()).where(ModerationEvent.subject == f"track:{track['id']}")
        )
    assert audited == 0

    code, out = await asyncio.to_thread(run_cli, plyr, "admin", "delete-track", "999999999")
    assert code == 1
    assert "there is no track 999999999" in out
    code, out = await asyncio.to_thread(run_cli, plyr, "admin", "delete-track", "/albums/3")
    assert code == 1
    assert "names no track" in out


async def test_deleting_removes_rows_files_and_the_record(
    plyr: PlyrServer,
    alice: SignedIn,
    bob: SignedIn,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    track = await published(plyr, alice, bob, tmp_path_factory.mktemp("real"))
    keys = await keys_of(plyr, track["id"])
    async with alice.client(plyr) as http:  # not an operator: refused, nothing changes
        refused = await http.delete(f"/api/admin/tracks/{track['id']}")
        assert refused.status_code == 403
    async with bob.client(plyr) as http:
        done = await http.delete(f"/api/admin/tracks/{track['id']}")
    assert done.status_code == 200, done.text
    report = done.json()
    assert report["dry_run"] is False
    assert report["record"] == "deleted"
    assert await counts(plyr, track["id"]) == (0, 0, 0)
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as anonymous:
        assert (await anonymous.get(f"/api/tracks/{track['id']}")).status_code == 404
        assert (await anonymous.get(f"/audio/{track['id']}")).status_code == 404

    await deletion_jobs_done(plyr)
    assert await stored(plyr, keys) == [False] * len(keys)
    assert await public_record(atproto_net, track["uri"]) is None
    async with plyr.runtime.sessions() as db:
        event = await db.scalar(
            select(ModerationEvent).where(ModerationEvent.subject == f"track:{track['id']}")
        )
    assert event is not None
    assert (event.action, event.actor) == ("track.delete", bob.did)
    assert event.detail["uri"] == track["uri"]
    assert sorted(event.detail["files_deleted"]) == sorted(keys)


async def test_without_a_session_the_record_remains_and_the_report_says_where(
    plyr: PlyrServer,
    alice: SignedIn,
    bob: SignedIn,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    track = await published(plyr, alice, bob, tmp_path_factory.mktemp("orphan"))
    keys = await keys_of(plyr, track["id"])
    # alice signs out everywhere: plyr can no longer write to her repository.
    async with plyr.runtime.sessions() as db:
        await db.execute(delete(AuthSession).where(AuthSession.did == alice.did))
        await db.commit()

    code, out = await asyncio.to_thread(
        run_cli, plyr, "admin", "delete-track", track["uri"], "--json"
    )
    assert code == 0, out
    report = json.loads(out)
    assert report["record"] == "remains"
    assert f"remains at {track['uri']} in the artist's pds" in report["record_note"]
    assert await counts(plyr, track["id"]) == (0, 0, 0)
    await deletion_jobs_done(plyr)
    # Only files nothing else uses go: a thumbnail can come out the same as the first test's
    # track's (content-addressed: one object for both), and then it stays for that track.
    gone, kept = report["files_deleted"], report["files_kept"]
    assert sorted(gone + kept) == sorted(keys)
    assert track_audio(keys) in gone
    assert await stored(plyr, gone) == [False] * len(gone)
    assert await stored(plyr, kept) == [True] * len(kept)
    assert await public_record(atproto_net, track["uri"]) is not None
    async with plyr.runtime.sessions() as db:
        event = await db.scalar(
            select(ModerationEvent).where(ModerationEvent.subject == f"track:{track['id']}")
        )
    assert event is not None
    assert (event.action, event.actor, event.detail["record"]) == ("track.delete", "cli", "remains")

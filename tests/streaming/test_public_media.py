"""The public media folder in step with the database, through the domain's own functions
(takedown and restore, hiding an account, deleting a track, editing artwork) and bulk
statements, and the fast path answering linked media without a query. SQLite and
PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event, update

from plyr.db.models import Artist, Track, utcnow
from plyr.moderation import takedown
from plyr.runtime import Runtime
from plyr.storage import public_sync
from plyr.storage.public_folder import PublicFolder
from plyr.tracks import editing
from plyr.web.app import create_app
from tests.conftest import make_settings
from tests.support.databases import clear_tables
from tests.support.public_media import folder_of, publish, store

ALICE = "did:plc:publicalice0000000000000"
BOB = "did:plc:publicbob00000000000000"
OPERATOR = "did:plc:publicoperator0000000000"


@pytest.fixture
async def runtime(tmp_path: Path, db_url: str) -> AsyncIterator[Runtime]:
    found = Runtime.open(make_settings(tmp_path, db_url))
    try:
        yield found
    finally:
        await clear_tables(found.engine)
        await found.close()


def linked(runtime: Runtime, track: Track) -> bool:
    """Both of a track's links: its audio by id, its stream by key."""
    folder = folder_of(runtime)
    assert track.stream_key is not None
    return folder.track_stream(track.id) == track.stream_key and folder.is_public(track.stream_key)


def unlinked(runtime: Runtime, track: Track) -> bool:
    folder = folder_of(runtime)
    assert track.stream_key is not None
    return folder.track_stream(track.id) is None and not folder.is_public(track.stream_key)


async def test_takedown_unlinks_at_commit_and_restore_links_again(runtime: Runtime) -> None:
    image = await store(runtime, 20_000, "jpg")
    track = await publish(runtime, ALICE, image_key=image)
    other = await publish(runtime, ALICE, title="other")
    assert linked(runtime, track)
    assert folder_of(runtime).is_public(image)
    # The link is what nginx follows: it names the stored file.
    link = folder_of(runtime).media_link(image)
    assert link.is_symlink()
    assert link.resolve() == runtime.storage.path_for(image).resolve()  # type: ignore[attr-defined]

    async with runtime.sessions() as db:
        await takedown.take_down(runtime, db, track.id, reason="a test", actor=OPERATOR)
        await db.commit()
    # Gone when commit returns; the other track's stay.
    assert unlinked(runtime, track)
    assert not folder_of(runtime).is_public(image)
    assert linked(runtime, other)

    async with runtime.sessions() as db:
        await takedown.restore(runtime, db, track.id, actor=OPERATOR)
        await db.commit()
    assert linked(runtime, track)
    assert folder_of(runtime).is_public(image)


async def test_hidden_account_and_deleted_track(runtime: Runtime) -> None:
    first = await publish(runtime, ALICE)
    second = await publish(runtime, ALICE, title="second")
    bobs = await publish(runtime, BOB)
    await takedown.hide_account(runtime, ALICE, reason="a test", actor=OPERATOR)
    assert unlinked(runtime, first)
    assert unlinked(runtime, second)
    assert linked(runtime, bobs)
    await takedown.unhide_account(runtime, ALICE, actor=OPERATOR)
    assert linked(runtime, first)
    assert linked(runtime, second)

    await editing.delete_track(runtime, bobs.id, BOB, None)
    assert unlinked(runtime, bobs)


async def test_bulk_statements_and_a_deleted_account(runtime: Runtime) -> None:
    track = await publish(runtime, ALICE)
    kept = await publish(runtime, BOB)
    async with runtime.sessions() as db:
        await db.execute(update(Track).where(Track.id == track.id).values(taken_down_at=utcnow()))
        await db.commit()
    assert unlinked(runtime, track)
    # A write that changes nothing public (a counted play) leaves the links alone.
    async with runtime.sessions() as db:
        await db.execute(
            update(Track).where(Track.id == kept.id).values(play_count=Track.play_count + 1)
        )
        await db.commit()
    assert linked(runtime, kept)
    # An account deleted as plyr does it: one Core DELETE, its tracks by ON DELETE CASCADE.
    async with runtime.sessions() as db:
        await db.execute(delete(Artist).where(Artist.did == BOB))
        await db.commit()
    assert unlinked(runtime, kept)


async def test_rolled_back_changes_and_savepoints(runtime: Runtime) -> None:
    track = await publish(runtime, ALICE)
    async with runtime.sessions() as db:
        row = await db.get(Track, track.id)
        assert row is not None
        row.taken_down_at = utcnow()
        await db.flush()
        await db.rollback()
    assert linked(runtime, track)
    # A takedown inside a savepoint is told when the whole transaction commits.
    async with runtime.sessions() as db:
        async with db.begin_nested():
            row = await db.get(Track, track.id)
            assert row is not None
            row.taken_down_at = utcnow()
        await db.commit()
    assert unlinked(runtime, track)


async def test_a_takedown_between_the_two_reads_leaves_no_link(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relink reads, links, then reads again: a takedown committed (and its links
    removed) between the two must not be undone by the relink's links."""
    image = await store(runtime, 20_000, "jpg")
    track = await publish(runtime, ALICE, image_key=image)
    sync = public_sync.sync_for(runtime.engine)
    assert sync is not None
    sync.folder.unlink_track(track.id)
    sync.folder.unlink_keys([track.original_key, image])
    real = sync._public
    reads: list[Sequence[int]] = []

    async def taken_down_after_the_first_read(ids: Sequence[int]) -> list[Any]:
        reads.append(ids)
        return await real(ids) if len(reads) == 1 else []

    monkeypatch.setattr(sync, "_public", taken_down_after_the_first_read)
    await sync.reconcile([track.id])
    assert len(reads) == 2
    assert unlinked(runtime, track)
    assert not sync.folder.is_public(image)


async def test_new_artwork_is_linked_and_the_old_one_is_not(runtime: Runtime) -> None:
    old, new = await store(runtime, 10_000, "jpg"), await store(runtime, 11_000, "jpg")
    track = await publish(runtime, ALICE, image_key=old)
    async with runtime.sessions() as db:
        row = await db.get(Track, track.id)
        assert row is not None
        row.image_key = new
        await db.commit()
    assert folder_of(runtime).is_public(new)
    assert not folder_of(runtime).is_public(old)
    assert linked(runtime, track)


async def test_rebuild_removes_stale_links_and_makes_missing_ones(runtime: Runtime) -> None:
    public = await publish(runtime, ALICE)
    private = await publish(runtime, BOB)
    async with runtime.sessions() as db:
        await takedown.take_down(runtime, db, private.id, reason="a test", actor=OPERATOR)
        await db.commit()
    folder = folder_of(runtime)
    # What a crash between a commit and its removal leaves, and a link never made.
    folder.link_track(private.id, [private.original_key], private.stream_key)
    folder.unlink_track(public.id)
    folder.unlink_keys([public.original_key])
    assert linked(runtime, private)
    found = await public_sync.rebuild(runtime.settings)
    assert found is not None
    assert found[0] == 1  # the public track
    assert found[1] >= 2  # the private track's audio link and its key
    assert linked(runtime, public)
    assert unlinked(runtime, private)


async def test_the_fast_path_answers_public_media_without_a_query(
    tmp_path: Path, db_url: str
) -> None:
    settings = make_settings(tmp_path, db_url)
    app = create_app(settings, run_worker=False, run_ingest=False)
    statements: list[str] = []
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        try:
            track = await publish(runtime, ALICE)
            hidden = await publish(runtime, BOB)
            await takedown.hide_account(runtime, BOB, reason="a test", actor=OPERATOR)
            data = runtime.storage.path_for(track.original_key).read_bytes()  # type: ignore[attr-defined]
            event.listen(
                runtime.engine.sync_engine,
                "before_cursor_execute",
                lambda *args: statements.append(args[2]),
            )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for url in (f"/media/{track.original_key}", f"/audio/{track.id}"):
                    part = await client.get(url, headers={"Range": "bytes=10-19"})
                    assert part.status_code == 206, url
                    assert part.content == data[10:20]
                    assert part.headers["content-type"] == "audio/mpeg"
                    assert part.headers["x-request-id"]  # the access log's middleware ran
                    assert part.headers["x-content-type-options"] == "nosniff"
                    etag = part.headers["etag"]
                    again = await client.get(url, headers={"If-None-Match": etag})
                    assert again.status_code == 304
                    head = await client.head(url)
                    assert head.headers["content-length"] == str(len(data))
                assert statements == []
                # Not linked: the routes answer, and they ask the database.
                refused = await client.get(f"/audio/{hidden.id}")
                assert refused.status_code == 451
                assert statements
        finally:
            await clear_tables(runtime.engine)


def test_links_stay_inside_the_folder(tmp_path: Path) -> None:
    folder = PublicFolder(tmp_path / "public", tmp_path / "media")
    (tmp_path / "media" / "audio").mkdir(parents=True)
    (tmp_path / "media" / "audio" / "a.mp3").write_bytes(b"x")
    folder.link_track(7, ["audio/a.mp3", "../../etc/passwd", "audio/missing.mp3"], "audio/a.mp3")
    assert folder.is_public("audio/a.mp3")
    assert folder.track_stream(7) == "audio/a.mp3"
    assert not folder.is_public("audio/missing.mp3")  # no file, no link
    assert not folder.is_public("../../etc/passwd")
    assert sorted(folder.linked_keys()) == ["audio/a.mp3"]
    assert list(folder.linked_tracks()) == [7]
    # A link whose file went away (deleted from storage) says "not public".
    os.unlink(tmp_path / "media" / "audio" / "a.mp3")
    assert not folder.is_public("audio/a.mp3")
    assert folder.track_stream(7) is None

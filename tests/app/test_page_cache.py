"""The signed-out page cache (`web/shared/page_cache`): what it serves again, what empties
it at once, what it never keeps, ETag/304; and how few statements the pages read."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, update

from plyr.auth.sessions import COOKIE_NAME, hash_secret
from plyr.cache import catalogue_changed
from plyr.db.changes import changes_shown
from plyr.db.models import (
    Artist,
    AuthSession,
    Comment,
    Like,
    ListItem,
    ListType,
    MusicList,
    SessionKind,
    Track,
    utcnow,
)
from plyr.listening import stats
from plyr.runtime import Runtime
from plyr.web.shared import page_cache
from plyr.web.shared.reads import reading
from tests.support.search_catalogue import catalogue_track

DID = "did:plc:cachedartist"
FAN = "did:plc:cachedfan"
SECRET = "page-cache-session-secret-0123456789"


@contextmanager
def counted(app: FastAPI) -> Iterator[list[str]]:
    """The statements the app sends meanwhile."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    engine = app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def add_catalogue(app: FastAPI) -> None:
    """An artist with two published tracks (one on an album, one liked), and a fan."""
    async with app.state.runtime.sessions() as db:
        db.add(Artist(did=DID, handle="cached.test", pds_url="https://pds.test"))
        db.add(Artist(did=FAN, handle="fan.test", pds_url="https://pds.test"))
        await db.flush()
        db.add(catalogue_track(1, DID, "first cached song", "cached artist", plays=3))
        db.add(catalogue_track(2, DID, "second cached song", "cached artist", minutes=1))
        await db.flush()
        album = MusicList(did=DID, rkey="album1", list_type=ListType.album, name="the album")
        db.add(album)
        await db.flush()
        db.add(ListItem(list_id=album.id, position=0, subject_uri="at://x/y/1", track_id=1))
        db.add(Like(did=FAN, rkey="like1", track_id=1))
        await db.commit()


async def sign_in_fan(app: FastAPI) -> dict[str, str]:
    async with app.state.runtime.sessions() as db:
        db.add(
            AuthSession(
                id=hash_secret(SECRET),
                kind=SessionKind.browser,
                did=FAN,
                issuer="https://pds.test",
                pds_url="https://pds.test",
                scope="atproto",
                secrets=b"unused here",
                access_expires_at=utcnow() + timedelta(hours=1),
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        await db.commit()
    return {"Cookie": f"{COOKIE_NAME}={SECRET}"}


async def test_a_signed_out_page_is_served_again_with_an_etag(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    await add_catalogue(app)
    store = page_cache.store_for(app.state.runtime)
    for path in ("/", "/tracks/1", "/artists/cached.test"):
        with counted(app) as first_reads:
            first = await client.get(path)
        with counted(app) as again_reads:
            again = await client.get(path)
        assert first.status_code == again.status_code == 200, path
        assert first_reads, path  # rendered from the database
        assert again_reads == [], path  # served from the cache: not one statement
        assert again.text == first.text
        etag = first.headers["etag"]
        assert again.headers["etag"] == etag
        assert first.headers["cache-control"] == "no-cache"
        assert first.headers["vary"] == "Cookie"
        # A browser that has the page asks again and gets 304, no body.
        unchanged = await client.get(path, headers={"If-None-Match": etag})
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
        other = await client.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200
        assert other.text == first.text
    assert store.hits >= 9
    # Another URL is another page: the query string counts.
    with counted(app) as reads:
        await client.get("/?tags=all")
    assert reads


async def test_writes_in_this_process_show_at_once(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """A new track, an edit, a like, a comment, a takedown: the next page has them."""
    app, client = app_client
    runtime = app.state.runtime
    await add_catalogue(app)
    assert "1 like" in (await client.get("/tracks/1")).text
    assert "third cached song" not in (await client.get("/")).text
    assert "third cached song" not in (await client.get("/artists/cached.test")).text

    async with runtime.sessions() as db:
        db.add(catalogue_track(3, DID, "third cached song", "cached artist", minutes=2))
        await db.commit()
    stats.clear_cache()  # the catalogue numbers keep their own 5 s
    assert "third cached song" in (await client.get("/")).text
    assert "third cached song" in (await client.get("/artists/cached.test")).text

    async with runtime.sessions() as db:
        await db.execute(update(Track).where(Track.id == 1).values(title="renamed song"))
        await db.commit()
    assert "renamed song" in (await client.get("/tracks/1")).text
    assert "renamed song" in (await client.get("/artists/cached.test")).text

    async with runtime.sessions() as db:
        db.add(Like(did=DID, rkey="like2", track_id=1))
        db.add(Comment(did=FAN, rkey="c1", track_id=1, text="a cached comment", timestamp_ms=0))
        await db.commit()
    page = (await client.get("/tracks/1")).text
    assert "2 likes" in page
    assert "a cached comment" in page

    async with runtime.sessions() as db:
        await db.execute(update(Track).where(Track.id == 1).values(taken_down_at=utcnow()))
        await db.commit()
    assert (await client.get("/tracks/1")).status_code == 451
    assert "renamed song" not in (await client.get("/artists/cached.test")).text


async def test_writes_of_another_process_show_at_the_next_request(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """Another process (the CLI, a worker) has its own engine: its commit touches the data
    folder's signal file, which the next request looks at."""
    app, client = app_client
    await add_catalogue(app)
    assert (await client.get("/tracks/1")).status_code == 200
    assert "first cached song" in (await client.get("/artists/cached.test")).text
    other = Runtime.open(app.state.runtime.settings)
    try:
        async with other.sessions() as db:
            await db.execute(update(Track).where(Track.id == 1).values(taken_down_at=utcnow()))
            await db.commit()
    finally:
        await other.close()
    assert (await client.get("/tracks/1")).status_code == 451
    assert "first cached song" not in (await client.get("/artists/cached.test")).text


async def test_hidden_accounts_likes_are_not_counted(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """The counts read from the index less the hidden accounts' likes (`like_counts`,
    `like_count_of`): hiding the fan takes their like off the track page and the rows."""
    app, client = app_client
    await add_catalogue(app)
    assert "1 like" in (await client.get("/tracks/1")).text
    async with app.state.runtime.sessions() as db:
        await db.execute(update(Artist).where(Artist.did == FAN).values(hidden_at=utcnow()))
        await db.commit()
    page = (await client.get("/tracks/1")).text
    assert "0 likes" in page
    assert "@fan.test" not in page  # nor among who liked it
    artist_page = (await client.get("/artists/cached.test")).text
    assert '<span aria-hidden="true">♥</span> 0<' in artist_page
    assert '<span aria-hidden="true">♥</span> 1<' not in artist_page


async def test_a_counted_play_may_show_a_few_seconds_late(
    app_client: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`UPDATE tracks SET play_count=…` alone does not empty the cache (it would at every
    play): the kept page shows the old count until it expires."""
    app, client = app_client
    await add_catalogue(app)
    monkeypatch.setattr(page_cache, "TTL_SECONDS", 0.5)
    assert "3 plays" in (await client.get("/tracks/1")).text
    async with app.state.runtime.sessions() as db:
        await db.execute(update(Track).where(Track.id == 1).values(play_count=Track.play_count + 1))
        await db.commit()
    assert "3 plays" in (await client.get("/tracks/1")).text
    await asyncio.sleep(0.6)
    assert "4 plays" in (await client.get("/tracks/1")).text


async def test_a_render_that_overlaps_a_commit_is_not_kept(
    app_client: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page read the like count before a like was committed: it is answered as read,
    but not kept, so the next visitor sees the new count."""
    app, client = app_client
    await add_catalogue(app)
    from plyr.web.pages import tracks as track_pages

    read = track_pages.track_page_read

    async def read_then_like(*args: object, **kwargs: object) -> object:
        found = await read(*args, **kwargs)  # type: ignore[arg-type]
        async with app.state.runtime.sessions() as db:
            db.add(Like(did=DID, rkey="late", track_id=1))
            await db.commit()
        return found

    monkeypatch.setattr(track_pages, "track_page_read", read_then_like)
    assert "1 like" in (await client.get("/tracks/1")).text
    monkeypatch.setattr(track_pages, "track_page_read", read)
    assert "2 likes" in (await client.get("/tracks/1")).text


async def test_signed_in_pages_are_theirs_alone(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    await add_catalogue(app)
    signed_in = await sign_in_fan(app)
    signed_out = await client.get("/tracks/1")
    assert "@fan.test" not in signed_out.text.split("liked by")[0]  # not signed in
    # Signed in: never the kept page, always rendered for them, never kept.
    store = page_cache.store_for(app.state.runtime)
    hits = store.hits
    for _ in range(2):
        mine = await client.get("/tracks/1", headers=signed_in)
        assert mine.status_code == 200
        assert 'aria-label="settings for @fan.test"' in mine.text
        assert "etag" not in mine.headers
        assert mine.headers["cache-control"] == "private, no-cache"
        assert mine.headers["vary"] == "Cookie"
    assert store.hits == hits
    again = await client.get("/tracks/1")
    assert again.text == signed_out.text
    assert 'aria-label="settings for @fan.test"' not in again.text
    # A developer token (Authorization) is never served a kept page either.
    token = await client.get("/tracks/1", headers={"Authorization": "Bearer nonsense"})
    assert token.status_code == 401
    assert store.hits == hits + 1


async def test_concurrent_misses_render_once(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    await add_catalogue(app)
    await client.get("/artists/cached.test")  # known as a shared page
    page_cache.store_for(app.state.runtime).changed()  # …and expired
    with counted(app) as reads:
        pages = await asyncio.gather(*(client.get("/artists/cached.test") for _ in range(8)))
    assert {p.status_code for p in pages} == {200}
    assert len({p.text for p in pages}) == 1
    with counted(app) as one_render:
        page_cache.store_for(app.state.runtime).changed()
        await client.get("/artists/cached.test")
    assert len(reads) == len(one_render)


async def test_takedown_hook_empties_every_store(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    await add_catalogue(app)
    await client.get("/")
    store = page_cache.store_for(app.state.runtime)
    generation = store.generation
    catalogue_changed()
    assert store.generation > generation
    with counted(app) as reads:
        await client.get("/")
    assert reads


async def test_pages_read_in_few_statements(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """Rendered (the cache emptied): the track page 4 statements, the artist page 4, home
    3 (with its numbers and top tracks in their own caches); it was 7, 8 and 3."""
    app, client = app_client
    await add_catalogue(app)
    store = page_cache.store_for(app.state.runtime)
    await client.get("/")  # the catalogue numbers and top tracks now cached
    for path, most in (("/tracks/1", 4), ("/artists/cached.test", 4), ("/", 3)):
        store.changed()
        with counted(app) as reads:
            assert (await client.get(path)).status_code == 200
        assert len(reads) <= most, (path, reads)


async def test_reads_share_one_connection_and_refuse_to_write(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, _client = app_client
    runtime = app.state.runtime
    checkouts: list[object] = []
    pool = runtime.engine.sync_engine.pool

    def note(*_args: object) -> None:
        checkouts.append(_args)

    event.listen(pool, "checkout", note)
    try:
        async with reading(runtime) as reads:
            for _ in range(3):
                async with reads.sessions() as db:
                    await db.get(Artist, DID)
            async with reads.sessions() as db:
                db.add(Artist(did="did:plc:never", handle="never.test", pds_url="https://x"))
                with pytest.raises(RuntimeError, match="does not write"):
                    await db.commit()
                with pytest.raises(RuntimeError, match="does not write"):
                    await db.get(Artist, "did:plc:other")  # its autoflush would write
    finally:
        event.remove(pool, "checkout", note)
    assert len(checkouts) == 1
    async with runtime.sessions() as db:
        assert await db.get(Artist, "did:plc:never") is None


@pytest.mark.parametrize(
    ("statement", "changes"),
    [
        ("SELECT tracks.id FROM tracks", False),
        ("  select 1", False),
        ("PRAGMA foreign_keys=ON", False),
        ("SAVEPOINT sa_savepoint_1", False),
        ("INSERT INTO likes (did, track_id) VALUES (?, ?)", True),
        ("INSERT INTO comments (did) VALUES ($1::VARCHAR) RETURNING comments.id", True),
        ("UPDATE tracks SET title=?, updated_at=? WHERE tracks.id = ?", True),
        ("DELETE FROM list_items WHERE list_items.id = ?", True),
        ("INSERT OR IGNORE INTO track_tags (track_id, tag_id) VALUES (?, ?)", True),
        ("UPDATE artists SET hidden_at=? WHERE artists.did = ?", True),
        ("INSERT INTO jobs (kind, payload) VALUES (?, ?)", False),
        ("UPDATE auth_sessions SET last_used_at=? WHERE auth_sessions.id = ?", False),
        ("INSERT INTO plays (track_id) VALUES (?)", False),
        ("DELETE FROM now_playing WHERE now_playing.did = ?", False),
        ("UPDATE tracks SET play_count=(tracks.play_count + ?) WHERE tracks.id = ?", False),
        (
            "UPDATE tracks SET play_count=(tracks.play_count + ?), updated_at=? "
            "WHERE tracks.id = ?",
            False,
        ),
        (
            "UPDATE tracks SET play_count=(tracks.play_count + $1::INTEGER), "
            "updated_at=$2::TIMESTAMP WITH TIME ZONE WHERE tracks.id = $3::BIGINT",
            False,
        ),
        ("UPDATE tracks SET play_count=?, title=? WHERE tracks.id = ?", True),
        ("UPDATE tracks SET play_count=?, updated_at=?, title=? WHERE tracks.id = ?", True),
        ("WITH moved AS (SELECT 1) UPDATE tracks SET title = 'x'", True),
        ("CREATE TABLE something (id INTEGER)", True),
        ("INSERT INTO a_table_added_later (id) VALUES (?)", True),
    ],
)
def test_which_statements_change_pages(statement: str, changes: bool) -> None:
    assert changes_shown(statement) is changes

"""Search: the same ranking on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm), the index
kept in step by triggers, the JSON API, the page and the handle typeahead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, text, update

from plyr.db.models import (
    Artist,
    ListItem,
    ListType,
    MusicList,
    PublishState,
    Tag,
    Track,
    TrackTag,
)
from plyr.runtime import Runtime
from plyr.search import SearchHit, scoring, search
from plyr.web.app import create_app
from tests.conftest import make_settings
from tests.support.databases import clear_tables

T0 = datetime(2026, 1, 1, tzinfo=UTC)

ARTISTS = [
    ("did:plc:radiohead", "radiohead.test", "Radiohead"),
    ("did:plc:bufos", "bufos.test", "Bufos"),
    ("did:plc:radiator", "radiator.test", "Radiator Springs"),
    ("did:plc:nightowl", "nightowl.test", None),
]


def _track(
    n: int,
    did: str,
    title: str,
    artist_name: str,
    *,
    plays: int = 0,
    published: bool = True,
    minutes: int = 0,
) -> Track:
    return Track(
        id=n,
        artist_did=did,
        title=title,
        artist_name=artist_name,
        file_type="mp3",
        content_hash=f"{n:064d}",
        original_key=f"audio/{n}.mp3",
        rkey=f"3k{n:010d}",
        atproto_uri=f"at://{did}/fm.plyr.track/3k{n:010d}" if published else None,
        publish_state=PublishState.published if published else PublishState.processing,
        play_count=plays,
        created_at=T0 + timedelta(minutes=minutes),
    )


async def add_catalogue(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        for did, handle, name in ARTISTS:
            session.add(
                Artist(did=did, handle=handle, display_name=name, pds_url="https://pds.test")
            )
        await session.flush()
        rh, bf, rd, no = (a[0] for a in ARTISTS)
        session.add_all(
            [
                _track(1, rh, "Paranoid Android", "Radiohead", plays=90),
                _track(2, rh, "Karma Police", "Radiohead", plays=80),
                _track(3, bf, "Swamp Song", "Bufos", plays=3),
                _track(4, bf, "bufos secret demo", "Bufos", published=False),
                # exact > prefix > word prefix > substring > fuzzy, for "night"
                _track(10, no, "Naight", "Owl", plays=1000),
                _track(11, no, "Midnights", "Owl", plays=900),
                _track(12, no, "Into the Night", "Owl", plays=800),
                _track(13, no, "Nightfall", "Owl", plays=700),
                _track(14, no, "Night", "Owl", plays=0),
                # ties: the most played first, then the newest
                _track(20, rd, "Echo", "Radiator Springs", plays=5, minutes=1),
                _track(21, rd, "Echo", "Radiator Springs", plays=50, minutes=2),
                _track(22, rd, "Echo", "Radiator Springs", plays=5, minutes=3),
            ]
        )
        await session.flush()
        session.add_all(
            [
                MusicList(
                    id=1,
                    did=rh,
                    rkey="3kalbum1",
                    list_type=ListType.album,
                    name="OK Computer",
                    unique_key="ok computer",
                ),
                MusicList(
                    id=2, did=bf, rkey="3kplay1", list_type=ListType.playlist, name="bufo bangers"
                ),
                MusicList(
                    id=3, did=bf, rkey="3kliked", list_type=ListType.liked, name="bufo likes"
                ),
                Tag(id=1, name="shoegaze"),
                Tag(id=2, name="swamp"),
                Tag(id=3, name="empty"),  # no published track: not shown
            ]
        )
        await session.flush()
        session.add_all(
            [
                ListItem(list_id=1, position=0, subject_uri="at://x/1", track_id=1),
                ListItem(list_id=2, position=0, subject_uri="at://x/3", track_id=3),
                TrackTag(track_id=1, tag_id=1),
                TrackTag(track_id=3, tag_id=2),
                TrackTag(track_id=4, tag_id=3),
            ]
        )
        await session.commit()


@pytest.fixture
async def catalogue(runtime: Runtime) -> Runtime:
    await add_catalogue(runtime)
    return runtime


def titles(hits: list[SearchHit]) -> list[str]:
    return [hit.title for hit in hits]


# --- scoring (pure) ------------------------------------------------------------------------


def test_trigrams_are_pg_trgms() -> None:
    # show_trgm('cat') = {"  c"," ca","at ","cat"}
    assert scoring.trigrams("Cat") == {"  c", " ca", "cat", "at "}
    assert scoring.trigrams("a-b") == {"  a", " a ", "  b", " b "}
    # similarity('word', 'two words') = 0.363636 in PostgreSQL
    assert round(scoring.similarity("word", "two words"), 6) == 0.363636
    assert scoring.similarity("radiohed", "radiohead") == pytest.approx(7 / 12)


def test_score_bands() -> None:
    q = "night"
    found = {
        t: scoring.score(q, t)
        for t in ("night", "nightfall", "into the night", "midnights", "naight", "zzz")
    }
    assert found["zzz"] is None
    order = sorted((t for t in found if found[t]), key=lambda t: -found[t].value)  # type: ignore[union-attr]
    assert order == ["night", "nightfall", "into the night", "midnights", "naight"]
    assert all(0 < s.value <= 1 for s in found.values() if s)


# --- ranking, the same on both databases ---------------------------------------------------


async def test_typos_and_partial_words_find_artists(catalogue: Runtime) -> None:
    bufo = await search(catalogue, "bufo")
    assert bufo.artists[0].title == "Bufos"
    assert bufo.artists[0].match == "prefix"

    typo = await search(catalogue, "radiohed")
    assert typo.artists[0].title == "Radiohead"
    assert typo.artists[0].match == "fuzzy"
    assert 0 < typo.artists[0].score < 0.6
    # tracks by the artist come along (the artist name is a secondary field)
    assert set(titles(typo.tracks)) == {"Paranoid Android", "Karma Police"}

    partial = await search(catalogue, "ohea")
    assert partial.artists[0].title == "Radiohead"
    assert partial.artists[0].match == "substring"

    handle = await search(catalogue, "@radiohead.test")
    assert handle.artists[0].title == "Radiohead"
    assert handle.artists[0].score == 1.0


async def test_exact_beats_prefix_beats_substring_beats_fuzzy(catalogue: Runtime) -> None:
    results = await search(catalogue, "Night", types=["tracks"], limit=10)

    # plays do not outrank a better match: "Night" has none, "Naight" 1000
    assert titles(results.tracks)[:5] == [
        "Night",
        "Nightfall",
        "Into the Night",
        "Midnights",
        "Naight",
    ]
    assert [h.match for h in results.tracks[:5]] == [
        "exact",
        "prefix",
        "word_prefix",
        "substring",
        "fuzzy",
    ]
    scores = [h.score for h in results.tracks]
    assert scores == sorted(scores, reverse=True)
    assert results.artists == []  # only the types asked for


async def test_ties_go_to_the_most_played_then_the_newest(catalogue: Runtime) -> None:
    results = await search(catalogue, "echo", types=["track"])
    assert [h.id for h in results.tracks] == ["21", "22", "20"]


async def test_only_published_tracks_and_named_albums_playlists(catalogue: Runtime) -> None:
    secret = await search(catalogue, "secret demo")
    assert secret.tracks == []

    bufo = await search(catalogue, "bufo")
    assert titles(bufo.playlists) == ["bufo bangers"]  # the liked list is not searchable
    assert bufo.playlists[0].url == "/playlists/2"

    album = await search(catalogue, "ok compter")  # a typo
    assert titles(album.albums) == ["OK Computer"]
    assert album.albums[0].url == "/albums/1"
    assert album.albums[0].subtitle == "album by @radiohead.test"

    tags = await search(catalogue, "swamp")
    assert titles(tags.tags) == ["swamp"]
    assert tags.tags[0].url == "/tags/swamp"
    assert titles(tags.tracks) == ["Swamp Song"]
    assert (await search(catalogue, "empty")).tags == []


async def test_short_queries_match_substrings(catalogue: Runtime) -> None:
    results = await search(catalogue, "ka")
    assert titles(results.tracks) == ["Karma Police"]
    assert results.tracks[0].match == "prefix"
    assert (await search(catalogue, "")).total == 0
    assert (await search(catalogue, "%")).total == 0
    assert (await search(catalogue, "_")).total == 0


async def test_triggers_keep_the_index_in_step(catalogue: Runtime) -> None:
    async with catalogue.sessions() as session:
        session.add(_track(30, "did:plc:bufos", "Lily Pad Lullaby", "Bufos"))
        await session.commit()
    assert titles((await search(catalogue, "lullaby")).tracks) == ["Lily Pad Lullaby"]

    async with catalogue.sessions() as session:
        await session.execute(update(Track).where(Track.id == 30).values(title="Pond Hymn"))
        await session.commit()
    assert (await search(catalogue, "lullaby")).tracks == []
    assert titles((await search(catalogue, "pond hymn")).tracks) == ["Pond Hymn"]

    # unpublishing takes it out, publishing brings it back
    async with catalogue.sessions() as session:
        await session.execute(update(Track).where(Track.id == 30).values(atproto_uri=None))
        await session.commit()
    assert (await search(catalogue, "pond hymn")).tracks == []
    async with catalogue.sessions() as session:
        await session.execute(
            update(Track).where(Track.id == 4).values(atproto_uri="at://did:plc:bufos/x/4")
        )
        await session.commit()
    assert titles((await search(catalogue, "secret demo")).tracks) == ["bufos secret demo"]

    async with catalogue.sessions() as session:
        await session.execute(delete(Track).where(Track.id == 4))
        await session.commit()
    assert (await search(catalogue, "secret demo")).tracks == []

    # an artist renamed, a playlist renamed, a tag deleted
    async with catalogue.sessions() as session:
        await session.execute(
            update(Artist)
            .where(Artist.did == "did:plc:bufos")
            .values(display_name="Toad Choir", handle="toads.test")
        )
        await session.execute(update(MusicList).where(MusicList.id == 2).values(name="croaks"))
        await session.execute(delete(Tag).where(Tag.id == 1))
        await session.commit()
    renamed = await search(catalogue, "toad choir")
    assert titles(renamed.artists) == ["Toad Choir"]
    assert renamed.artists[0].url == "/artists/toads.test"
    assert (await search(catalogue, "bufos.test")).artists == []
    assert titles((await search(catalogue, "croaks")).playlists) == ["croaks"]
    assert (await search(catalogue, "shoegaze")).tags == []

    # deleting an artist cascades to their tracks, and the index follows
    async with catalogue.engine.begin() as conn:
        await conn.execute(text("DELETE FROM artists WHERE did = 'did:plc:radiohead'"))
    gone = await search(catalogue, "radiohead")
    assert gone.artists == []
    assert gone.tracks == []
    assert gone.albums == []
    if catalogue.engine.dialect.name == "sqlite":
        async with catalogue.engine.connect() as conn:
            indexed = await conn.scalar(text("SELECT count(*) FROM search_tracks"))
            published = await conn.scalar(
                text("SELECT count(*) FROM tracks WHERE atproto_uri IS NOT NULL")
            )
        assert indexed == published


# --- the API, the page and the typeahead ----------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(make_settings(tmp_path, db_url), run_worker=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://plyr.test") as http,
    ):
        await add_catalogue(app.state.runtime)
        try:
            yield app, http
        finally:
            await clear_tables(app.state.runtime.engine)


async def test_search_api_shape(client: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _app, http = client
    response = await http.get("/api/search", params={"q": "radiohed"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["query"] == "radiohed"
    assert [g["type"] for g in body["groups"]] == ["tracks", "artists"]
    artist = body["groups"][1]["hits"][0]
    assert artist == {
        "type": "artist",
        "id": "did:plc:radiohead",
        "title": "Radiohead",
        "subtitle": "@radiohead.test",
        "url": "/artists/radiohead.test",
        "image_url": None,
        "score": artist["score"],
        "match": "fuzzy",
        "sensitive": False,
    }
    assert 0 < artist["score"] < 0.6
    assert body["total"] == sum(len(g["hits"]) for g in body["groups"])

    only = (await http.get("/api/search", params={"q": "bufo", "type": "playlists,artist"})).json()
    assert [g["type"] for g in only["groups"]] == ["artists", "playlists"]
    limited = (await http.get("/api/search", params={"q": "echo", "limit": 1})).json()
    assert [h["id"] for h in limited["groups"][0]["hits"]] == ["21"]

    bad = await http.get("/api/search", params={"q": "x", "type": "songs"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_input"
    assert (await http.get("/api/search", params={"q": "x", "limit": 0})).status_code == 422
    assert (await http.get("/api/search")).json() == {"query": "", "total": 0, "groups": []}

    openapi = (await http.get("/api/openapi.json")).json()
    assert "/api/search" in openapi["paths"]
    assert "/api/handles/typeahead" in openapi["paths"]


async def test_search_page_without_javascript(client: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _app, http = client
    page = await http.get("/search", params={"q": "night"}, headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.text
    assert 'action="/search"' in html
    assert 'value="night"' in html
    assert html.index(">Night<") < html.index(">Nightfall<") < html.index(">Naight<")
    assert 'href="/tracks/14"' in html
    assert 'id="search-group-artists"' in html  # nightowl.test

    empty = await http.get("/search", params={"q": "zzzzqx"})
    assert "nothing matches" in empty.text
    blank = await http.get("/search")
    assert blank.status_code == 200
    assert "typos are fine" in blank.text


async def test_handle_typeahead(
    client: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, http = client
    runtime: Runtime = app.state.runtime
    known = (await http.get("/api/handles/typeahead", params={"q": "radi"})).json()
    # both prefixes: the more played artist first
    assert [h["handle"] for h in known["handles"]] == ["radiohead.test", "radiator.test"]
    assert known["handles"][0] == {
        "did": "did:plc:radiohead",
        "handle": "radiohead.test",
        "display_name": "Radiohead",
        "avatar_url": None,
        "source": "plyr",
    }
    fuzzy = (await http.get("/api/handles/typeahead", params={"q": "@buffos"})).json()
    assert fuzzy["handles"][0]["handle"] == "bufos.test"

    from plyr.atproto.identity import DidDocument, HandleNotFound, Identity

    asked: list[str] = []

    async def resolve(identifier: str) -> Identity:
        asked.append(identifier)
        if identifier == "alice.example.com":
            document = DidDocument(
                id="did:plc:alice",
                also_known_as=("at://alice.example.com",),
                handles=("alice.example.com",),
                pds_url="https://pds.example.com",
                signing_key=None,
                raw={},
            )
            return Identity("did:plc:alice", "alice.example.com", document.pds_url, document)
        raise HandleNotFound(f"{identifier} does not resolve")

    monkeypatch.setattr(runtime.identity, "resolve", resolve)
    network = (await http.get("/api/handles/typeahead", params={"q": "alice.example.com"})).json()
    assert network["handles"] == [
        {
            "did": "did:plc:alice",
            "handle": "alice.example.com",
            "display_name": None,
            "avatar_url": None,
            "source": "network",
        }
    ]
    missing = await http.get("/api/handles/typeahead", params={"q": "nobody.example.com"})
    assert missing.status_code == 200
    assert missing.json()["handles"] == []
    # a known handle or an incomplete one is not looked up on the network
    await http.get("/api/handles/typeahead", params={"q": "bufos.test"})
    await http.get("/api/handles/typeahead", params={"q": "alic"})
    assert asked == ["alice.example.com", "nobody.example.com"]

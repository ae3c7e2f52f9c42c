"""Search: the same ranking on SQLite and PostgreSQL, and the index kept in step by triggers."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update

from plyr.db.models import Artist, MusicList, Tag, Track
from plyr.runtime import Runtime
from plyr.search import SearchHit, scoring, search
from tests.support.search_catalogue import add_catalogue, catalogue_track


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
        session.add(catalogue_track(30, "did:plc:bufos", "Lily Pad Lullaby", "Bufos"))
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

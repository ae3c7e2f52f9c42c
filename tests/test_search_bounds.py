"""Search at scale (issue 19), on SQLite and PostgreSQL: the bounded candidate set still
finds the most played matches of a common word, tags count only tracks listeners may meet
(from counts kept by triggers), and the objects migration 0016 made for it are in step."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update

from plyr.db.models import Artist, Tag, Track, TrackTag, utcnow
from plyr.runtime import Runtime
from plyr.search import postgres_candidates, search, sqlite_candidates
from tests.support.search_catalogue import add_catalogue, catalogue_track


@pytest.fixture
async def catalogue(runtime: Runtime) -> Runtime:
    await add_catalogue(runtime)
    return runtime


async def test_common_words_find_their_most_played_matches(
    catalogue: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Forty "Echo Chamber" tracks, the most played made first. With the index read for its
    # five newest matches only (and the five newest rows under 3 characters), the most
    # played ones are still found: among the five most played tracks.
    async with catalogue.sessions() as session:
        session.add_all(
            catalogue_track(
                200 + n,
                "did:plc:radiator",
                f"Echo Chamber {n}",
                "Radiator Springs",
                plays=1000 - n,
                minutes=n,
            )
            for n in range(40)
        )
        await session.commit()
    for module in (sqlite_candidates, postgres_candidates):
        for name in ("DIRECT", "POPULAR", "NEWEST"):
            monkeypatch.setattr(module, name, 5)

    found = await search(catalogue, "chamber", types=["tracks"], limit=3)
    assert [hit.title for hit in found.tracks] == [f"Echo Chamber {n}" for n in range(3)]
    assert {hit.match for hit in found.tracks} == {"word_prefix"}

    short = await search(catalogue, "ch", types=["tracks"], limit=2)
    assert [hit.title for hit in short.tracks] == ["Echo Chamber 0", "Echo Chamber 1"]

    # Without the bounds every match is ranked: the exact matches come first.
    monkeypatch.undo()
    every = await search(catalogue, "echo", types=["tracks"], limit=4)
    assert [hit.title for hit in every.tracks] == ["Echo", "Echo", "Echo", "Echo Chamber 0"]


async def test_tag_counts_leave_out_tracks_listeners_may_not_meet(catalogue: Runtime) -> None:
    async with catalogue.sessions() as session:
        session.add(Artist(did="did:plc:gone", handle="gone.test", pds_url="https://pds.test"))
        await session.flush()
        session.add_all(
            [
                catalogue_track(40, "did:plc:bufos", "Bog Hymn", "Bufos"),
                catalogue_track(41, "did:plc:bufos", "Bog Dirge", "Bufos"),
                catalogue_track(42, "did:plc:gone", "Bog Gone", "Gone"),
                catalogue_track(43, "did:plc:bufos", "Bog Demo", "Bufos", published=False),
            ]
        )
        await session.flush()
        session.add_all(TrackTag(track_id=n, tag_id=2) for n in (40, 41, 42, 43))  # swamp
        await session.commit()

    async def swamp() -> str | None:
        tags = (await search(catalogue, "swamp", types=["tags"])).tags
        return tags[0].subtitle if tags else None

    assert await swamp() == "4 tracks"  # tracks 3, 40, 41, 42 (43 is not published)
    async with catalogue.sessions() as session:
        await session.execute(update(Track).where(Track.id == 40).values(taken_down_at=utcnow()))
        await session.execute(
            update(Artist).where(Artist.did == "did:plc:gone").values(hidden_at=utcnow())
        )
        await session.execute(update(Track).where(Track.id == 41).values(audio_state="failed"))
        await session.commit()
    assert await swamp() == "1 track"
    async with catalogue.sessions() as session:
        await session.execute(delete(TrackTag).where(TrackTag.track_id == 3, TrackTag.tag_id == 2))
        await session.commit()
    assert await swamp() is None  # no track listeners may meet: not shown

    # The kept counts are the track_tags rows, whatever writes them.
    async with catalogue.engine.connect() as conn:
        kept = dict(
            (await conn.execute(text("SELECT tag_id, tracks FROM search_tag_tracks"))).all()
        )
        rows = dict(
            (
                await conn.execute(text("SELECT tag_id, count(*) FROM track_tags GROUP BY tag_id"))
            ).all()
        )
    assert {tag: n for tag, n in kept.items() if n} == rows
    async with catalogue.sessions() as session:
        await session.execute(delete(Tag).where(Tag.id == 2))
        await session.commit()
    async with catalogue.engine.connect() as conn:
        assert (
            await conn.scalar(text("SELECT count(*) FROM search_tag_tracks WHERE tag_id = 2")) == 0
        )


async def test_search_objects_of_migration_0016_are_in_step(catalogue: Runtime) -> None:
    async with catalogue.sessions() as session:
        await session.execute(update(Track).where(Track.id == 1).values(play_count=5000))
        await session.execute(
            update(Track).where(Track.id == 2).values(atproto_uri=None, title="Unpublished")
        )
        await session.commit()
    async with catalogue.engine.connect() as conn:
        if catalogue.engine.dialect.name == "sqlite":
            names = set(
                (await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")))
                .scalars()
                .all()
            )
            assert {"ix_search_tracks_id", "ix_search_tracks_plays"} <= names
            assert "ix_search_tracks_unlisted" in names
            return
        docs = (
            await conn.execute(
                text("SELECT id, title, artist_name, play_count FROM search_track_docs")
            )
        ).all()
        published = (
            await conn.execute(
                text(
                    "SELECT id, lower(title), lower(artist_name), play_count FROM tracks "
                    "WHERE atproto_uri IS NOT NULL"
                )
            )
        ).all()
    assert sorted(docs) == sorted(published)
    assert (1, "paranoid android", "radiohead", 5000) in docs
    assert all(doc[0] != 2 for doc in docs)

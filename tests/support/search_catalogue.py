"""A small catalogue to search: artists, tracks (one unpublished), albums, playlists and tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plyr.db.models import Artist, ListItem, ListType, MusicList, PublishState, Tag, Track, TrackTag
from plyr.runtime import Runtime

T0 = datetime(2026, 1, 1, tzinfo=UTC)

ARTISTS = [
    ("did:plc:radiohead", "radiohead.test", "Radiohead"),
    ("did:plc:bufos", "bufos.test", "Bufos"),
    ("did:plc:radiator", "radiator.test", "Radiator Springs"),
    ("did:plc:nightowl", "nightowl.test", None),
]


def catalogue_track(
    n: int,
    did: str,
    title: str,
    artist_name: str,
    *,
    plays: int = 0,
    published: bool = True,
    minutes: int = 0,
) -> Track:
    """A track row for the catalogue, published unless told otherwise."""
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
    """Add the artists, tracks, lists and tags that the search tests look for."""
    async with runtime.sessions() as session:
        for did, handle, name in ARTISTS:
            session.add(
                Artist(did=did, handle=handle, display_name=name, pds_url="https://pds.test")
            )
        await session.flush()
        rh, bf, rd, no = (a[0] for a in ARTISTS)
        session.add_all(
            [
                catalogue_track(1, rh, "Paranoid Android", "Radiohead", plays=90),
                catalogue_track(2, rh, "Karma Police", "Radiohead", plays=80),
                catalogue_track(3, bf, "Swamp Song", "Bufos", plays=3),
                catalogue_track(4, bf, "bufos secret demo", "Bufos", published=False),
                # exact > prefix > word prefix > substring > fuzzy, for "night"
                catalogue_track(10, no, "Naight", "Owl", plays=1000),
                catalogue_track(11, no, "Midnights", "Owl", plays=900),
                catalogue_track(12, no, "Into the Night", "Owl", plays=800),
                catalogue_track(13, no, "Nightfall", "Owl", plays=700),
                catalogue_track(14, no, "Night", "Owl", plays=0),
                # ties: the most played first, then the newest
                catalogue_track(20, rd, "Echo", "Radiator Springs", plays=5, minutes=1),
                catalogue_track(21, rd, "Echo", "Radiator Springs", plays=50, minutes=2),
                catalogue_track(22, rd, "Echo", "Radiator Springs", plays=5, minutes=3),
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

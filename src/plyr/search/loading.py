"""The rows a hit is made of, and making the hits of one kind: scored by `scoring.best`.

The candidate statement of each backend ends with `display_statement(kind, …)`: the
columns a hit needs, of the rows listeners may meet (`plyr.db.visibility`), for the keys it
picked (the CTE `picked(k)`), with their popularity: a track's plays, an artist's or a
list's plays (of tracks listeners may meet), a tag's tracks. So finding, ranking and
loading a kind is one statement, for the few rows picked.

A tag's tracks come from `search_tag_tracks` (its track_tags rows, counted by triggers,
migration 0016) less the rows of the few tracks listeners may not meet (the partial index
`ix_search_tracks_unlisted`, and hidden accounts' tracks), never from counting every track
of a tag (tens of thousands for a common one).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    TextualSelect,
    column,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.engine import Dialect, Row

from plyr.db.models import Artist, ListItem, ListType, MusicList, Tag, Track
from plyr.db.visibility import track_listed
from plyr.search.candidates import Kind
from plyr.search.hits import SIGNED_OUT, Audience, SearchHit, make_hit
from plyr.search.scoring import best
from plyr.tracks.labels import hidden_from_feeds

Rows = Sequence[Row[Any]]
Loader = Callable[[Rows, str], list[SearchHit]]
AnySelect = Select[*tuple[Any, ...]]

# A match in a secondary field (a track's artist name) counts for less than the title.
SECONDARY_WEIGHT = 0.8

_PICKED: Select[Any] = select(literal_column("k")).select_from(text("picked"))

# The tracks listeners may not meet, less hidden accounts' (migration 0016's partial index
# `ix_search_tracks_unlisted`, its condition word for word), and hidden accounts' tracks.
_UNLISTED = """
    SELECT id FROM tracks
    WHERE atproto_uri IS NULL OR audio_state <> 'ready' OR taken_down_at IS NOT NULL
    UNION
    SELECT id FROM tracks
    WHERE artist_did IN (SELECT did FROM artists WHERE hidden_at IS NOT NULL)"""


def _listed_plays() -> Select[Any]:
    return select(func.coalesce(func.sum(Track.play_count), 0)).where(
        Track.atproto_uri.is_not(None), track_listed()
    )


def _lists(list_type: ListType) -> AnySelect:
    plays = (
        _listed_plays()
        .join(ListItem, ListItem.track_id == Track.id)
        .where(ListItem.list_id == MusicList.id)
        .scalar_subquery()
    )
    return (
        select(
            MusicList.id,
            MusicList.name,
            MusicList.created_at,
            MusicList.thumbnail_key,
            MusicList.image_key,
            Artist.handle,
            plays.label("plays"),
        )
        .join(Artist, Artist.did == MusicList.did)
        .where(
            MusicList.id.in_(_PICKED),
            # `coalesce`: not the list_type index (SQLite would walk every list of the type).
            func.coalesce(MusicList.list_type, "") == list_type.value,
            Artist.hidden_at.is_(None),
        )
    )


def _tags(dialect: str) -> AnySelect:
    # Counted once for the statement (not per tag): the same few tracks for every tag. On
    # SQLite, CROSS JOIN keeps the order (from the unlisted tracks to their tags) and `+`
    # reads each track's few tags rather than probing it for every tag picked.
    join, tag = ("CROSS JOIN", "+tt.tag_id") if dialect == "sqlite" else ("JOIN", "tt.tag_id")
    unlisted = (
        text(
            f"SELECT tt.tag_id AS tag_id, count(*) AS n FROM ({_UNLISTED}) AS u {join} "
            "track_tags AS tt ON tt.track_id = u.id "
            f"WHERE {tag} IN (SELECT k FROM picked) GROUP BY tt.tag_id"
        )
        .columns(column("tag_id", Integer), column("n", Integer))
        .subquery("unlisted")
    )
    kept: ColumnElement[int] = literal_column(
        "(SELECT tracks FROM search_tag_tracks WHERE tag_id = tags.id)"
    )
    tracks = (func.coalesce(kept, 0) - func.coalesce(unlisted.c.n, 0)).label("tracks")
    return (
        select(Tag.id, Tag.name, tracks)
        .select_from(Tag)
        .outerjoin(unlisted, unlisted.c.tag_id == Tag.id)
        .where(Tag.id.in_(_PICKED))
    )


@cache
def _display(kind: Kind, dialect: str) -> AnySelect:
    if kind == "tracks":
        return select(
            Track.id,
            Track.title,
            Track.artist_name,
            Track.artist_did,
            Track.play_count,
            Track.created_at,
            Track.thumbnail_key,
            Track.image_key,
            Track.image_url,
            Track.self_labels,
        ).where(Track.id.in_(_PICKED), Track.atproto_uri.is_not(None), track_listed())
    if kind == "artists":
        plays = _listed_plays().where(Track.artist_did == Artist.did).scalar_subquery()
        return select(
            Artist.did,
            Artist.handle,
            Artist.display_name,
            Artist.avatar_url,
            Artist.created_at,
            plays.label("plays"),
        ).where(Artist.did.in_(_PICKED), Artist.hidden_at.is_(None))
    if kind == "tags":
        return _tags(dialect)
    return _lists(ListType.album if kind == "albums" else ListType.playlist)


@lru_cache(maxsize=512)
def display_statement(kind: Kind, dialect: Dialect, picked: str) -> TextualSelect:
    """`picked` (SQL that begins `WITH …` and defines `picked(k)`) followed by the display
    query of `kind`, its columns typed as the models type them. The SQL depends on the
    query's shape only (its values are bound), so the statements are kept and reused."""
    query = _display(kind, dialect.name)
    shown = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    # Plain columns (a name and a type): the expressions themselves would bring their own
    # bound values along.
    columns = [column(selected.name, selected.type) for selected in query.selected_columns]
    return text(f"{picked} {shown}").columns(*columns)


def _labels(value: Any) -> list[str]:
    if isinstance(value, str):  # JSON text a driver left undecoded
        value = json.loads(value)
    return [str(label) for label in value or ()]


def tracks(rows: Rows, q: str, audience: Audience = SIGNED_OUT) -> list[SearchHit]:
    hits = []
    for row in rows:
        if hidden_from_feeds(
            _labels(row.self_labels), row.artist_did, audience.did, opted_in=audience.show_warned
        ):
            continue
        found = best(q, (row.title, 1.0), (row.artist_name, SECONDARY_WEIGHT))
        if found is None:
            continue
        image = f"/images/{row.id}/thumb" if row.thumbnail_key else row.image_url
        hits.append(
            make_hit(
                "track",
                str(row.id),
                row.title,
                row.artist_name,
                f"/tracks/{row.id}",
                image,
                found,
                row.play_count,
                row.created_at,
                (row.thumbnail_key, row.image_key, row.image_url),
            )
        )
    return hits


def artists(rows: Rows, q: str) -> list[SearchHit]:
    hits = []
    for row in rows:
        found = best(q, (row.handle, 1.0), (row.display_name, 1.0))
        if found is None:
            continue
        hits.append(
            make_hit(
                "artist",
                row.did,
                row.display_name or row.handle,
                f"@{row.handle}",
                f"/artists/{quote(row.handle, safe='')}",
                row.avatar_url,
                found,
                int(row.plays),
                row.created_at,
                (row.avatar_url,),
            )
        )
    return hits


def _music_lists(rows: Rows, q: str, list_type: ListType) -> list[SearchHit]:
    path = "albums" if list_type == ListType.album else "playlists"
    hits = []
    for row in rows:
        found = best(q, (row.name, 1.0))
        if found is None or not row.name:
            continue
        hits.append(
            make_hit(
                list_type.value,
                str(row.id),
                row.name,
                f"{list_type.value} by @{row.handle}",
                f"/{path}/{row.id}",
                f"/lists/{row.id}/cover/thumb" if row.thumbnail_key else None,
                found,
                int(row.plays),
                row.created_at,
                (row.thumbnail_key, row.image_key),
            )
        )
    return hits


def albums(rows: Rows, q: str) -> list[SearchHit]:
    return _music_lists(rows, q, ListType.album)


def playlists(rows: Rows, q: str) -> list[SearchHit]:
    return _music_lists(rows, q, ListType.playlist)


def tags(rows: Rows, q: str) -> list[SearchHit]:
    hits = []
    for row in rows:
        count = int(row.tracks)
        found = best(q, (row.name, 1.0))
        if found is None or count <= 0:  # tags without a track listeners may meet: not shown
            continue
        hits.append(
            make_hit(
                "tag",
                str(row.id),
                row.name,
                f"{count} track{'' if count == 1 else 's'}",
                f"/tags/{quote(row.name, safe='')}",
                None,
                found,
                count,
                # Tags have no date; a later id is a newer tag.
                datetime.fromtimestamp(row.id, UTC),
                (),
            )
        )
    return hits


LOADERS: dict[str, Loader] = {
    "artists": artists,
    "albums": albums,
    "playlists": playlists,
    "tags": tags,
}

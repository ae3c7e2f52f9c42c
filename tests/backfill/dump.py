"""What users see of some accounts, keyed by AT-URI (DID for people), so two plyrs built
differently (by using it, by `plyr backfill`) can be compared whole.

Read through plyr's API as a signed-out visitor, with the database only to find the ids
the API takes and the likes, which it shows by track, not by record:

- people: handle, display name, bio, the profile record's URI;
- tracks: every field of the API's track (title, artist, album, description, tags in
  order, features, duration, file type, content warnings, loudness gain, artwork there or
  not, publish state, record URI and CID, creation time) with its like and comment counts,
  its likers and its comments (author, text, position, times, URI);
- lists (albums, playlists, liked lists): type, name, entries in order (their record
  URIs and the track each resolves to), times; liked lists from the database, as only
  their owner may see them;
- likes: who, which track (URI and the CID liked), when.

Left out, because they are not in anyone's repository: ids, URLs made of ids, play counts,
preferences. Times are compared to the millisecond (records keep no finer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from plyr.db.models import Like, ListItem, MusicList, Track
from tests.support.plyr_server import PlyrServer

TRACK_FIELDS = (
    "title",
    "artist",
    "artist_did",
    "album",
    "description",
    "tags",
    "features",
    "duration",
    "file_type",
    "self_labels",
    "publish_state",
    "uri",
    "cid",
)


def ms(value: str | datetime | None) -> str | None:
    """A time to the millisecond, in UTC."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.isoformat(timespec="milliseconds")


async def _json(http: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await http.get(path, params=params or None)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    return response.json()


async def _track(http: httpx.AsyncClient, track_id: int) -> dict[str, Any]:
    track = await _json(http, f"/api/tracks/{track_id}")
    out: dict[str, Any] = {name: track[name] for name in TRACK_FIELDS}
    out["gain_db"] = None if track["gain_db"] is None else round(track["gain_db"], 2)
    out["artwork"] = track["image_url"] is not None
    out["thumbnail"] = track["thumbnail_url"] is not None
    out["created_at"] = ms(track["created_at"])
    social = await _json(http, f"/api/tracks/{track_id}/social")
    out["likes"] = social["likes"]
    out["comments"] = social["comments"]
    likers = await _json(http, f"/api/tracks/{track_id}/likers", limit=200)
    out["likers"] = sorted(person["did"] for person in likers)
    out["comment_list"] = [
        {
            "uri": comment["uri"],
            "author": comment["author"]["did"] if comment["author"] else None,
            "text": comment["text"],
            "timestamp_ms": comment["timestamp_ms"],
            "created_at": ms(comment["created_at"]),
            "updated_at": ms(comment["updated_at"]),
        }
        for comment in await _json(http, f"/api/tracks/{track_id}/comments")
    ]
    return out


async def _list(http: httpx.AsyncClient, list_id: int) -> dict[str, Any]:
    detail = await _json(http, f"/api/lists/{list_id}")
    return {
        "owner": detail["did"],
        "type": detail["type"],
        "name": detail["name"],
        "item_count": detail["item_count"],
        "entries": [
            [entry["subject_uri"], entry["track"]["uri"] if entry["track"] else None]
            for entry in detail["entries"]
        ],
        "created_at": ms(detail["created_at"]),
        "updated_at": ms(detail["updated_at"]),
    }


async def dump(plyr: PlyrServer, dids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"people": {}, "tracks": {}, "lists": {}, "liked_lists": {}, "likes": {}}
    async with plyr.runtime.sessions() as db:
        found = await db.execute(
            select(Track.id, Track.atproto_uri).where(Track.artist_did.in_(dids))
        )
        tracks = {track_id: uri for track_id, uri in found.all()}
        likes = (
            await db.execute(
                select(
                    Like.atproto_uri, Like.did, Track.atproto_uri, Like.subject_cid, Like.created_at
                )
                .join(Track, Track.id == Like.track_id)
                .where(Like.did.in_(dids))
            )
        ).all()
        liked = (
            (
                await db.execute(
                    select(MusicList).where(MusicList.did.in_(dids), MusicList.list_type == "liked")
                )
            )
            .scalars()
            .all()
        )
        liked_items = {
            row.id: [
                uri
                for (uri,) in (
                    await db.execute(
                        select(ListItem.subject_uri)
                        .where(ListItem.list_id == row.id)
                        .order_by(ListItem.position)
                    )
                ).all()
            ]
            for row in liked
        }
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
        for did in dids:
            profile = await _json(http, f"/api/profile/{did}")
            out["people"][did] = {
                "handle": profile["handle"],
                "display_name": profile["display_name"],
                "bio": profile["bio"],
                "profile": profile["uri"],
            }
            for row in await _json(http, "/api/lists", did=did):
                out["lists"][row["uri"]] = await _list(http, row["id"])
        for track_id, uri in tracks.items():
            out["tracks"][uri] = await _track(http, track_id)
    for row in liked:
        out["liked_lists"][row.atproto_uri] = {
            "owner": row.did,
            "name": row.name,
            "items": liked_items[row.id],
            "created_at": ms(row.created_at),
        }
    for uri, did, subject, subject_cid, created_at in likes:
        out["likes"][uri] = {
            "by": did,
            "subject": subject,
            "cid": subject_cid,
            "at": ms(created_at),
        }
    return out

"""Likes over the JSON API: like and unlike a track, your liked tracks, who liked a track,
and a track's social summary. Thin over `plyr.social.likes`; responses carry
`record_state` (pending → published, or failed) and the record's `uri`, known before it is
written (the key is chosen up front)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from plyr.runtime import Runtime
from plyr.social import comments, likes
from plyr.tracks.catalogue import playable_track
from plyr.web.shared.caller import CallerDep, CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import ALICE, with_examples
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.params import PageCursor, PageLimit, PathId
from plyr.web.shared.views import Person, TrackPage, person, record_uri, track_page

router = APIRouter(tags=["social"])


class LikeOut(BaseModel):
    model_config = with_examples(
        {
            "track_id": 42,
            "liked": True,
            "likes": 12,
            "record_state": "pending",
            "uri": f"at://{ALICE}/fm.plyr.like/3lbx2q5dwv22c",
        },
        {"track_id": 42, "liked": False, "likes": 11, "record_state": None, "uri": None},
    )

    track_id: int
    liked: bool
    likes: int
    record_state: str | None  # None after unliking: the record's deletion is under way
    uri: str | None


async def _like_count(runtime: Runtime, track_id: int) -> int:
    return (await likes.like_counts(runtime, [track_id])).get(track_id, 0)


@router.post("/api/tracks/{track_id}/like", responses=error_responses(401, 403, 404, 422, 429, 451))
async def like_track(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> LikeOut:
    """Like a track (liking twice is one like); it also goes on top of your liked list."""
    await limit_writes(runtime, request, caller.did)
    row = await likes.like(runtime, caller.did, track_id, caller.session.id)
    return LikeOut(
        track_id=track_id,
        liked=True,
        likes=await _like_count(runtime, track_id),
        record_state=row.record_state.value,
        uri=record_uri(runtime, "like", row),
    )


@router.delete("/api/tracks/{track_id}/like", responses=error_responses(401, 403, 404, 422, 429))
async def unlike_track(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> LikeOut:
    """Take a like back (nothing happens when there is none)."""
    await limit_writes(runtime, request, caller.did)
    await likes.unlike(runtime, caller.did, track_id, caller.session.id)
    return LikeOut(
        track_id=track_id,
        liked=False,
        likes=await _like_count(runtime, track_id),
        record_state=None,
        uri=None,
    )


@router.get(
    "/api/me/likes", summary="list the tracks you liked", responses=error_responses(401, 422)
)
async def my_likes(
    runtime: RuntimeDep, caller: CallerDep, cursor: PageCursor = None, limit: PageLimit = 50
) -> TrackPage:
    """The tracks you liked, newest like first, a page at a time (follow `cursor`): likes
    made here or by any other client; tracks that are gone or taken down are left out."""
    tracks, following = await likes.liked_tracks_page(
        runtime, caller.did, before=cursor, limit=limit
    )
    return await track_page(runtime, tracks, following)


@router.get("/api/tracks/{track_id}/likers", responses=error_responses(401, 404, 422, 451))
async def track_likers(
    track_id: PathId,
    runtime: RuntimeDep,
    caller: OptionalCaller,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[Person]:
    """Who liked the track, most recent first."""
    await playable_track(runtime, track_id, caller.did if caller else None)
    return [person(artist) for artist in await likes.likers(runtime, track_id, limit)]


class SocialSummary(BaseModel):
    model_config = with_examples(
        {"track_id": 42, "likes": 12, "liked": True, "comments": 3, "comments_allowed": True}
    )

    track_id: int
    likes: int
    liked: bool
    comments: int
    comments_allowed: bool


@router.get("/api/tracks/{track_id}/social", responses=error_responses(401, 404, 422, 451))
async def track_social(
    track_id: PathId, runtime: RuntimeDep, caller: OptionalCaller
) -> SocialSummary:
    """Counts for a track page, and whether the caller liked it."""
    track = await playable_track(runtime, track_id, caller.did if caller else None)
    liked = await likes.is_liked(runtime, caller.did if caller else None, [track_id])
    return SocialSummary(
        track_id=track_id,
        likes=await _like_count(runtime, track_id),
        liked=track_id in liked,
        comments=await comments.comment_count(runtime, track_id),
        comments_allowed=await comments.comments_allowed(runtime, track.artist_did),
    )

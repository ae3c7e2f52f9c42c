"""Listening over the JSON API: now playing (`/api/now-playing`), catalogue stats, top and
recently liked tracks, and the signed-in artist's analytics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, StrictBool, StrictInt

from plyr.listening import nowplaying, stats, top
from plyr.runtime import Runtime
from plyr.tracks.records import image_url
from plyr.web.shared.caller import CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import ALICE, BOB, LATER, SITE, TRACK, with_examples
from plyr.web.shared.params import BodyId
from plyr.web.shared.views import TrackOut, track_out

router = APIRouter(tags=["listening"])

NO_CONTENT: dict[int | str, dict[str, Any]] = {
    204: {"description": "nothing plays (never reported, stopped, or expired)"},
    **error_responses(422),
}


# --- now playing ---------------------------------------------------------------------------


class NowPlayingIn(BaseModel):
    model_config = with_examples({"track_id": 42, "position_ms": 61500, "paused": False})

    track_id: BodyId
    position_ms: Annotated[StrictInt, Field(ge=0, le=24 * 3600 * 1000)] = 0
    paused: StrictBool = False


PLAYING_TRACK: dict[str, Any] = {
    "id": 42,
    "title": "harbour lights",
    "artist": "alice",
    "artist_did": ALICE,
    "duration": 187,
    "url": f"{SITE}/tracks/42",
    "image_url": f"{SITE}/images/42",
    "thumbnail_url": f"{SITE}/images/42/thumb",
}


class PlayingTrack(BaseModel):
    model_config = with_examples(PLAYING_TRACK)

    id: int
    title: str
    artist: str
    artist_did: str
    duration: int | None
    url: str
    image_url: str | None
    thumbnail_url: str | None


class NowPlayingOut(BaseModel):
    model_config = with_examples(
        {
            "did": BOB,
            "handle": "bob.example.com",
            "track": PLAYING_TRACK,
            "position_ms": 61500,
            "paused": False,
            "updated_at": "2025-05-14T08:02:40.117204+00:00",
            "expires_at": "2025-05-14T08:03:40.117204+00:00",
        }
    )

    did: str
    handle: str | None
    track: PlayingTrack
    position_ms: int
    paused: bool
    updated_at: str
    expires_at: str


def _now_playing_out(runtime: Runtime, playing: nowplaying.Playing) -> NowPlayingOut:
    track = playing.track
    public = runtime.settings.public_url
    art = image_url(runtime.settings, track.id)
    return NowPlayingOut(
        did=playing.did,
        handle=playing.handle,
        track=PlayingTrack(
            id=track.id,
            title=track.title,
            artist=track.artist_name,
            artist_did=track.artist_did,
            duration=track.duration_seconds,
            url=f"{public}/tracks/{track.id}",
            image_url=art if track.image_key else None,
            thumbnail_url=f"{art}/thumb" if track.thumbnail_key else None,
        ),
        position_ms=playing.position_ms,
        paused=playing.paused,
        updated_at=playing.updated_at.isoformat(),
        expires_at=playing.expires_at.isoformat(),
    )


def _answer(runtime: Runtime, playing: nowplaying.Playing | None) -> NowPlayingOut | Response:
    if playing is None:
        return Response(status_code=204)
    return _now_playing_out(runtime, playing)


@router.put("/api/now-playing", status_code=204, responses=error_responses(400, 401, 403, 404, 422))
async def report_now_playing(
    body: NowPlayingIn, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> Response:
    """The player says what plays (on play, pause, seek, track change, and every ~15 s
    while playing). The report counts for `PLYR_NOW_PLAYING_TTL_SECONDS`."""
    await nowplaying.report(
        runtime,
        caller.did,
        track_id=body.track_id,
        position_ms=body.position_ms,
        paused=body.paused,
    )
    return Response(status_code=204)


@router.delete("/api/now-playing", status_code=204, responses=error_responses(401, 403))
async def stop_now_playing(runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep) -> Response:
    """The player stopped: nothing plays any more."""
    await nowplaying.stop(runtime, caller.did)
    return Response(status_code=204)


@router.post("/api/now-playing/stop", status_code=204, responses=error_responses(401, 403))
async def stop_now_playing_beacon(
    runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> Response:
    """As DELETE, for `navigator.sendBeacon` when a page unloads (a form-encoded body with
    `csrf_token`, since a beacon cannot set headers)."""
    await nowplaying.stop(runtime, caller.did)
    return Response(status_code=204)


@router.get(
    "/api/now-playing/by-handle/{handle}", response_model=NowPlayingOut, responses=NO_CONTENT
)
async def now_playing_by_handle(handle: str, runtime: RuntimeDep) -> NowPlayingOut | Response:
    """What the listener with this handle plays now, with the position extrapolated from
    their last report while not paused; 204 when nothing plays."""
    return _answer(runtime, await nowplaying.current_by_handle(runtime, handle))


@router.get("/api/now-playing/{did}", response_model=NowPlayingOut, responses=NO_CONTENT)
async def now_playing(did: str, runtime: RuntimeDep) -> NowPlayingOut | Response:
    """What `did` plays now, with the position extrapolated from their last report while
    not paused; 204 when nothing plays."""
    return _answer(runtime, await nowplaying.current(runtime, did))


# --- stats, top, recently liked -------------------------------------------------------------


class StatsOut(BaseModel):
    model_config = with_examples(
        {"plays": 48211, "tracks": 1260, "artists": 214, "duration_seconds": 301877}
    )

    plays: int
    tracks: int
    artists: int
    duration_seconds: int


@router.get("/api/stats")
async def catalogue_stats(runtime: RuntimeDep) -> StatsOut:
    """Total plays, published tracks, artists with a published track, and the published
    tracks' total duration (cached for a few seconds)."""
    return StatsOut(**(await stats.catalogue_stats(runtime)).as_dict())


class RankedTrackOut(BaseModel):
    model_config = with_examples({"plays": 37, "track": TRACK})

    plays: int
    track: TrackOut


class LikedTrackOut(BaseModel):
    model_config = with_examples({"liked_at": LATER, "track": TRACK})

    liked_at: str
    track: TrackOut


@router.get("/api/tracks/top", responses=error_responses(422))
async def top_tracks(
    runtime: RuntimeDep,
    window: Annotated[top.Window, Query()] = "week",
    limit: Annotated[int, Query(ge=1, le=top.MAX_LIMIT)] = 20,
) -> list[RankedTrackOut]:
    """Published tracks with the most plays in the last day, week, month, or of all time;
    ties go to the newest track (cached for a few seconds)."""
    ranked = await top.cached_top_tracks(runtime, window, limit)
    return [RankedTrackOut(plays=r.plays, track=track_out(runtime, r.track, [])) for r in ranked]


@router.get("/api/tracks/recently-liked", responses=error_responses(422))
async def recently_liked(
    runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=top.MAX_LIMIT)] = 20
) -> list[LikedTrackOut]:
    """Published tracks by their most recent like, newest first, each once."""
    liked = await top.recently_liked(runtime, limit)
    return [
        LikedTrackOut(liked_at=item.liked_at.isoformat(), track=track_out(runtime, item.track, []))
        for item in liked
    ]


# --- an artist's analytics ----------------------------------------------------------------


class TrackPlaysOut(BaseModel):
    model_config = with_examples(
        {
            "id": 42,
            "title": "harbour lights",
            "publish_state": "published",
            "plays": 128,
            "recent_plays": 37,
        }
    )

    id: int
    title: str
    publish_state: str
    plays: int = Field(description="all time")
    recent_plays: int = Field(description="in the window (`days`)")


class DayPlaysOut(BaseModel):
    model_config = with_examples({"day": "2025-05-14", "plays": 9})

    day: str = Field(description="a UTC calendar day, YYYY-MM-DD")
    plays: int


class AnalyticsOut(BaseModel):
    model_config = with_examples(
        {
            "days": 2,
            "since": "2025-05-13T00:00:00+00:00",
            "total_plays": 128,
            "recent_plays": 15,
            "tracks": [
                {
                    "id": 42,
                    "title": "harbour lights",
                    "publish_state": "published",
                    "plays": 128,
                    "recent_plays": 15,
                }
            ],
            "per_day": [{"day": "2025-05-13", "plays": 6}, {"day": "2025-05-14", "plays": 9}],
        }
    )

    days: int
    since: str = Field(description="the window's first instant (midnight UTC)")
    total_plays: int
    recent_plays: int
    tracks: list[TrackPlaysOut] = Field(description="most played first")
    per_day: list[DayPlaysOut] = Field(description="oldest first, one entry per day")


@router.get("/api/me/analytics", responses=error_responses(401, 422))
async def my_analytics(
    runtime: RuntimeDep,
    caller: CallerDep,
    days: Annotated[int, Query(ge=1, le=366)] = stats.ANALYTICS_DAYS,
) -> AnalyticsOut:
    """Plays of the caller's tracks: per track (all time and in the window) and per UTC day
    over the last `days` days."""
    analytics = await stats.artist_analytics(runtime, caller.did, days=days)
    return AnalyticsOut.model_validate(analytics.as_dict())

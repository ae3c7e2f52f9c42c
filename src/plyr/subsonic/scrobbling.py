"""scrobble (plays, teal.fm) and getNowPlaying.

`scrobble` with `submission=true` (the default) counts a play of each `id` at its `time`
(ms since 1970; now when absent) through `plyr.listening.reported`: once per listen, as
the web player's plays, and a teal.fm scrobble in the listener's PDS when they turned
scrobbling on. A play is no record of plyr's own, so no session is needed to count it.
With `submission=false` it says what the player plays now (the last `id`; its `time`, when
given, is when playback began), which lasts until the track would end: a Subsonic player
reports once a track, not every 15 s as the web player does. Every id is checked (once)
before anything is counted.

Reports are bounded, since each is the player's word: at most `MAX_IDS` a call (Last.fm's
50; more is error 0), times from the last 14 days only (`reported.when_counted`), plays
that would overlap none of the listener's others, and a budget per listener of one
submission per `SECONDS_PER_PLAY` of time over `BUDGET_WINDOW` (bucket `scrobble:<did>`;
past it HTTP 429, error 0, nothing counted): nobody hears more than that.

`getNowPlaying` lists every listener playing now (the web's now-playing reports too), as
`GET /api/now-playing/{did}` shows each: `minutesAgo` is since their last report; plyr
keeps one report per listener and does not know the player, so `playerId` is 1 for all
and there is no `playerName`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plyr import ratelimit
from plyr.db.models import utcnow
from plyr.listening import nowplaying, reported
from plyr.subsonic import ids, nodes
from plyr.subsonic.answers import Node, Payload
from plyr.subsonic.errors import Code, SubsonicError, missing
from plyr.subsonic.registry import Call, method

PLAYER_ID = 1
MAX_TIME_MS = 10**14  # far past any real time: guards datetime's range
NOW_PLAYING_LIMIT = 100
MAX_IDS = 50
SECONDS_PER_PLAY = 30  # the counting threshold of a long track
BUDGET_WINDOW = 3600


def _times(values: list[str], count: int) -> list[datetime | None]:
    if not values:
        return [None] * count
    if len(values) != count:
        raise SubsonicError(Code.GENERIC, "give one time for each id, or none")
    found: list[datetime | None] = []
    for value in values:
        text = value.strip()
        if not text.isdigit() or int(text) > MAX_TIME_MS:
            raise SubsonicError(Code.GENERIC, f"time is in ms since 1970, not {value[:20]!r}")
        found.append(datetime.fromtimestamp(int(text) / 1000, UTC))
    return found


async def _spend(call: Call, plays: int) -> None:
    verdict = await ratelimit.hit(
        call.runtime,
        f"scrobble:{call.listener.did}",
        limit=BUDGET_WINDOW // SECONDS_PER_PLAY,
        window_seconds=BUDGET_WINDOW,
        cost=plays,
    )
    if not verdict.allowed:
        raise SubsonicError(
            Code.GENERIC,
            f"more plays than anyone can hear; try again in {verdict.retry_after} s",
            status=429,
            headers={"Retry-After": str(verdict.retry_after)},
        )


@method("scrobble")
async def scrobble(call: Call) -> Payload:
    values = call.params.getlist("id")
    if not values:
        raise missing("id")
    if len(values) > MAX_IDS:
        raise SubsonicError(Code.GENERIC, f"at most {MAX_IDS} scrobbles a call, not {len(values)}")
    track_ids = [ids.parse(value, "tr").number for value in values]
    times = _times(call.params.getlist("time"), len(track_ids))
    submission = call.params.flag("submission", True)
    did = call.listener.did
    checked = {
        i: await reported.check_reportable(call.runtime, i, did) for i in dict.fromkeys(track_ids)
    }
    tracks = [checked[i] for i in track_ids]
    if submission:
        await _spend(call, len(tracks))
        for track, started in zip(tracks, times, strict=True):
            await reported.count_reported_play(call.runtime, track, did, started)
        return {}
    track, started = tracks[-1], times[-1]
    now = utcnow()
    position_ms = max(0, int((now - started).total_seconds() * 1000)) if started else 0
    remaining = (track.duration_seconds or 0) - position_ms / 1000
    ttl = call.runtime.settings.now_playing_ttl_seconds
    await nowplaying.report(
        call.runtime,
        did,
        track_id=track.id,
        position_ms=position_ms,
        paused=False,
        lasting=timedelta(seconds=max(ttl, remaining)),
    )
    return {}


@method("getNowPlaying")
async def get_now_playing(call: Call) -> Payload:
    playing = await nowplaying.playing_now(call.runtime, NOW_PLAYING_LIMIT)
    songs = await nodes.songs(call.runtime, call.listener.did, [p.track.id for p in playing])
    by_id = {song.attrs["id"]: song for song in songs}
    now = utcnow()
    entries: list[Node] = []
    for listening in playing:
        song = by_id.get(ids.song_id(listening.track.id))
        if song is None:
            continue  # not a song players may list (not published yet)
        minutes = max(0, int((now - listening.updated_at).total_seconds() // 60))
        attrs = {
            **song.attrs,
            "username": listening.handle or listening.did,
            "minutesAgo": minutes,
            "playerId": PLAYER_ID,
        }
        entries.append(Node(attrs, song.children))
    return {"nowPlaying": Node({}, {"entry": entries})}

"""Bytes: stream, download, getCoverArt, getAvatar. They answer audio and images, not
envelopes (their errors still are); the signing in and the `v`/`c` checks are those of
every method (players put `u`+`t`+`s` or `apiKey` in the URLs they play).

- `stream`: the file the web player plays (`/audio/{id}`'s bytes: Range, ETag,
  If-None-Match/If-Range, 304/412/416, or the redirect to S3), the original with
  `format=raw`, or a transcode made as it is sent (`transcoding.py` says when and how:
  `format`, `maxBitRate`, `timeOffset`, `estimateContentLength`). A transcode has no
  ranges. Nothing here counts a play: `scrobble` does.
- `download`: the original as uploaded, as an attachment named after artist and title.
- `getCoverArt`, `getAvatar`: `covers.py`.

A song listeners may not meet (taken down, its account hidden, its audio not ready) is
error 70, as one that does not exist.
"""

from __future__ import annotations

import re

from starlette.responses import Response

from plyr.db.models import Track
from plyr.errors import ServiceError
from plyr.serving.serve import serve_object
from plyr.subsonic import covers, ids, transcoding
from plyr.subsonic.answers import Format, error_answer
from plyr.subsonic.errors import Code, SubsonicError, not_found
from plyr.subsonic.params import Params
from plyr.subsonic.registry import Call, method
from plyr.subsonic.transcoding import StoredAudio
from plyr.tracks.catalogue import playable_track

_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,6})?")
TRANSCODE_PARAMS = ("format", "maxBitRate", "timeOffset")
# The extensions originals are stored under (`media.sniff`) and the types players expect.
AUDIO_TYPES = {
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "aiff": "audio/aiff",
    "webm": "audio/webm",
    "mka": "audio/x-matroska",
}


def _number(params: Params, name: str) -> float:
    """A non-negative number parameter (0 when absent or empty); error 0 otherwise."""
    value = (params.get(name) or "").strip()
    if not value:
        return 0.0
    if _DECIMAL.fullmatch(value) is None:
        raise SubsonicError(
            Code.GENERIC, f"{name} must be a number of 0 or more, not {value[:20]!r}"
        )
    return float(value)


async def _song(call: Call) -> Track:
    value = call.params.require("id")
    sid = ids.parse(value, "tr")
    try:
        return await playable_track(call.runtime, sid.number, call.listener.did)
    except ServiceError:  # none, or not for listeners (451), or no audio yet (409)
        raise not_found(f"song {value[:80]!r}") from None


async def _stored_stream(call: Call, track: Track, *, need_size: bool) -> StoredAudio:
    """What `/audio/{id}` serves: plyr's stream of the track, or the original itself."""
    key = track.stream_key or track.original_key
    if key == track.original_key:
        return await _original(call, track)
    size = 0
    if need_size:  # its bit rate matters only when a transcode may be asked for
        info = await call.runtime.storage.stat(key)
        size = info.size if info else 0
    suffix = key.rpartition(".")[2].lower()
    return StoredAudio(
        key,
        track.stream_content_type or "application/octet-stream",
        size,
        track.duration_seconds,
        suffix if suffix in ("mp3", "opus") else None,
    )


async def _original(call: Call, track: Track) -> StoredAudio:
    """The file as uploaded. Its type is the stream's when plyr streams it as it is, else
    what storage recorded (S3 keeps it; local files do not), else its extension's."""
    content_type = track.stream_content_type
    if track.stream_key not in (None, track.original_key):
        info = await call.runtime.storage.stat(track.original_key)
        content_type = info.content_type if info else None
    extension = track.original_key.rpartition(".")[2].lower()
    return StoredAudio(
        track.original_key,
        content_type or AUDIO_TYPES.get(extension, "application/octet-stream"),
        track.size_bytes,
        track.duration_seconds,
        track.codec,
    )


@method("stream")
async def stream(call: Call) -> Response:
    track = await _song(call)
    params = call.params
    fmt = (params.get("format") or "").strip().lower() or None
    raw = fmt == "raw"
    max_kbps = 0 if raw else int(_number(params, "maxBitRate"))
    offset = _number(params, "timeOffset")
    asked = any(params.get(name) for name in TRANSCODE_PARAMS)
    if raw:
        source = await _original(call, track)
    else:
        source = await _stored_stream(call, track, need_size=asked)
    plan = transcoding.choose(source, None if raw else fmt, max_kbps, offset)
    if plan is None:
        return await serve_object(
            call.http, call.runtime.storage, source.key, content_type=source.content_type
        )
    estimate = params.flag("estimateContentLength", False) or False
    if call.http.method == "HEAD":  # the headers a GET would send, nothing transcoded
        return await transcoding.head_answer(call.runtime.storage, plan, estimate=estimate)
    shape: Format = "json" if params.get("f") == "json" else "xml"

    def failed(exc: BaseException) -> Response:
        """The source failed before a byte went out: an error, not an empty 200."""
        answer = error_answer(
            shape, SubsonicError(Code.GENERIC, "the audio could not be read", status=500)
        )
        answer.headers["Access-Control-Allow-Origin"] = "*"
        return answer

    return await transcoding.live_answer(
        call.runtime.storage, plan, estimate=estimate, did=call.listener.did, failed=failed
    )


@method("download")
async def download(call: Call) -> Response:
    track = await _song(call)
    original = await _original(call, track)
    return await serve_object(
        call.http,
        call.runtime.storage,
        original.key,
        content_type=original.content_type,
        download_name=f"{track.artist_name} - {track.title}.{original.suffix}",
    )


@method("getCoverArt")
async def get_cover_art(call: Call) -> Response:
    picture = await covers.picture_of(call.runtime, call.listener.did, call.params.require("id"))
    size = int(_number(call.params, "size")) or None
    return await covers.picture_answer(call.http, call.runtime.storage, picture, size)


@method("getAvatar")
async def get_avatar(call: Call) -> Response:
    username = call.params.require("username")
    picture = await covers.avatar_of(call.runtime, call.listener.did, username)
    return await covers.picture_answer(call.http, call.runtime.storage, picture, None)

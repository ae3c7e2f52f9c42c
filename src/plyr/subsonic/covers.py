"""Pictures for `getCoverArt` and `getAvatar`: which picture an id names, and the answer.

A cover-art id is the id of what it pictures (`plyr.subsonic.ids`):

| id | its picture |
|---|---|
| `tr-` | the song's artwork, else its album's cover |
| `si-` | the single's (its track's) artwork |
| `al-` | the album list's own cover, else the artwork of its first song with one |
| `pl-` | the playlist's cover, else the artwork of its first track with one |
| `ar-` | the artist's avatar |

Only what listeners may meet has a picture (songs and albums as `plyr.tracks.library`
lists them, lists and artists not hidden); anything else, and a thing without one, is
error 70. An avatar is a URL on the user's PDS (plyr keeps the address its Bluesky
profile gives, never the image): the answer is a redirect there (303); plyr fetches
nothing.

`size` scales stored artwork down to fit a square of that many pixels (16..1200, rounded up
to the next of `LADDER`, past it the stored picture; never up), as a JPEG. Scaled pictures
are kept in memory per process (`MAX_CACHED_BYTES`, the least recently used dropped
first), keyed by the stored key (a content hash) and rung.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

import anyio.to_thread
from PIL import UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plyr.artists import find_artist, get_artist
from plyr.cache import single_flight
from plyr.db.models import ListType
from plyr.errors import ServiceError
from plyr.media.artwork import MAX_ARTWORK_BYTES
from plyr.media.resize import fit_jpeg
from plyr.runtime import Runtime
from plyr.serving.file_response import HeadersOnly
from plyr.serving.serve import serve_object
from plyr.serving.validators import etag_matches, strong_etag
from plyr.social import lists
from plyr.storage.base import Storage, StorageError
from plyr.subsonic import ids
from plyr.subsonic.errors import not_found
from plyr.tracks import library
from plyr.tracks.catalogue import listed_artist

MIN_SIZE: Final = 16
MAX_SIZE: Final = 1200
LADDER: Final = (32, 64, 128, 256, 512, 1024)  # past it: the stored picture
ENTRY_BYTES: Final = 200  # what an entry costs besides its bytes (key, tuple, links)
MAX_CACHED_BYTES: Final = 32 * 1024 * 1024
REDIRECT_CACHE: Final = "private, max-age=3600"


@dataclass(frozen=True, slots=True)
class Picture:
    """A stored image (`key`) or an address elsewhere (`url`)."""

    key: str | None = None
    url: str | None = None


NONE = Picture()


async def picture_of(runtime: Runtime, viewer_did: str, value: str) -> Picture:
    """The picture a cover-art id names; error 70 when there is none to show."""
    sid = ids.parse(value)
    try:
        found = await _picture(runtime, viewer_did, sid)
    except ServiceError:  # 404, or 451 (hidden): not for this listener
        found = NONE
    if found == NONE:
        raise not_found(f"cover art {value[:80]!r}")
    return found


async def avatar_of(runtime: Runtime, viewer_did: str, username: str) -> Picture:
    """A user's avatar, by handle or DID; error 70 when plyr knows none."""
    try:
        artist = await find_artist(runtime, username.strip())
        url = listed_artist(artist, viewer_did).avatar_url
    except ServiceError:
        url = None
    if not url or not url.startswith(("https://", "http://")):
        raise not_found(f"an avatar of {username[:80]!r}")
    return Picture(url=url)


async def _picture(runtime: Runtime, viewer_did: str, sid: ids.SubsonicId) -> Picture:
    if sid.kind == "ar":
        artist = await get_artist(runtime, sid.key)
        url = listed_artist(artist, viewer_did).avatar_url if artist else None
        return Picture(url=url) if url and url.startswith(("https://", "http://")) else NONE
    if sid.kind == "pl":
        return await _playlist_picture(runtime, viewer_did, sid.number)
    if sid.kind == "al":
        return await _album_picture(runtime, viewer_did, sid.number)
    songs = await library.songs(runtime, viewer_did, [sid.number])
    if not songs:
        return NONE
    song = songs[0]
    if song.track.image_key:
        return Picture(song.track.image_key)
    if sid.kind == "tr" and song.album is not None:
        return await _album_picture(runtime, viewer_did, song.album.list_id)
    return NONE


async def _album_picture(runtime: Runtime, viewer_did: str, list_id: int) -> Picture:
    found = await library.albums(runtime, [list_id])
    if not found:
        return NONE
    album = found[0]
    if album.has_cover:
        row = await lists.visible_list(runtime, list_id, viewer_did)
        if row.image_key:
            return Picture(row.image_key)
    if album.cover_track is not None:
        songs = await library.songs(runtime, viewer_did, [album.cover_track])
        if songs and songs[0].track.image_key:
            return Picture(songs[0].track.image_key)
    return NONE


async def _playlist_picture(runtime: Runtime, viewer_did: str, list_id: int) -> Picture:
    row = await lists.visible_list(runtime, list_id, viewer_did)
    if row.list_type != ListType.playlist:
        return NONE
    if row.image_key:
        return Picture(row.image_key)
    for entry in await lists.entries(runtime, list_id):
        if entry.track is not None and entry.track.image_key:
            return Picture(entry.track.image_key)
    return NONE


def image_type(key: str) -> str:
    extension = key.rpartition(".")[2].lower()
    return {"webp": "image/webp", "png": "image/png"}.get(extension, "image/jpeg")


async def picture_answer(
    request: Request, storage: Storage, picture: Picture, size: int | None
) -> Response:
    """The picture's bytes (the stored image, or scaled to `size`), or a redirect."""
    if picture.url is not None:
        # 303, not 307: a player that posted its form (credentials in it) must not post it
        # again to the PDS; it fetches the picture with a GET.
        return RedirectResponse(picture.url, 303, headers={"Cache-Control": REDIRECT_CACHE})
    assert picture.key is not None
    key = picture.key
    if size is not None and size > 0:
        step = rung(max(MIN_SIZE, min(size, MAX_SIZE)))
        scaled = None if step is None else await SCALED.get(storage, key, step)
        if step is not None and scaled is not None:
            return _scaled_answer(request, key, step, scaled)
    # The same id may show another picture tomorrow (a new cover): revalidate, never assume.
    return await serve_object(request, storage, key, content_type=image_type(key), immutable=False)


def _scaled_answer(request: Request, key: str, size: int, data: bytes) -> Response:
    etag = strong_etag(f"{key}@{size}", len(data))
    common = {"ETag": etag, "Cache-Control": "no-cache"}
    asked = request.headers.get("if-none-match")
    if asked is not None and etag_matches(asked, etag, weak=True):
        return HeadersOnly(304, [(b"etag", etag.encode()), (b"cache-control", b"no-cache")])
    return Response(data, media_type="image/jpeg", headers=common)


def rung(size: int) -> int | None:
    """The size a wish is scaled to: the next of a short ladder (a few decodes and entries
    per picture, not one per pixel size), or None past it (the stored picture)."""
    return next((step for step in LADDER if step >= size), None)


class ScaledPictures:
    """Scaled pictures by (stored key, rung), least recently used dropped first. A picture
    that fits the size already is remembered as such (None), charged as any entry
    (`ENTRY_BYTES`); a picture that could not be read is not remembered (it may be back).
    Concurrent requests for one scaling share it (`cache.single_flight`)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._kept: OrderedDict[tuple[str, int], bytes | None] = OrderedDict()

    async def get(self, storage: Storage, key: str, size: int) -> bytes | None:
        wanted = (key, size)
        if wanted in self._kept:
            self._kept.move_to_end(wanted)
            return self._kept[wanted]
        return await single_flight(("scaled", key, size), lambda: self._make(storage, key, size))

    async def _make(self, storage: Storage, key: str, size: int) -> bytes | None:
        data = await _read(storage, key)
        if data is None:
            return None  # gone or too large now: not remembered
        try:
            scaled = await anyio.to_thread.run_sync(fit_jpeg, data, size)
        except (UnidentifiedImageError, OSError, ValueError):
            return None  # not an image Pillow reads: the stored file goes out as is
        self._keep((key, size), scaled)
        return scaled

    def _keep(self, wanted: tuple[str, int], scaled: bytes | None) -> None:
        if wanted in self._kept:
            return
        self._kept[wanted] = scaled
        self.bytes += ENTRY_BYTES + len(scaled or b"")
        while self.bytes > self.max_bytes and self._kept:
            _, dropped = self._kept.popitem(last=False)
            self.bytes -= ENTRY_BYTES + len(dropped or b"")


async def _read(storage: Storage, key: str) -> bytes | None:
    """The stored picture, or None when it is gone or larger than artwork may be."""
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in storage.get_range(key):
            total += len(chunk)
            if total > MAX_ARTWORK_BYTES:
                return None
            chunks.append(chunk)
    except (StorageError, ValueError):
        return None
    return b"".join(chunks)


SCALED = ScaledPictures(MAX_CACHED_BYTES)

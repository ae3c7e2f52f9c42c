"""Pages for the social layer: likes, timed comments, albums, playlists, tags, the library,
public liked pages, and the hidden-tags filter.

Handlers are thin: they call the same services as the JSON API (`plyr.social.*`). Every
form works without JavaScript (post, then a redirect back carrying `?done=` or `?failed=`,
shown as a toast); with htmx the same posts answer with a partial and an `HX-Trigger`
header carrying the toast.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from plyr.db.models import (
    Artist,
    ListType,
    MusicList,
    Track,
)
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social import comments, likes, lists, preferences, profiles, tags
from plyr.tracks import service
from plyr.web.auth import BrowserDep, Caller, CsrfDep, OptionalCaller
from plyr.web.deps import RuntimeDep
from plyr.web.form_stream import received_image
from plyr.web.limits import limit_writes
from plyr.web.templating import render
from plyr.web.tracks_api import playable_track

router = APIRouter(include_in_schema=False)

DEFAULT_HIDDEN_TAGS = list(preferences.DEFAULT_HIDDEN_TAGS)
MAX_HIDDEN_TAGS = 20
TAG_PAGE_TRACKS = 200

# --- helpers shared with the other page modules ------------------------------------------


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def toast_header(message: str, *, failed: bool = False) -> dict[str, str]:
    """An `HX-Trigger` header that makes the page show a toast (toast.js listens)."""
    return {"HX-Trigger": json.dumps({"toast": {"message": message, "failed": failed}})}


def safe_back(value: str | None, fallback: str) -> str:
    """A same-site path to go back to (never another site)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return fallback


def with_notice(path: str, message: str, *, failed: bool = False) -> str:
    """The path with `?done=` (or `?failed=`) set to the message, for the toast region."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("done", "failed")]
    query.append(("failed" if failed else "done", message))
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


def finish(
    request: Request,
    message: str,
    back: str,
    *,
    failed: bool = False,
    partial: Response | None = None,
) -> Response:
    """The answer to a mutation: a partial + toast for htmx, a redirect with a notice else."""
    if is_htmx(request):
        response = partial if partial is not None else Response(status_code=204)
        response.headers.update(toast_header(message, failed=failed))
        if failed and partial is None:
            response.headers["HX-Reswap"] = "none"
        return response
    return RedirectResponse(with_notice(back, message, failed=failed), status_code=303)


def clock(seconds: int | None) -> str:
    if not seconds:
        return "0:00"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def parse_position(value: str) -> int:
    """`m:ss`, `h:mm:ss` or seconds → milliseconds."""
    text = value.strip() or "0"
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        raise ServiceError(422, "invalid_timestamp", "write the position as m:ss") from None
    if len(parts) > 3 or any(p < 0 for p in parts):
        raise ServiceError(422, "invalid_timestamp", "write the position as m:ss")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return int(seconds * 1000)


async def row_extras(
    runtime: Runtime, tracks: Iterable[Track], caller: Caller | None
) -> dict[str, Any]:
    """What track rows show besides the track: like counts and the viewer's likes."""
    ids = [track.id for track in tracks]
    return {
        "like_counts": await likes.like_counts(runtime, ids),
        "liked_ids": await likes.is_liked(runtime, caller.did if caller else None, ids),
    }


async def hidden_tags_for(runtime: Runtime, caller: Caller | None) -> list[str]:
    """Tags whose tracks the home page leaves out: the viewer's choice, else ["ai"]."""
    if caller is None:
        return list(DEFAULT_HIDDEN_TAGS)
    return list((await preferences.get_preferences(runtime, caller.did)).hidden_tags)


# --- likes ---------------------------------------------------------------------------------


async def _like_state(runtime: Runtime, track_id: int, caller: Caller | None) -> dict[str, Any]:
    counts = await likes.like_counts(runtime, [track_id])
    liked = await likes.is_liked(runtime, caller.did if caller else None, [track_id])
    return {"like_count": counts.get(track_id, 0), "liked": track_id in liked}


@router.post("/tracks/{track_id}/like")
async def like_from_page(
    track_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    op: Annotated[str, Form(pattern="^(like|unlike)$")] = "like",
    back: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    back_to = safe_back(back, f"/tracks/{track_id}")
    try:
        await limit_writes(runtime, request, caller.did)
        track = await service.get_track(runtime, track_id)
        if op == "like":
            await likes.like(runtime, caller.did, track_id, caller.session.id)
            message = f"liked “{track.title}”"
        else:
            await likes.unlike(runtime, caller.did, track_id, caller.session.id)
            message = f"removed “{track.title}” from your likes"
    except ServiceError as exc:
        return finish(request, exc.message, back_to, failed=True)
    partial = None
    if is_htmx(request):
        state = await _like_state(runtime, track_id, caller)
        partial = render(request, "_like_button.html", {"track": track, "back": back_to, **state})
    return finish(request, message, back_to, partial=partial)


# --- comments ------------------------------------------------------------------------------


async def _comments_context(
    runtime: Runtime, track: Track, caller: Caller | None
) -> dict[str, Any]:
    return {
        "comments": await comments.comments_on(runtime, track.id),
        "comments_allowed": await comments.comments_allowed(runtime, track.artist_did),
        "track_id": track.id,
        "track_duration": track.duration_seconds,
        "clock": clock,
    }


async def _comments_partial(
    request: Request, runtime: Runtime, track_id: int, caller: Caller
) -> HTMLResponse:
    track = await service.get_track(runtime, track_id)
    return render(request, "_comments.html", await _comments_context(runtime, track, caller))


@router.post("/tracks/{track_id}/comments")
async def comment_from_page(
    track_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    text: Annotated[str, Form(max_length=4000)] = "",
    at: Annotated[str, Form(max_length=16)] = "0:00",
) -> Response:
    back = f"/tracks/{track_id}#comments"
    try:
        await limit_writes(runtime, request, caller.did)
        position = parse_position(at)
        await comments.add_comment(runtime, caller.did, track_id, text, position, caller.session.id)
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    partial = (
        await _comments_partial(request, runtime, track_id, caller) if is_htmx(request) else None
    )
    return finish(request, f"comment posted at {clock(position // 1000)}", back, partial=partial)


@router.post("/tracks/{track_id}/comments/{comment_id}/edit")
async def edit_comment_from_page(
    track_id: int,
    comment_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    back = f"/tracks/{track_id}#comments"
    try:
        await limit_writes(runtime, request, caller.did)
        await comments.edit_comment(runtime, comment_id, caller.did, text, caller.session.id)
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    partial = (
        await _comments_partial(request, runtime, track_id, caller) if is_htmx(request) else None
    )
    return finish(request, "comment saved", back, partial=partial)


@router.post("/tracks/{track_id}/comments/{comment_id}/delete")
async def delete_comment_from_page(
    track_id: int,
    comment_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
) -> Response:
    back = f"/tracks/{track_id}#comments"
    try:
        await comments.delete_comment(runtime, comment_id, caller.did, caller.session.id)
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    partial = (
        await _comments_partial(request, runtime, track_id, caller) if is_htmx(request) else None
    )
    return finish(request, "comment deleted", back, partial=partial)


# --- the track page's social parts (track_pages.track_page calls this) ---------------------


async def track_social(runtime: Runtime, track: Track, caller: Caller | None) -> dict[str, Any]:
    albums = [
        a for a in await lists.albums_with_track(runtime, track.id) if a.did == track.artist_did
    ]
    return {
        **await _like_state(runtime, track.id, caller),
        **await _comments_context(runtime, track, caller),
        "likers": await likes.likers(runtime, track.id),
        "album_list": albums[0] if albums else None,
        "art_key": track.image_key or track.image_url,
    }


# --- adding to playlists -----------------------------------------------------------------


@router.get("/library/playlist-menu")
async def playlist_menu(runtime: RuntimeDep, caller: BrowserDep) -> JSONResponse:
    """The viewer's playlists for the "add to playlist" menu (JavaScript builds it)."""
    found = await lists.lists_of(runtime, caller.did, ListType.playlist)
    return JSONResponse(
        {"playlists": [{"id": row.id, "name": row.name, "count": count} for row, count in found]},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/tracks/{track_id}/add", response_class=HTMLResponse)
async def add_to_playlist_page(
    track_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    back: Annotated[str, Query(max_length=512)] = "",
) -> HTMLResponse:
    """Without JavaScript the menu is this page: your playlists and a new one."""
    track = await playable_track(runtime, track_id, caller)
    found = await lists.lists_of(runtime, caller.did, ListType.playlist)
    return render(
        request,
        "add_to_playlist.html",
        {
            "title": "add to playlist",
            "track": track,
            "playlists": found,
            "back": safe_back(back, f"/tracks/{track_id}"),
        },
    )


@router.post("/playlists/{list_id}/add")
async def add_to_playlist(
    list_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    track_id: Annotated[int, Form()],
    back: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    back_to = safe_back(back, f"/tracks/{track_id}")
    try:
        await limit_writes(runtime, request, caller.did)
        music_list = await lists.get_list(runtime, list_id)
        if music_list.list_type != ListType.playlist:
            raise ServiceError(422, "invalid_type", "that is not a playlist")
        track = await service.get_track(runtime, track_id)
        await lists.add_track(runtime, list_id, caller.did, track_id, caller.session.id)
    except ServiceError as exc:
        return finish(request, exc.message, back_to, failed=True)
    return finish(request, f"added “{track.title}” to {music_list.name}", back_to)


@router.post("/playlists/new")
async def new_playlist(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    track_id: Annotated[int | None, Form()] = None,
    back: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    back_to = safe_back(back, "/library?tab=playlists")
    try:
        await limit_writes(runtime, request, caller.did)
        row = await lists.create_list(
            runtime,
            caller.did,
            ListType.playlist,
            name,
            session_id=caller.session.id,
            track_ids=[track_id] if track_id is not None else None,
        )
    except ServiceError as exc:
        return finish(request, exc.message, back_to, failed=True)
    if track_id is None and not back:
        back_to = f"/playlists/{row.id}"
    what = "with the track" if track_id is not None else ""
    return finish(request, f"made the playlist {row.name} {what}".strip(), back_to)


# --- album and playlist pages ------------------------------------------------------------


def _list_path(row: MusicList) -> str:
    if row.list_type == ListType.liked:
        return "/library/liked"
    return f"/{'albums' if row.list_type == ListType.album else 'playlists'}/{row.id}"


async def _list_page(
    request: Request, runtime: Runtime, list_id: int, kind: ListType, caller: Caller | None
) -> HTMLResponse:
    row = await lists.get_list(runtime, list_id)
    if row.list_type != kind:
        raise ServiceError(404, "not_found", f"there is no {kind.value} {list_id}")
    owner = caller is not None and caller.did == row.did
    found = await lists.entries(runtime, list_id, published_only=not owner)
    tracks = [entry.track for entry in found if entry.track is not None]
    async with runtime.sessions() as db:
        artist = await db.get(Artist, row.did)
    cover_url = thumb_url = None
    if row.image_key:
        cover_url = f"{runtime.settings.public_url}/lists/{row.id}/cover"
        thumb_url = f"/lists/{row.id}/cover/thumb"
    elif tracks and tracks[0].image_key:
        # No cover of its own: the first track's artwork stands in.
        cover_url = f"{runtime.settings.public_url}/images/{tracks[0].id}"
        thumb_url = f"/images/{tracks[0].id}"
    art_key = row.image_key or (tracks[0].image_key if tracks else None)
    return render(
        request,
        "list.html",
        {
            "title": row.name,
            "music_list": row,
            "kind": kind.value,
            "entries": found,
            "owner": owner,
            "owner_artist": artist,
            "total": clock(sum(t.duration_seconds or 0 for t in tracks)),
            "count": len(found),
            "cover_url": cover_url,
            "thumb_url": thumb_url,
            "art_key": art_key,
            "page_path": _list_path(row),
            "clock": clock,
            **await row_extras(runtime, tracks, caller),
        },
    )


@router.get("/albums/{list_id}", response_class=HTMLResponse)
async def album_page(
    list_id: int, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> HTMLResponse:
    return await _list_page(request, runtime, list_id, ListType.album, caller)


@router.get("/library/liked", response_class=HTMLResponse)
async def liked_order_page(request: Request, runtime: RuntimeDep, caller: BrowserDep) -> Response:
    """Your liked list in its own order (the `fm.plyr.list` record), to reorder it."""
    liked_id = await lists.liked_list_id(runtime, caller.did)
    if liked_id is None:
        return RedirectResponse("/library?tab=liked", status_code=303)
    return await _list_page(request, runtime, liked_id, ListType.liked, caller)


@router.get("/playlists/{list_id}", response_class=HTMLResponse)
async def playlist_page(
    list_id: int, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> HTMLResponse:
    return await _list_page(request, runtime, list_id, ListType.playlist, caller)


async def _after_list_change(
    request: Request,
    runtime: Runtime,
    list_id: int,
    caller: Caller,
    message: str,
    *,
    failed: bool = False,
) -> Response:
    try:
        row = await lists.get_list(runtime, list_id)
    except ServiceError:
        return finish(request, message, "/library?tab=playlists", failed=failed)
    partial = None
    if is_htmx(request):
        partial = await _list_page(request, runtime, list_id, row.list_type, caller)
    return finish(request, message, _list_path(row), failed=failed, partial=partial)


@router.post("/lists/{list_id}/rename")
async def rename_list(
    list_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        await limit_writes(runtime, request, caller.did)
        row = await lists.rename_list(runtime, list_id, caller.did, name, caller.session.id)
    except ServiceError as exc:
        return await _after_list_change(request, runtime, list_id, caller, exc.message, failed=True)
    return await _after_list_change(request, runtime, list_id, caller, f"renamed to {row.name}")


@router.post("/lists/{list_id}/remove")
async def remove_from_list(
    list_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    item_id: Annotated[int, Form()],
) -> Response:
    try:
        await limit_writes(runtime, request, caller.did)
        await lists.remove_item(runtime, list_id, caller.did, item_id, caller.session.id)
    except ServiceError as exc:
        return await _after_list_change(request, runtime, list_id, caller, exc.message, failed=True)
    return await _after_list_change(request, runtime, list_id, caller, "removed from the list")


@router.post("/lists/{list_id}/move")
async def move_in_list(
    list_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    item_id: Annotated[int, Form()],
    by: Annotated[int, Form(ge=-1, le=1)],
) -> Response:
    """The ↑ ↓ buttons: move one entry by one place."""
    try:
        await limit_writes(runtime, request, caller.did)
        order = [
            entry.item_id for entry in await lists.entries(runtime, list_id, published_only=False)
        ]
        if item_id not in order:
            raise ServiceError(404, "not_found", "no such entry in this list")
        index = order.index(item_id)
        target = index + by
        if 0 <= target < len(order):
            order[index], order[target] = order[target], order[index]
            await lists.reorder(runtime, list_id, caller.did, order, caller.session.id)
    except ServiceError as exc:
        return await _after_list_change(request, runtime, list_id, caller, exc.message, failed=True)
    return await _after_list_change(
        request, runtime, list_id, caller, "moved up" if by < 0 else "moved down"
    )


@router.post("/lists/{list_id}/order")
async def order_list(
    list_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    item_ids: Annotated[list[int], Form()],
) -> Response:
    """A new order for the whole list (dragging); names every entry once."""
    back = f"/lists/{list_id}"
    try:
        await limit_writes(runtime, request, caller.did)
        row = await lists.get_list(runtime, list_id)
        back = _list_path(row)
        await lists.reorder(runtime, list_id, caller.did, item_ids, caller.session.id)
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    return finish(request, "new order saved", back)


@router.post("/lists/{list_id}/delete")
async def delete_list(
    list_id: int, request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    try:
        row = await lists.get_list(runtime, list_id)
        await lists.delete_list(runtime, list_id, caller.did, caller.session.id)
    except ServiceError as exc:
        return finish(request, exc.message, f"/playlists/{list_id}", failed=True)
    tab = "albums" if row.list_type == ListType.album else "playlists"
    back = f"/library?tab={tab}"
    if is_htmx(request):
        response = finish(request, f"deleted {row.name}", back)
        response.headers["HX-Location"] = json.dumps(
            {"path": back, "target": "#main", "select": "#main"}
        )
        return response
    return finish(request, f"deleted {row.name}", back)


@router.post("/lists/{list_id}/cover")
async def upload_cover(
    list_id: int, request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    """New cover art (multipart `image`; the CSRF token rides in the query string)."""
    try:
        await limit_writes(runtime, request, caller.did)
        async with received_image(request, runtime.settings) as (picture, work):
            await lists.set_cover(runtime, list_id, caller.did, picture, work)
    except ServiceError as exc:
        return await _after_list_change(request, runtime, list_id, caller, exc.message, failed=True)
    return await _after_list_change(request, runtime, list_id, caller, "new cover saved")


# --- tags, library, liked pages ----------------------------------------------------------


@router.get("/tags", response_class=HTMLResponse)
async def find_tag(q: Annotated[str, Query(max_length=50)] = "") -> Response:
    """The 404 page's little search: a tag name → its page."""
    name = q.strip().lstrip("#").strip()
    if not name:
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(f"/tags/{name}", status_code=303)


@router.get("/tags/{name}", response_class=HTMLResponse)
async def tag_page(
    name: str, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> HTMLResponse:
    key = name.strip().casefold()
    tracks = await tags.tracks_tagged(runtime, key, limit=TAG_PAGE_TRACKS)
    return render(
        request,
        "tag.html",
        {
            "title": f"#{key}",
            "tag": key,
            "tracks": tracks,
            **await row_extras(runtime, tracks, caller),
        },
    )


LIBRARY_TABS = ("liked", "playlists", "albums")


@router.get("/library", response_class=HTMLResponse)
async def library(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    tab: Annotated[str, Query(max_length=16)] = "liked",
) -> HTMLResponse:
    liked = await likes.liked_tracks(runtime, caller.did)
    return render(
        request,
        "library.html",
        {
            "title": "library",
            "tab": tab if tab in LIBRARY_TABS else "liked",
            "tabs": LIBRARY_TABS,
            "tracks": liked,
            "playlists": await lists.lists_of(runtime, caller.did, ListType.playlist),
            "albums": await lists.lists_of(runtime, caller.did, ListType.album),
            "show_liked": await likes.liked_page_visible(runtime, caller.did),
            **await row_extras(runtime, liked, caller),
        },
    )


@router.get("/liked/{handle}", response_class=HTMLResponse)
async def liked_page(
    handle: str, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> HTMLResponse:
    artist = await service.find_artist(runtime, handle)
    own = caller is not None and caller.did == artist.did
    public = await likes.liked_page_visible(runtime, artist.did)
    if not own and not public:
        raise ServiceError(404, "not_found", f"@{artist.handle} keeps their liked tracks private")
    tracks = await likes.liked_tracks(runtime, artist.did)
    return render(
        request,
        "liked.html",
        {
            "title": f"liked by @{artist.handle}",
            "artist": artist,
            "tracks": tracks,
            "own": own,
            "public": public,
            **await row_extras(runtime, tracks, caller),
        },
    )


async def artist_social(runtime: Runtime, artist: Artist) -> dict[str, Any]:
    """What the artist page shows besides tracks (track_pages.artist_page calls this)."""
    shown = await likes.liked_page_visible(runtime, artist.did)
    return {
        "bio": await profiles.get_bio(runtime, artist.did),
        "albums": await lists.lists_of(runtime, artist.did, ListType.album),
        "playlists": await lists.lists_of(runtime, artist.did, ListType.playlist),
        "liked_shown": shown,
        "liked_tracks": (await likes.liked_tracks(runtime, artist.did))[:10] if shown else [],
    }


# --- the hidden-tags filter on the home page -----------------------------------------------


@router.post("/preferences/hidden-tags")
async def change_hidden_tags(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    tag: Annotated[str, Form(max_length=50)] = "",
    op: Annotated[str, Form(pattern="^(hide|show)$")] = "hide",
) -> Response:
    name = tag.strip().lstrip("#").strip().casefold()
    back = "/#tag-filter"
    if not name:
        return finish(request, "name a tag first", back, failed=True)
    hidden = await hidden_tags_for(runtime, caller)
    if op == "hide" and name not in hidden:
        if len(hidden) >= MAX_HIDDEN_TAGS:
            return finish(request, f"hide at most {MAX_HIDDEN_TAGS} tags", back, failed=True)
        hidden.append(name)
    elif op == "show":
        hidden = [h for h in hidden if h != name]
    try:
        await preferences.update_preferences(runtime, caller.did, {"hidden_tags": hidden})
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    message = f"hiding #{name}" if op == "hide" else f"showing #{name}"
    if is_htmx(request):
        # The home page again (its list depends on the filter): htmx swaps #main.
        from plyr.web.pages import home_page  # local: pages imports this module

        return finish(request, message, back, partial=await home_page(request, runtime, caller))
    return finish(request, message, back)

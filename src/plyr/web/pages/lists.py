"""Album, playlist and liked-list pages, and the forms that change a list: rename, remove an
entry, move one (↑ ↓), a new order (dragging), delete, cover art."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plyr.artists import get_artist
from plyr.db.models import ListType, MusicList
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social import lists
from plyr.tracks.catalogue import listed_artist
from plyr.web.pages.common import clock, finish, is_htmx, row_extras
from plyr.web.shared.caller import BrowserDep, Caller, CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.form_stream import received_image
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.params import FormId, FormIds, PathId
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)


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
    artist = await get_artist(runtime, row.did)
    if artist is not None:  # a hidden account's lists are gone with it (451)
        viewer, admin = viewer_of(runtime, caller)
        listed_artist(artist, viewer, admin=admin)
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
    list_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
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
    list_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
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
    list_id: PathId,
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
    list_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    item_id: FormId,
) -> Response:
    try:
        await limit_writes(runtime, request, caller.did)
        await lists.remove_item(runtime, list_id, caller.did, item_id, caller.session.id)
    except ServiceError as exc:
        return await _after_list_change(request, runtime, list_id, caller, exc.message, failed=True)
    return await _after_list_change(request, runtime, list_id, caller, "removed from the list")


@router.post("/lists/{list_id}/move")
async def move_in_list(
    list_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    item_id: FormId,
    by: Annotated[int, Form(ge=-1, le=1)],
) -> Response:
    """The ↑ ↓ buttons: move one entry by one place."""
    try:
        await limit_writes(runtime, request, caller.did)
        await lists.move_item(runtime, list_id, caller.did, item_id, by, caller.session.id)
    except ServiceError as exc:
        return await _after_list_change(request, runtime, list_id, caller, exc.message, failed=True)
    return await _after_list_change(
        request, runtime, list_id, caller, "moved up" if by < 0 else "moved down"
    )


@router.post("/lists/{list_id}/order")
async def order_list(
    list_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    item_ids: FormIds,
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
    list_id: PathId, request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
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
    list_id: PathId, request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    """New cover art (multipart `image`; the CSRF token rides in the query string)."""
    try:
        await limit_writes(runtime, request, caller.did)
        async with received_image(request, runtime.settings) as (picture, work):
            await lists.set_cover(runtime, list_id, caller.did, picture, work)
    except ServiceError as exc:
        return await _after_list_change(request, runtime, list_id, caller, exc.message, failed=True)
    return await _after_list_change(request, runtime, list_id, caller, "new cover saved")

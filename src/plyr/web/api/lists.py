"""Albums, playlists and liked lists over the JSON API: read, create, rename, delete, add and
remove entries, reorder, cover art. Thin over `plyr.social.lists`; responses carry the
list's `record_state` and `uri` like the other records."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from plyr.artists import find_artist
from plyr.db.models import ListType, MusicList
from plyr.runtime import Runtime
from plyr.social import likes, lists
from plyr.social.lists import MAX_ITEMS
from plyr.tracks.catalogue import listed_artist
from plyr.web.api.bounds import SLACK
from plyr.web.shared.caller import Caller, CallerDep, CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import ApiError, error_responses
from plyr.web.shared.examples import ENTRY, LIST, with_examples
from plyr.web.shared.form_stream import IMAGE_FORM, received_image
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.params import BodyId, PathId
from plyr.web.shared.views import TrackSummary, record_uri, track_summary

router = APIRouter(tags=["social"])


class ListOut(BaseModel):
    model_config = with_examples(LIST)

    id: int
    did: str
    type: ListType
    name: str | None
    item_count: int
    image_url: str | None
    thumbnail_url: str | None
    created_at: str
    updated_at: str
    record_state: str
    record_error: str | None
    uri: str


class EntryOut(BaseModel):
    model_config = with_examples(ENTRY)

    item_id: int
    position: int
    subject_uri: str
    track: TrackSummary | None  # None for a record plyr does not index


class ListDetail(ListOut):
    model_config = with_examples({**LIST, "entries": [ENTRY]})

    entries: list[EntryOut]


def list_out(runtime: Runtime, row: MusicList, item_count: int) -> ListOut:
    cover = f"{runtime.settings.public_url}/lists/{row.id}/cover"
    return ListOut(
        id=row.id,
        did=row.did,
        type=row.list_type,
        name=row.name,
        item_count=item_count,
        image_url=cover if row.image_key else None,
        thumbnail_url=f"{cover}/thumb" if row.thumbnail_key else None,
        created_at=row.created_at.isoformat(),
        updated_at=row.updated_at.isoformat(),
        record_state=row.record_state.value,
        record_error=row.record_error,
        uri=record_uri(runtime, "list", row),
    )


async def list_detail(runtime: Runtime, list_id: int, caller: Caller | None) -> ListDetail:
    viewer, admin = viewer_of(runtime, caller)
    row = await lists.visible_list(runtime, list_id, viewer, admin=admin)
    own = caller is not None and caller.did == row.did
    found = await lists.entries(runtime, list_id, published_only=not own)
    return ListDetail(
        **list_out(runtime, row, len(found)).model_dump(),
        entries=[
            EntryOut(
                item_id=entry.item_id,
                position=entry.position,
                subject_uri=entry.subject_uri,
                track=track_summary(runtime, entry.track) if entry.track else None,
            )
            for entry in found
        ],
    )


@router.get(
    "/api/lists",
    responses=error_responses(
        401,
        404,
        422,
        451,
        described={
            401: "no `did` given and not signed in (or a bad token)",
            451: "an operator hid this account",
        },
    ),
)
async def user_lists(
    runtime: RuntimeDep,
    caller: OptionalCaller,
    did: Annotated[str | None, Query(description="a DID or handle; yours when left out")] = None,
    type: Annotated[ListType | None, Query()] = None,
) -> list[ListOut]:
    """A user's lists, newest first."""
    viewer, admin = viewer_of(runtime, caller)
    if did is not None:  # a hidden account's lists: 451, as its profile answers
        owner = listed_artist(await find_artist(runtime, did), viewer, admin=admin).did
    elif caller is not None:
        owner = caller.did
    else:
        raise ApiError(401, "sign_in_required", "name a user (did=…) or sign in")
    found = await lists.lists_of(runtime, owner, type)
    return [
        list_out(runtime, row, count)
        for row, count in found
        if await likes.may_see_list(runtime, row, viewer)
    ]


class ListIn(BaseModel):
    model_config = with_examples(
        {"type": "playlist", "name": "late night", "track_ids": [42]},
        {"type": "album", "name": "tide tables"},
    )

    type: Literal["album", "playlist"]
    name: Annotated[str, Field(max_length=lists.MAX_NAME * SLACK)]
    track_ids: Annotated[list[BodyId], Field(max_length=MAX_ITEMS)] = []


class ListRename(BaseModel):
    model_config = with_examples({"name": "later night"})

    name: Annotated[str, Field(max_length=lists.MAX_NAME * SLACK)]


class ItemIn(BaseModel):
    model_config = with_examples({"track_id": 42})

    track_id: BodyId


class OrderIn(BaseModel):
    model_config = with_examples({"item_ids": [16, 15, 17]})

    item_ids: Annotated[list[BodyId], Field(max_length=MAX_ITEMS)]


@router.post(
    "/api/lists",
    status_code=201,
    responses=error_responses(
        400,
        401,
        403,
        404,
        409,
        422,
        429,
        451,
        described={
            403: "an album holds its artist's own tracks, or a CSRF failure",
            409: "you already have an album by that name",
        },
    ),
)
async def create_list(
    body: ListIn, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> ListDetail:
    """A new album (your own tracks) or playlist (anyone's), optionally with tracks."""
    await limit_writes(runtime, request, caller.did)
    row = await lists.create_list(
        runtime,
        caller.did,
        ListType(body.type),
        body.name,
        session_id=caller.session.id,
        track_ids=body.track_ids,
    )
    return await list_detail(runtime, row.id, caller)


@router.get("/api/lists/{list_id}", responses=error_responses(401, 404, 422, 451))
async def get_list(list_id: PathId, runtime: RuntimeDep, caller: OptionalCaller) -> ListDetail:
    """A list with its entries in order (451 when an operator hid its owner's account)."""
    return await list_detail(runtime, list_id, caller)


@router.patch(
    "/api/lists/{list_id}",
    responses=error_responses(
        400, 401, 403, 404, 409, 422, 429, described={409: "you already have an album by that name"}
    ),
)
async def rename_list(
    list_id: PathId,
    body: ListRename,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> ListDetail:
    """Rename a list you own (an album's tracks take the new name too)."""
    await limit_writes(runtime, request, caller.did)
    await lists.rename_list(runtime, list_id, caller.did, body.name, caller.session.id)
    return await list_detail(runtime, list_id, caller)


@router.delete(
    "/api/lists/{list_id}", status_code=204, responses=error_responses(401, 403, 404, 422, 429)
)
async def delete_list(
    list_id: PathId, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> Response:
    """Delete a list you own: here at once; its record and unused cover files by jobs."""
    await limit_writes(runtime, request, caller.did)
    await lists.delete_list(runtime, list_id, caller.did, caller.session.id)
    return Response(status_code=204)


@router.post(
    "/api/lists/{list_id}/items",
    status_code=201,
    responses=error_responses(
        400,
        401,
        403,
        404,
        409,
        422,
        429,
        451,
        described={409: "the track is already on this album"},
    ),
)
async def add_item(
    list_id: PathId,
    body: ItemIn,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> ListDetail:
    """Add a track at the end of a list you own."""
    await limit_writes(runtime, request, caller.did)
    await lists.add_track(runtime, list_id, caller.did, body.track_id, caller.session.id)
    return await list_detail(runtime, list_id, caller)


@router.delete(
    "/api/lists/{list_id}/items/{item_id}", responses=error_responses(401, 403, 404, 422, 429)
)
async def remove_item(
    list_id: PathId,
    item_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> ListDetail:
    """Take one entry off a list you own."""
    await limit_writes(runtime, request, caller.did)
    await lists.remove_item(runtime, list_id, caller.did, item_id, caller.session.id)
    return await list_detail(runtime, list_id, caller)


@router.put(
    "/api/lists/{list_id}/order",
    responses=error_responses(
        400, 401, 403, 404, 409, 422, 429, described={409: "the list changed since you read it"}
    ),
)
async def reorder_list(
    list_id: PathId,
    body: OrderIn,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> ListDetail:
    """Put the entries in this order. Name every entry once: 409 when the list changed
    since you read it (reload and try again)."""
    await limit_writes(runtime, request, caller.did)
    await lists.reorder(runtime, list_id, caller.did, body.item_ids, caller.session.id)
    return await list_detail(runtime, list_id, caller)


@router.post(
    "/api/lists/{list_id}/cover",
    responses=error_responses(400, 401, 403, 404, 413, 415, 422, 429),
    openapi_extra=IMAGE_FORM,
)
async def set_list_cover(
    list_id: PathId, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> ListDetail:
    """New cover art (`image`, multipart) for a list you own."""
    await limit_writes(runtime, request, caller.did)
    row = await lists.get_list(runtime, list_id)
    if row.did != caller.did:  # before reading the body
        raise ApiError(403, "forbidden", "only its owner can change this list")
    async with received_image(request, runtime.settings) as (picture, work):
        await lists.set_cover(runtime, list_id, caller.did, picture, work)
    return await list_detail(runtime, list_id, caller)

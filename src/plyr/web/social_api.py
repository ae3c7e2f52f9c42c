"""Likes, comments, lists (albums, playlists, liked) and profiles over HTTP.

Thin handlers over `plyr.social`: the services check input and ownership and commit each
change with the job that takes it to the owner's PDS. Responses carry `record_state`
(pending → published, or failed) and the record's `uri` (known before it is written: the
record key is chosen up front), so clients can show "publishing" until the PDS has it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from plyr.db.models import Artist, Comment, ListType, MusicList, Profile, SyncedRecord, Track
from plyr.runtime import Runtime
from plyr.social import comments, likes, lists, profiles
from plyr.social.comments import MAX_TEXT
from plyr.social.lists import MAX_ITEMS
from plyr.social.profiles import MAX_BIO
from plyr.social.repair import repair_records
from plyr.social.tags import tag_counts
from plyr.tracks import service as tracks
from plyr.tracks.records import audio_url, image_url
from plyr.web.auth import Caller, CallerDep, CsrfDep, OptionalCaller
from plyr.web.deps import RuntimeDep
from plyr.web.errors import ApiError
from plyr.web.form_stream import received_image
from plyr.web.limits import limit_writes
from plyr.web.streaming import serve_object
from plyr.web.tracks_api import playable_track

router = APIRouter(tags=["social"])

# Far above what the services accept (they answer with the precise limit), low enough
# that nobody can make us hold a huge string.
SLACK = 4


# --- shared shapes -----------------------------------------------------------------------


class Person(BaseModel):
    did: str
    handle: str
    display_name: str | None
    avatar_url: str | None


def person(artist: Artist) -> Person:
    return Person(
        did=artist.did,
        handle=artist.handle,
        display_name=artist.display_name,
        avatar_url=artist.avatar_url,
    )


class TrackSummary(BaseModel):
    id: int
    title: str
    artist: str
    artist_did: str
    duration: int | None
    audio_url: str
    thumbnail_url: str | None
    uri: str | None
    cid: str | None


def track_summary(runtime: Runtime, track: Track) -> TrackSummary:
    settings = runtime.settings
    return TrackSummary(
        id=track.id,
        title=track.title,
        artist=track.artist_name,
        artist_did=track.artist_did,
        duration=track.duration_seconds,
        audio_url=audio_url(settings, track.id),
        thumbnail_url=f"{image_url(settings, track.id)}/thumb" if track.thumbnail_key else None,
        uri=track.atproto_uri,
        cid=track.atproto_cid,
    )


def record_uri(runtime: Runtime, kind: str, row: SyncedRecord) -> str:
    """Where the record is (or will be): its key is chosen before it is written."""
    return row.atproto_uri or f"at://{row.did}/{runtime.lexicons.collection(kind)}/{row.rkey}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --- likes -------------------------------------------------------------------------------


class LikeOut(BaseModel):
    track_id: int
    liked: bool
    likes: int
    record_state: str | None  # None after unliking: the record's deletion is under way
    uri: str | None


async def _like_count(runtime: Runtime, track_id: int) -> int:
    return (await likes.like_counts(runtime, [track_id])).get(track_id, 0)


@router.post("/api/tracks/{track_id}/like")
async def like_track(
    track_id: int, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
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


@router.delete("/api/tracks/{track_id}/like")
async def unlike_track(
    track_id: int, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
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


@router.get("/api/tracks/{track_id}/likers")
async def track_likers(
    track_id: int,
    runtime: RuntimeDep,
    caller: OptionalCaller,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[Person]:
    """Who liked the track, most recent first."""
    await playable_track(runtime, track_id, caller)
    return [person(artist) for artist in await likes.likers(runtime, track_id, limit)]


class SocialSummary(BaseModel):
    track_id: int
    likes: int
    liked: bool
    comments: int
    comments_allowed: bool


async def _comment_count(runtime: Runtime, track_id: int) -> int:
    async with runtime.sessions() as db:
        found = await db.scalar(select(func.count(Comment.id)).where(Comment.track_id == track_id))
        return int(found or 0)


@router.get("/api/tracks/{track_id}/social")
async def track_social(track_id: int, runtime: RuntimeDep, caller: OptionalCaller) -> SocialSummary:
    """Counts for a track page, and whether the caller liked it."""
    track = await playable_track(runtime, track_id, caller)
    liked = await likes.is_liked(runtime, caller.did if caller else None, [track_id])
    return SocialSummary(
        track_id=track_id,
        likes=await _like_count(runtime, track_id),
        liked=track_id in liked,
        comments=await _comment_count(runtime, track_id),
        comments_allowed=await comments.comments_allowed(runtime, track.artist_did),
    )


# --- comments ----------------------------------------------------------------------------


class CommentOut(BaseModel):
    id: int
    track_id: int
    author: Person | None
    text: str
    timestamp_ms: int
    created_at: str
    updated_at: str | None
    record_state: str
    record_error: str | None
    uri: str


def comment_out(runtime: Runtime, row: Comment, author: Artist | None) -> CommentOut:
    return CommentOut(
        id=row.id,
        track_id=row.track_id,
        author=person(author) if author else None,
        text=row.text,
        timestamp_ms=row.timestamp_ms,
        created_at=row.created_at.isoformat(),
        updated_at=_iso(row.updated_at),
        record_state=row.record_state.value,
        record_error=row.record_error,
        uri=record_uri(runtime, "comment", row),
    )


async def _artist(runtime: Runtime, did: str) -> Artist | None:
    async with runtime.sessions() as db:
        return await db.get(Artist, did)


class CommentIn(BaseModel):
    text: Annotated[str, Field(max_length=MAX_TEXT * SLACK)]
    timestamp_ms: Annotated[int, Field(ge=0)] = 0


class CommentEdit(BaseModel):
    text: Annotated[str, Field(max_length=MAX_TEXT * SLACK)]


@router.get("/api/tracks/{track_id}/comments")
async def track_comments(
    track_id: int, runtime: RuntimeDep, caller: OptionalCaller
) -> list[CommentOut]:
    """The track's comments in playback order (by `timestamp_ms`)."""
    await playable_track(runtime, track_id, caller)
    return [
        comment_out(runtime, row, row.author)
        for row in await comments.comments_on(runtime, track_id)
    ]


@router.post("/api/tracks/{track_id}/comments", status_code=201)
async def add_comment(
    track_id: int,
    body: CommentIn,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> CommentOut:
    """Comment at a position of the track (1 to 1000 characters)."""
    await limit_writes(runtime, request, caller.did)
    row = await comments.add_comment(
        runtime, caller.did, track_id, body.text, body.timestamp_ms, caller.session.id
    )
    return comment_out(runtime, row, await _artist(runtime, caller.did))


@router.patch("/api/comments/{comment_id}")
async def edit_comment(
    comment_id: int,
    body: CommentEdit,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> CommentOut:
    """Change the text of your comment; its record is rewritten under the same key."""
    await limit_writes(runtime, request, caller.did)
    row = await comments.edit_comment(runtime, comment_id, caller.did, body.text, caller.session.id)
    return comment_out(runtime, row, await _artist(runtime, caller.did))


@router.delete("/api/comments/{comment_id}", status_code=204)
async def delete_comment(
    comment_id: int, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> Response:
    """Delete your comment, here at once and from your PDS by a job."""
    await limit_writes(runtime, request, caller.did)
    await comments.delete_comment(runtime, comment_id, caller.did, caller.session.id)
    return Response(status_code=204)


# --- lists -------------------------------------------------------------------------------


class ListOut(BaseModel):
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
    item_id: int
    position: int
    subject_uri: str
    track: TrackSummary | None  # None for a record plyr does not index


class ListDetail(ListOut):
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


async def _may_see(runtime: Runtime, row: MusicList, caller: Caller | None) -> bool:
    """A liked list is private unless its owner shows their liked tracks."""
    if row.list_type != ListType.liked or (caller is not None and caller.did == row.did):
        return True
    return await likes.liked_page_visible(runtime, row.did)


async def list_detail(runtime: Runtime, list_id: int, caller: Caller | None) -> ListDetail:
    row = await lists.get_list(runtime, list_id)
    if not await _may_see(runtime, row, caller):
        raise ApiError(404, "not_found", "no such list")
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


@router.get("/api/lists")
async def user_lists(
    runtime: RuntimeDep,
    caller: OptionalCaller,
    did: Annotated[str | None, Query(description="a DID or handle; yours when left out")] = None,
    type: Annotated[ListType | None, Query()] = None,
) -> list[ListOut]:
    """A user's lists, newest first."""
    if did is not None:
        owner = (await tracks.find_artist(runtime, did)).did
    elif caller is not None:
        owner = caller.did
    else:
        raise ApiError(401, "sign_in_required", "name a user (did=…) or sign in")
    found = await lists.lists_of(runtime, owner, type)
    return [
        list_out(runtime, row, count)
        for row, count in found
        if await _may_see(runtime, row, caller)
    ]


class ListIn(BaseModel):
    type: Literal["album", "playlist"]
    name: Annotated[str, Field(max_length=lists.MAX_NAME * SLACK)]
    track_ids: Annotated[list[int], Field(max_length=MAX_ITEMS)] = []


class ListRename(BaseModel):
    name: Annotated[str, Field(max_length=lists.MAX_NAME * SLACK)]


class ItemIn(BaseModel):
    track_id: int


class OrderIn(BaseModel):
    item_ids: Annotated[list[int], Field(max_length=MAX_ITEMS)]


@router.post("/api/lists", status_code=201)
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


@router.get("/api/lists/{list_id}")
async def get_list(list_id: int, runtime: RuntimeDep, caller: OptionalCaller) -> ListDetail:
    """A list with its entries in order."""
    return await list_detail(runtime, list_id, caller)


@router.patch("/api/lists/{list_id}")
async def rename_list(
    list_id: int,
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


@router.delete("/api/lists/{list_id}", status_code=204)
async def delete_list(
    list_id: int, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> Response:
    """Delete a list you own: here at once; its record and unused cover files by jobs."""
    await limit_writes(runtime, request, caller.did)
    await lists.delete_list(runtime, list_id, caller.did, caller.session.id)
    return Response(status_code=204)


@router.post("/api/lists/{list_id}/items", status_code=201)
async def add_item(
    list_id: int,
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


@router.delete("/api/lists/{list_id}/items/{item_id}")
async def remove_item(
    list_id: int,
    item_id: int,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> ListDetail:
    """Take one entry off a list you own."""
    await limit_writes(runtime, request, caller.did)
    await lists.remove_item(runtime, list_id, caller.did, item_id, caller.session.id)
    return await list_detail(runtime, list_id, caller)


@router.put("/api/lists/{list_id}/order")
async def reorder_list(
    list_id: int,
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


@router.post("/api/lists/{list_id}/cover")
async def set_list_cover(
    list_id: int, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> ListDetail:
    """New cover art (`image`, multipart) for a list you own."""
    await limit_writes(runtime, request, caller.did)
    row = await lists.get_list(runtime, list_id)
    if row.did != caller.did:  # before reading the body
        raise ApiError(403, "forbidden", "only its owner can change this list")
    async with received_image(request, runtime.settings) as (picture, work):
        await lists.set_cover(runtime, list_id, caller.did, picture, work)
    return await list_detail(runtime, list_id, caller)


@router.get("/lists/{list_id}/cover", include_in_schema=False)
@router.get("/lists/{list_id}/cover/thumb", include_in_schema=False)
async def list_cover(list_id: int, request: Request, runtime: RuntimeDep) -> Response:
    row = await lists.get_list(runtime, list_id)
    thumb = request.url.path.endswith("/thumb")
    key = row.thumbnail_key if thumb else row.image_key
    if key is None:
        raise ApiError(404, "not_found", "this list has no cover")
    content_type = "image/webp" if thumb or key.endswith(".webp") else "image/jpeg"
    return await serve_object(request, runtime.storage, key, content_type=content_type)


# --- profiles and liked tracks -----------------------------------------------------------


class ProfileOut(Person):
    bio: str | None
    record_state: str | None  # None: no plyr profile record yet
    uri: str | None


def profile_out(runtime: Runtime, artist: Artist, row: Profile | None) -> ProfileOut:
    return ProfileOut(
        **person(artist).model_dump(),
        bio=row.bio if row else None,
        record_state=row.record_state.value if row else None,
        uri=record_uri(runtime, "actor.profile", row) if row else None,
    )


class ProfileIn(BaseModel):
    bio: Annotated[str | None, Field(max_length=MAX_BIO * SLACK)] = None


@router.get("/api/profile/{handle_or_did}")
async def get_profile(handle_or_did: str, runtime: RuntimeDep) -> ProfileOut:
    """A user's bio, display name and avatar."""
    artist = await tracks.find_artist(runtime, handle_or_did)
    return profile_out(runtime, artist, await profiles.get_profile(runtime, artist.did))


@router.put("/api/profile")
async def set_profile(
    body: ProfileIn, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> ProfileOut:
    """Set your bio (empty clears it); written to your PDS as the `self` profile record."""
    await limit_writes(runtime, request, caller.did)
    row = await profiles.set_bio(runtime, caller.did, body.bio, caller.session.id)
    artist = await tracks.find_artist(runtime, caller.did)
    return profile_out(runtime, artist, row)


class LikedOut(BaseModel):
    user: Person
    tracks: list[TrackSummary]


@router.get("/api/users/{handle}/liked")
async def liked_tracks(handle: str, runtime: RuntimeDep, caller: OptionalCaller) -> LikedOut:
    """A user's liked tracks, when they show them (you always see your own)."""
    artist = await tracks.find_artist(runtime, handle)
    own = caller is not None and caller.did == artist.did
    if not own and not await likes.liked_page_visible(runtime, artist.did):
        raise ApiError(404, "liked_private", f"@{artist.handle} keeps their liked tracks private")
    found = await likes.liked_tracks(runtime, artist.did)
    return LikedOut(user=person(artist), tracks=[track_summary(runtime, t) for t in found])


class RepairOut(BaseModel):
    checked: int
    missing: int
    failed: int


@router.post("/api/records/repair")
async def repair(
    request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> RepairOut:
    """Read back every record plyr indexes for you; republish (same key) what your PDS lost
    and what failed to publish. 503 when your PDS cannot be read (nothing changes)."""
    await limit_writes(runtime, request, caller.did)
    counts = await repair_records(runtime, caller.did, caller.session.id)
    return RepairOut(**counts)


class TagCount(BaseModel):
    name: str
    tracks: int


@router.get("/api/tags")
async def tags(
    runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[TagCount]:
    """Tags in use and how many published tracks carry each, most used first."""
    counted = await tag_counts(runtime, limit=limit)
    return [TagCount(name=name, tracks=count) for name, count in counted]

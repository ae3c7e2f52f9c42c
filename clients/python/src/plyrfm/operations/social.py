"""Likes, comments, lists (playlists and albums) and tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from plyrfm.effects import Operation
from plyrfm.exchange import Context, call, call_many, call_no_answer, require_token
from plyrfm.models import (
    Comment,
    CommentEdit,
    CommentIn,
    ItemIn,
    LikedTracks,
    LikeState,
    ListDetail,
    ListIn,
    ListRename,
    ListSummary,
    TagCount,
)
from plyrfm.operations.paging import track_pages
from plyrfm.routes import ROUTES


def like(ctx: Context, track_id: int, liked: bool) -> Operation[LikeState]:
    route = ROUTES["like" if liked else "unlike"]
    return (yield from call(ctx, route, LikeState, path={"track_id": track_id}))


def likes(ctx: Context, page_size: int) -> Operation[None]:
    return (yield from track_pages(ctx, ROUTES["likes"], page_size))


def liked_by(ctx: Context, handle: str) -> Operation[LikedTracks]:
    path = {"handle": handle.removeprefix("@")}
    return (yield from call(ctx, ROUTES["liked_by"], LikedTracks, path=path))


def comments(ctx: Context, track_id: int) -> Operation[list[Comment]]:
    path = {"track_id": track_id}
    return (yield from call_many(ctx, ROUTES["comments"], Comment, path=path))


def comment(ctx: Context, track_id: int, text: str, at_ms: int) -> Operation[Comment]:
    body = CommentIn(text=text, timestamp_ms=at_ms)
    path = {"track_id": track_id}
    return (yield from call(ctx, ROUTES["comment"], Comment, path=path, json_body=body))


def edit_comment(ctx: Context, comment_id: int, text: str) -> Operation[Comment]:
    path = {"comment_id": comment_id}
    body = CommentEdit(text=text)
    return (yield from call(ctx, ROUTES["edit_comment"], Comment, path=path, json_body=body))


def delete_comment(ctx: Context, comment_id: int) -> Operation[None]:
    yield from call_no_answer(ctx, ROUTES["delete_comment"], path={"comment_id": comment_id})


def lists(
    ctx: Context, owner: str | None, kind: Literal["playlist", "album"] | None
) -> Operation[list[ListSummary]]:
    if owner is None:
        require_token(ctx, "listing your own lists")
    params = {"did": owner.removeprefix("@") if owner else None, "type": kind}
    return (yield from call_many(ctx, ROUTES["lists"], ListSummary, params=params))


def get_list(ctx: Context, list_id: int) -> Operation[ListDetail]:
    return (yield from call(ctx, ROUTES["get_list"], ListDetail, path={"list_id": list_id}))


def create_list(
    ctx: Context, kind: Literal["playlist", "album"], name: str, track_ids: Sequence[int]
) -> Operation[ListDetail]:
    body = ListIn(type=kind, name=name, track_ids=list(track_ids))
    return (yield from call(ctx, ROUTES["create_list"], ListDetail, json_body=body))


def rename_list(ctx: Context, list_id: int, name: str) -> Operation[ListDetail]:
    path = {"list_id": list_id}
    body = ListRename(name=name)
    return (yield from call(ctx, ROUTES["rename_list"], ListDetail, path=path, json_body=body))


def delete_list(ctx: Context, list_id: int) -> Operation[None]:
    yield from call_no_answer(ctx, ROUTES["delete_list"], path={"list_id": list_id})


def add_to_list(ctx: Context, list_id: int, track_id: int) -> Operation[ListDetail]:
    path = {"list_id": list_id}
    body = ItemIn(track_id=track_id)
    return (yield from call(ctx, ROUTES["add_to_list"], ListDetail, path=path, json_body=body))


def remove_from_list(ctx: Context, list_id: int, item_id: int) -> Operation[ListDetail]:
    path = {"list_id": list_id, "item_id": item_id}
    return (yield from call(ctx, ROUTES["remove_from_list"], ListDetail, path=path))


def tags(ctx: Context, limit: int) -> Operation[list[TagCount]]:
    params = {"limit": limit}
    return (yield from call_many(ctx, ROUTES["tags"], TagCount, params=params))

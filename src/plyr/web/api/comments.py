"""Timed comments over the JSON API: a track's comments in playback order, and adding,
editing and deleting your own. Thin over `plyr.social.comments`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from plyr.artists import get_artist
from plyr.db.models import Artist, Comment
from plyr.runtime import Runtime
from plyr.social import comments
from plyr.social.comments import MAX_TEXT
from plyr.tracks.catalogue import playable_track
from plyr.web.api.bounds import SLACK
from plyr.web.shared.caller import CallerDep, CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import ALICE, LATER, PERSON, with_examples
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.params import Count, PathId
from plyr.web.shared.views import Person, person, record_uri

router = APIRouter(tags=["social"])


class CommentOut(BaseModel):
    model_config = with_examples(
        {
            "id": 301,
            "track_id": 42,
            "author": PERSON,
            "text": "the gulls at 1:02 🕊",
            "timestamp_ms": 62000,
            "created_at": LATER,
            "updated_at": None,
            "record_state": "published",
            "record_error": None,
            "uri": f"at://{ALICE}/fm.plyr.comment/3lbx2s4kcu52d",
        }
    )

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


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


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


class CommentIn(BaseModel):
    model_config = with_examples({"text": "the gulls at 1:02 🕊", "timestamp_ms": 62000})

    text: Annotated[str, Field(max_length=MAX_TEXT * SLACK)]
    timestamp_ms: Count = 0


class CommentEdit(BaseModel):
    model_config = with_examples({"text": "the gulls at 1:02, and again at 2:40"})

    text: Annotated[str, Field(max_length=MAX_TEXT * SLACK)]


@router.get("/api/tracks/{track_id}/comments", responses=error_responses(401, 404, 422, 451))
async def track_comments(
    track_id: PathId, runtime: RuntimeDep, caller: OptionalCaller
) -> list[CommentOut]:
    """The track's comments in playback order (by `timestamp_ms`)."""
    await playable_track(runtime, track_id, caller.did if caller else None)
    return [
        comment_out(runtime, row, row.author)
        for row in await comments.comments_on(runtime, track_id)
    ]


@router.post(
    "/api/tracks/{track_id}/comments",
    status_code=201,
    responses=error_responses(
        400,
        401,
        403,
        404,
        422,
        429,
        451,
        described={403: "the artist turned comments off, or a CSRF failure"},
    ),
)
async def add_comment(
    track_id: PathId,
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
    return comment_out(runtime, row, await get_artist(runtime, caller.did))


@router.patch("/api/comments/{comment_id}", responses=error_responses(400, 401, 403, 404, 422, 429))
async def edit_comment(
    comment_id: PathId,
    body: CommentEdit,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> CommentOut:
    """Change the text of your comment; its record is rewritten under the same key."""
    await limit_writes(runtime, request, caller.did)
    row = await comments.edit_comment(runtime, comment_id, caller.did, body.text, caller.session.id)
    return comment_out(runtime, row, await get_artist(runtime, caller.did))


@router.delete(
    "/api/comments/{comment_id}",
    status_code=204,
    responses=error_responses(401, 403, 404, 422, 429),
)
async def delete_comment(
    comment_id: PathId, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> Response:
    """Delete your comment, here at once and from your PDS by a job."""
    await limit_writes(runtime, request, caller.did)
    await comments.delete_comment(runtime, comment_id, caller.did, caller.session.id)
    return Response(status_code=204)

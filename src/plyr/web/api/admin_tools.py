"""The operators' takedown tools over the API (`PLYR_ADMIN_DIDS` only, CSRF on every call):
take a track down or restore it, hide an account or show it again, delete a track for good.
Thin over `plyr.moderation.takedown` and `plyr.moderation.admin`, like `plyr admin …`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from plyr.db.models import Artist, Track
from plyr.moderation import admin as admin_tools
from plyr.moderation import takedown
from plyr.web.api.admin import NOT_ADMIN, AdminDep
from plyr.web.shared.caller import CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import with_examples
from plyr.web.shared.params import PathId

router = APIRouter(prefix="/api/admin", tags=["admin"])

AccountRef = Annotated[
    str, Path(min_length=1, max_length=2048, description="the account's DID or handle")
]
CONFLICT = {409: "already in that state (taken down / restored, hidden / shown)"}


class ReasonIn(BaseModel):
    model_config = with_examples({"reason": "a valid DMCA notice from lighthouse records"})

    reason: str = Field(min_length=1, max_length=takedown.MAX_REASON)


class TakedownOut(BaseModel):
    track_id: int
    taken_down: bool
    reason: str | None
    uri: str | None

    @classmethod
    def of(cls, track: Track) -> TakedownOut:
        return cls(
            track_id=track.id,
            taken_down=track.taken_down_at is not None,
            reason=track.takedown_reason,
            uri=track.atproto_uri,
        )


class AccountOut(BaseModel):
    did: str
    handle: str
    hidden: bool
    reason: str | None

    @classmethod
    def of(cls, artist: Artist) -> AccountOut:
        return cls(
            did=artist.did,
            handle=artist.handle,
            hidden=artist.hidden_at is not None,
            reason=artist.hidden_reason,
        )


class DeletionOut(BaseModel):
    track_id: int
    title: str
    artist_did: str
    dry_run: bool
    uri: str | None
    rows: dict[str, int]
    files_deleted: list[str]
    files_kept: list[str]
    record: str = Field(description="deleted | remains (no session of the artist) | none")
    record_note: str


@router.delete(
    "/tracks/{track_id}",
    responses=error_responses(401, 403, 404, 422, described=NOT_ADMIN),
)
async def delete_track(
    track_id: PathId,
    runtime: RuntimeDep,
    admin: AdminDep,
    _csrf: CsrfDep,
    dry_run: Annotated[bool, Query(description="report what would go; change nothing")] = False,
) -> DeletionOut:
    """Delete a track for good: rows, unused files, and its record where plyr holds the
    artist's session (otherwise `record` is `remains` and `record_note` says where)."""
    report = await admin_tools.delete_track(
        runtime, str(track_id), actor=admin.did, dry_run=dry_run
    )
    return DeletionOut(**report.as_dict())


@router.post(
    "/tracks/{track_id}/takedown",
    responses=error_responses(400, 401, 403, 404, 409, 422, described={**NOT_ADMIN, **CONFLICT}),
)
async def take_down_track(
    track_id: PathId, body: ReasonIn, runtime: RuntimeDep, admin: AdminDep, _csrf: CsrfDep
) -> TakedownOut:
    """Take a track down: gone from listings, search and queues; its audio answers 451."""
    track = await takedown.take_down_track(runtime, track_id, reason=body.reason, actor=admin.did)
    return TakedownOut.of(track)


@router.post(
    "/tracks/{track_id}/restore",
    responses=error_responses(401, 403, 404, 409, 422, described={**NOT_ADMIN, **CONFLICT}),
)
async def restore_track(
    track_id: PathId, runtime: RuntimeDep, admin: AdminDep, _csrf: CsrfDep
) -> TakedownOut:
    """Reverse a takedown; its labels are negated."""
    return TakedownOut.of(await takedown.restore_track(runtime, track_id, actor=admin.did))


@router.post(
    "/accounts/{account}/hide",
    responses=error_responses(400, 401, 403, 404, 409, 422, described={**NOT_ADMIN, **CONFLICT}),
)
async def hide_account(
    account: AccountRef, body: ReasonIn, runtime: RuntimeDep, admin: AdminDep, _csrf: CsrfDep
) -> AccountOut:
    """Hide all of an account's content from public views (its records stay in its PDS)."""
    artist = await takedown.hide_account(runtime, account, reason=body.reason, actor=admin.did)
    return AccountOut.of(artist)


@router.post(
    "/accounts/{account}/unhide",
    responses=error_responses(401, 403, 404, 409, 422, described={**NOT_ADMIN, **CONFLICT}),
)
async def unhide_account(
    account: AccountRef, runtime: RuntimeDep, admin: AdminDep, _csrf: CsrfDep
) -> AccountOut:
    """Show a hidden account's content again."""
    return AccountOut.of(await takedown.unhide_account(runtime, account, actor=admin.did))

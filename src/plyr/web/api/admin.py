"""The operators' API: flagging sensitive artwork. Only DIDs in `PLYR_ADMIN_DIDS`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from plyr.moderation import sensitive_labels
from plyr.social import sensitive
from plyr.web.shared.caller import Caller, CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import ApiError, error_responses
from plyr.web.shared.examples import with_examples
from plyr.web.shared.operators import is_operator

router = APIRouter(prefix="/api/admin", tags=["admin"])
# 403: signed in, but not one of the operators.
NOT_ADMIN = {403: "only the operators of this plyr (`PLYR_ADMIN_DIDS`), or a CSRF failure"}


async def require_admin(runtime: RuntimeDep, caller: CallerDep) -> Caller:
    if not is_operator(runtime.settings, caller.did):
        raise ApiError(403, "not_admin", "only the operators of this plyr can do this")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


class FlaggedImageOut(BaseModel):
    id: int
    image_key: str | None
    url: str | None
    reason: str | None
    flagged_by: str | None
    created_at: str

    @classmethod
    def of(cls, row: sensitive.FlaggedImage) -> FlaggedImageOut:
        return cls(
            id=row.id,
            image_key=row.image_key,
            url=row.url,
            reason=row.reason,
            flagged_by=row.flagged_by,
            created_at=row.created_at.isoformat(),
        )


class FlagIn(BaseModel):
    model_config = with_examples({"image": "https://plyr.example/images/42", "reason": "gore"})

    image: str = Field(
        min_length=1,
        max_length=2048,
        description="a stored key (a track's image_key), plyr's /images/{id} URL, or an "
        "external image URL",
    )
    reason: str | None = Field(default=None, max_length=1000)


@router.get("/sensitive-images", responses=error_responses(401, 403, described=NOT_ADMIN))
async def list_sensitive_images(runtime: RuntimeDep, _admin: AdminDep) -> list[FlaggedImageOut]:
    """Every flagged image, newest first."""
    return [FlaggedImageOut.of(row) for row in await sensitive.list_flagged(runtime)]


@router.post(
    "/sensitive-images",
    status_code=201,
    responses=error_responses(400, 401, 403, 404, 422, described=NOT_ADMIN),
)
async def flag_sensitive_image(
    runtime: RuntimeDep, admin: AdminDep, _csrf: CsrfDep, body: FlagIn
) -> FlaggedImageOut:
    """Flag artwork: blurred for viewers who have not opted in, left out of link previews."""
    row = await sensitive_labels.flag_image(runtime, body.image, body.reason, by=admin.did)
    return FlaggedImageOut.of(row)


@router.delete(
    "/sensitive-images",
    status_code=204,
    responses=error_responses(401, 403, 404, 422, described=NOT_ADMIN),
)
async def unflag_sensitive_image(
    runtime: RuntimeDep,
    admin: AdminDep,
    _csrf: CsrfDep,
    image: Annotated[str, Query(min_length=1, max_length=2048)],
) -> None:
    """Clear a flag (`?image=` as it was flagged)."""
    if not await sensitive_labels.unflag_image(runtime, image, by=admin.did):
        raise ApiError(404, "not_found", "that image is not flagged")

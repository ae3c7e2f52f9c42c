"""The copyright review over the JSON API: the flags queue, decisions (bulk), the audit log and
the reference catalogue for operators (`PLYR_ADMIN_DIDS`); an artist's own flags and the one
appeal they may make."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from plyr.db.models import FalsePositiveReason, FlagStatus
from plyr.moderation import audit, flags, references, scanning
from plyr.web.api.admin import NOT_ADMIN, AdminDep
from plyr.web.shared.caller import CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import ApiError, error_responses
from plyr.web.shared.examples import ARTIST_FLAG, ARTIST_TRACK, with_examples
from plyr.web.shared.form_stream import BINARY, multipart_body, receive_form
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.params import MAX_COUNT, MAX_ID, BodyId, PathId

router = APIRouter(tags=["moderation"])
ADMIN = "/api/admin/moderation"
# Fingerprint files are text; audio files share the upload limit.
_TEXT = {"type": "string", "maxLength": references.MAX_TEXT}


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TrackBriefOut(_Out):
    id: int
    title: str
    artist_did: str
    artist_handle: str | None
    artist_name: str
    duration_seconds: int | None
    taken_down: bool
    takedown_reason: str | None
    atproto_uri: str | None


class WorkBriefOut(_Out):
    id: int
    title: str
    artist: str
    rights_holder: str | None
    source: str | None
    has_audio: bool
    duration_seconds: float


class FlagOut(_Out):
    id: int
    status: FlagStatus
    score: int
    ranges: list[dict[str, Any]]
    engine: str
    track: TrackBriefOut
    matched_work: WorkBriefOut | None
    matched_track: TrackBriefOut | None
    reason: FalsePositiveReason | None
    note: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    appeal_text: str | None
    appealed_at: datetime | None
    created_at: datetime


class ArtistTrackOut(_Out):
    model_config = with_examples(ARTIST_TRACK)

    id: int
    title: str
    duration_seconds: int | None
    taken_down: bool
    takedown_reason: str | None


class ArtistFlagOut(_Out):
    """A flag as the artist of the flagged track sees it: their track, what it matched (title,
    artist, a work's rights holder) and their appeal; nothing of the operators or of the
    other account."""

    model_config = with_examples(ARTIST_FLAG)

    id: int
    status: FlagStatus
    score: int
    ranges: list[dict[str, Any]]
    track: ArtistTrackOut
    matched_title: str | None
    matched_artist: str | None
    matched_rights_holder: str | None
    appeal_text: str | None
    appealed_at: datetime | None
    created_at: datetime


class FlagPage(BaseModel):
    flags: list[FlagOut]
    total: int
    offset: int
    limit: int


def _out(view: flags.FlagView) -> FlagOut:
    return FlagOut.model_validate(view)


Ids = Annotated[list[BodyId], Field(min_length=1, max_length=flags.MAX_BULK)]


class ResolveIn(BaseModel):
    model_config = with_examples(
        {
            "ids": [9],
            "decision": "false_positive",
            "reason": "original_artist",
            "note": "the uploader is the band",
        }
    )

    ids: Ids
    decision: Literal["violation", "false_positive"]
    reason: FalsePositiveReason | None = Field(
        default=None, description="needed for a false positive"
    )
    note: str | None = Field(default=None, max_length=flags.MAX_NOTE)


class ReopenIn(BaseModel):
    model_config = with_examples({"ids": [9], "note": "decided too fast"})

    ids: Ids
    note: str | None = Field(default=None, max_length=flags.MAX_NOTE)


class AppealIn(BaseModel):
    model_config = with_examples(
        {"text": "i wrote and recorded this; the matched song samples my 2019 release"}
    )

    text: str = Field(min_length=1, max_length=flags.MAX_APPEAL)


class AuditEntryOut(_Out):
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


class WorkOut(_Out):
    id: int
    title: str
    artist: str
    rights_holder: str | None
    source: str | None
    duration_seconds: float
    engine: str
    has_audio: bool
    created_by: str | None
    created_at: datetime

    @classmethod
    def of(cls, work: references.WorkInfo) -> WorkOut:
        return cls(
            id=work.id,
            title=work.title,
            artist=work.artist,
            rights_holder=work.rights_holder,
            source=work.source,
            duration_seconds=work.duration_seconds,
            engine=work.engine,
            has_audio=work.audio_key is not None,
            created_by=work.created_by,
            created_at=work.created_at,
        )


class WorkPage(BaseModel):
    works: list[WorkOut]
    total: int


class BackfillOut(BaseModel):
    job_id: int
    queued: bool = Field(description="false: a backfill was already waiting (this is it)")


Score = Annotated[int, Query(ge=0, le=100)]


@router.get(f"{ADMIN}/flags", responses=error_responses(401, 403, 422, described=NOT_ADMIN))
async def list_flags(
    runtime: RuntimeDep,
    _admin: AdminDep,
    status: Literal["open", "violation", "false_positive", "all"] = "open",
    min_score: Score = 0,
    max_score: Score = 100,
    sort: Literal["-score", "score", "-created", "created"] = "-score",
    offset: Annotated[int, Query(ge=0, le=MAX_COUNT)] = 0,
    limit: Annotated[int, Query(ge=1, le=flags.MAX_PAGE)] = 50,
) -> FlagPage:
    """Flags by status (`all`: every status), within a score range, sorted."""
    page, total = await flags.list_flags(
        runtime,
        status=None if status == "all" else FlagStatus(status),
        min_score=min_score,
        max_score=max_score,
        sort=sort,
        offset=offset,
        limit=limit,
    )
    return FlagPage(flags=[_out(v) for v in page], total=total, offset=offset, limit=limit)


@router.get(
    f"{ADMIN}/flags/{{flag_id}}", responses=error_responses(401, 403, 404, 422, described=NOT_ADMIN)
)
async def get_flag(runtime: RuntimeDep, _admin: AdminDep, flag_id: PathId) -> FlagOut:
    """One flag: the track, what it matched, the decision and the appeal."""
    return _out(await flags.get_flag(runtime, flag_id))


@router.post(
    f"{ADMIN}/flags/resolve",
    responses=error_responses(400, 401, 403, 404, 422, described=NOT_ADMIN),
)
async def resolve_flags(
    runtime: RuntimeDep, admin: AdminDep, _csrf: CsrfDep, body: ResolveIn
) -> list[FlagOut]:
    """Decide flags: a violation takes the track down; a false positive needs a reason. All
    or nothing: an unknown id changes nothing (404)."""
    views = await flags.resolve(
        runtime,
        body.ids,
        decision=body.decision,
        reason=body.reason,
        note=body.note,
        actor=admin.did,
    )
    return [_out(v) for v in views]


@router.post(
    f"{ADMIN}/flags/reopen",
    responses=error_responses(400, 401, 403, 404, 422, described=NOT_ADMIN),
)
async def reopen_flags(
    runtime: RuntimeDep, admin: AdminDep, _csrf: CsrfDep, body: ReopenIn
) -> list[FlagOut]:
    """Return decided flags to the queue; a violation's track is restored."""
    views = await flags.reopen(runtime, body.ids, actor=admin.did, note=body.note)
    return [_out(v) for v in views]


@router.get(f"{ADMIN}/audit", responses=error_responses(401, 403, 422, described=NOT_ADMIN))
async def audit_log(
    runtime: RuntimeDep,
    _admin: AdminDep,
    subject: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_EVENTS)] = 100,
) -> list[AuditEntryOut]:
    """Who decided what and when, newest first (`subject`: "flag:12", "track:34")."""
    rows = await audit.entries(runtime, subject=subject, before=before, limit=limit)
    return [AuditEntryOut.model_validate(row) for row in rows]


@router.get(f"{ADMIN}/references", responses=error_responses(401, 403, 422, described=NOT_ADMIN))
async def list_references(
    runtime: RuntimeDep,
    _admin: AdminDep,
    offset: Annotated[int, Query(ge=0, le=MAX_COUNT)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> WorkPage:
    """The reference works flags are matched against, newest first, `limit` at a time."""
    works, total = await references.list_works(runtime, offset=offset, limit=limit)
    return WorkPage(works=[WorkOut.of(w) for w in works], total=total)


@router.get(
    f"{ADMIN}/references/{{work_id}}",
    responses=error_responses(401, 403, 404, 422, described=NOT_ADMIN),
)
async def get_reference(runtime: RuntimeDep, _admin: AdminDep, work_id: PathId) -> WorkOut:
    """One reference work."""
    return WorkOut.of(await references.get_work(runtime, work_id))


REFERENCE_FORM = multipart_body(
    {
        "file": {**BINARY, "description": "an audio file, or a fingerprint file fpcalc wrote"},
        "title": {**_TEXT, "description": "default: the file's tags, then its name"},
        "artist": {**_TEXT, "description": "default: the file's tags"},
        "rights_holder": _TEXT,
    },
    ["file"],
)


@router.post(
    f"{ADMIN}/references",
    status_code=201,
    responses=error_responses(400, 401, 403, 413, 415, 422, described=NOT_ADMIN),
    openapi_extra=REFERENCE_FORM,
)
async def import_reference(
    request: Request, runtime: RuntimeDep, admin: AdminDep, _csrf: CsrfDep
) -> list[WorkOut]:
    """Import known works from one file (multipart `file`, `title`, `artist`,
    `rights_holder`); what is already on plyr is scanned against them."""
    settings = runtime.settings
    form = await receive_form(
        request, settings.data_dir / "tmp", {"file": settings.max_upload_bytes}
    )
    try:
        received = form.files.get("file")
        if received is None or received.size == 0:
            raise ApiError(422, "invalid_input", "choose an audio or fingerprint file")
        works = await references.import_file(
            runtime,
            received.path,
            filename=received.filename,
            title=form.value("title") or None,
            artist=form.value("artist") or None,
            rights_holder=form.value("rights_holder") or None,
            actor=admin.did,
        )
    finally:
        form.cleanup()
    return [WorkOut.of(w) for w in works]


@router.delete(
    f"{ADMIN}/references/{{work_id}}",
    status_code=204,
    responses=error_responses(401, 403, 404, 422, described=NOT_ADMIN),
)
async def delete_reference(
    runtime: RuntimeDep, admin: AdminDep, _csrf: CsrfDep, work_id: PathId
) -> None:
    """Delete a reference work and the flags it opened."""
    await references.delete_work(runtime, work_id, actor=admin.did)


@router.post(
    f"{ADMIN}/backfill",
    status_code=202,
    responses=error_responses(400, 401, 403, described=NOT_ADMIN),
)
async def backfill(runtime: RuntimeDep, admin: AdminDep, _csrf: CsrfDep) -> BackfillOut:
    """Scan every published track that has no fingerprint yet: enqueues the backfill job
    (it enqueues the scans) and returns at once."""
    job_id, queued = await scanning.request_backfill(runtime, actor=admin.did)
    return BackfillOut(job_id=job_id, queued=queued)


@router.get("/api/me/flags", responses=error_responses(401))
async def my_flags(runtime: RuntimeDep, caller: CallerDep) -> list[ArtistFlagOut]:
    """Your tracks under review or taken down, newest first, and why."""
    views = await flags.artist_flags(runtime, caller.did)
    return [ArtistFlagOut.model_validate(v) for v in views]


@router.post(
    "/api/me/flags/{flag_id}/appeal",
    responses=error_responses(
        400,
        401,
        403,
        404,
        409,
        422,
        429,
        described={
            403: "a CSRF failure",
            404: "no such flag on your tracks",
            409: "appealed already, or nothing to appeal",
        },
    ),
)
async def appeal_flag(
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
    flag_id: PathId,
    body: AppealIn,
) -> ArtistFlagOut:
    """Reply once to a flag on your track: it returns to the operators' queue."""
    await limit_writes(runtime, request, caller.did)
    view = await flags.appeal(runtime, flag_id, did=caller.did, text=body.text)
    return ArtistFlagOut.model_validate(view)

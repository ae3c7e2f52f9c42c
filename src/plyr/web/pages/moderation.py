"""The operators' review pages (`PLYR_ADMIN_DIDS` only): the queue of flags a fingerprint match
opened, filtered and sorted by score, decided one by one or in bulk; one flag with both
recordings side by side at the matched offsets; and the audit log of every decision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from plyr.db.models import FalsePositiveReason, FlagStatus
from plyr.errors import ServiceError
from plyr.moderation import audit, flags, review
from plyr.web.pages.common import clock, finish, safe_back
from plyr.web.shared.caller import CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.operators import OperatorDep
from plyr.web.shared.params import MAX_ID, PathId
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)

QUEUE = "/admin/moderation"
PAGE_SIZE = 25
AUDIT_PAGE = 50
STATUSES: dict[str, FlagStatus | None] = {
    "open": FlagStatus.open,
    "violation": FlagStatus.violation,
    "false_positive": FlagStatus.false_positive,
    "all": None,
}
STATUS_LABELS = {"open": "open", "violation": "violation", "false_positive": "false positive"}
REASON_LABELS = {
    FalsePositiveReason.fingerprint_noise.value: "fingerprint noise",
    FalsePositiveReason.original_artist.value: "original artist",
    FalsePositiveReason.fair_use.value: "fair use",
    FalsePositiveReason.other.value: "other",
}
SORT_LABELS = {
    "-score": "score, highest first",
    "score": "score, lowest first",
    "-created": "newest first",
    "created": "oldest first",
}
StatusName = Literal["open", "violation", "false_positive", "all"]
SortName = Literal["-score", "score", "-created", "created"]
ReasonName = Literal["", "fingerprint_noise", "original_artist", "fair_use", "other"]
# None ticked is not a malformed request: the flags service says "name at least one flag".
FlagIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Form(default_factory=list)]
Note = Annotated[str, Form(max_length=flags.MAX_NOTE)]
Back = Annotated[str, Form(max_length=2000)]


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """A short age ("5 min", "3 h", "2 d") for the queue's age column."""
    if when is None:
        return ""
    if when.tzinfo is None:  # SQLite hands back naive UTC
        when = when.replace(tzinfo=UTC)
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return "just now" if seconds < 10 else f"{seconds} s"


def stamp(when: datetime | None, *, seconds: bool = False) -> str:
    """A UTC time for the audit log and the decisions ("2026-12-05 21:48 utc")."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime(
        "%Y-%m-%d %H:%M:%S utc" if seconds else "%Y-%m-%d %H:%M utc"
    )


def helpers() -> dict[str, Any]:
    """What the moderation templates call."""
    return {
        "ago": ago,
        "stamp": stamp,
        "clock": lambda seconds: clock(round(seconds or 0)),
        "reason_labels": REASON_LABELS,
        "status_labels": STATUS_LABELS,
    }


def _back(value: str) -> str:
    back = safe_back(value, QUEUE)
    return back if back.startswith(QUEUE) else QUEUE


@router.get("/admin/moderation", response_class=HTMLResponse)
async def queue(
    request: Request,
    runtime: RuntimeDep,
    _operator: OperatorDep,
    status: StatusName = "open",
    min_score: Annotated[int, Query(ge=0, le=100)] = 0,
    max_score: Annotated[int, Query(ge=0, le=100)] = 100,
    sort: SortName = "-score",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The flags, filtered by status and score, sorted, a page at a time."""
    found, total = await flags.list_flags(
        runtime,
        status=STATUSES[status],
        min_score=min_score,
        max_score=max_score,
        sort=sort,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    filters = {"status": status, "min_score": min_score, "max_score": max_score, "sort": sort}

    def page_url(number: int) -> str:
        return f"{QUEUE}?{urlencode(filters | {'page': number})}"

    pages = max(1, -(-total // PAGE_SIZE))
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(
        request,
        "moderation_queue.html",
        {
            "title": "moderation",
            "flags": found,
            "total": total,
            "filters": filters,
            "page": page,
            "pages": pages,
            "prev_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if page < pages else None,
            "sort_labels": SORT_LABELS,
            "statuses": ["open", "violation", "false_positive", "all"],
            "here": here,
            **helpers(),
        },
    )


@router.get("/admin/moderation/flags/{flag_id}", response_class=HTMLResponse)
async def flag_page(
    flag_id: PathId, request: Request, runtime: RuntimeDep, _operator: OperatorDep
) -> HTMLResponse:
    """One flag: both recordings side by side, the appeal, the decision, its audit entries."""
    flag = await flags.get_flag(runtime, flag_id)
    events = await audit.entries(runtime, subject=f"flag:{flag_id}", limit=100)
    names = await review.handles_of(
        runtime,
        [e.actor for e in events] + ([flag.resolved_by] if flag.resolved_by else []),
    )
    if flag.matched_work is not None:
        matched_audio = (
            f"/media/admin/references/{flag.matched_work.id}/audio"
            if flag.matched_work.has_audio
            else None
        )
    elif flag.matched_track is not None:
        matched_audio = f"/media/admin/tracks/{flag.matched_track.id}/audio"
    else:
        matched_audio = None
    return render(
        request,
        "moderation_flag.html",
        {
            "title": f"flag {flag.id}",
            "flag": flag,
            "events": events,
            "names": names,
            "flagged_audio": f"/media/admin/tracks/{flag.track.id}/audio",
            "matched_audio": matched_audio,
            "first": flag.ranges[0] if flag.ranges else None,
            "here": f"{QUEUE}/flags/{flag.id}",
            **helpers(),
        },
    )


@router.post("/admin/moderation/resolve")
async def resolve(
    request: Request,
    runtime: RuntimeDep,
    operator: OperatorDep,
    _csrf: CsrfDep,
    decision: Annotated[Literal["violation", "false_positive"], Form()],
    flag: FlagIds,
    reason: Annotated[ReasonName, Form()] = "",
    note: Note = "",
    back: Back = QUEUE,
) -> Response:
    """Decide the chosen flags: a violation takes their tracks down; a false positive needs a
    reason. All or nothing: a bad id or a missing reason changes nothing."""
    back = _back(back)
    try:
        done = await flags.resolve(
            runtime,
            flag,
            decision=decision,
            reason=FalsePositiveReason(reason) if reason else None,
            note=note,
            actor=operator.did,
        )
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    what = "violation (taken down)" if decision == "violation" else "false positive"
    count = f"{len(done)} flags" if len(done) != 1 else f"flag {done[0].id}"
    return finish(request, f"{count} marked {what}", back)


@router.post("/admin/moderation/reopen")
async def reopen(
    request: Request,
    runtime: RuntimeDep,
    operator: OperatorDep,
    _csrf: CsrfDep,
    flag: FlagIds,
    note: Note = "",
    back: Back = QUEUE,
) -> Response:
    """Return decided flags to the queue (a violation's track comes back)."""
    back = _back(back)
    try:
        done = await flags.reopen(runtime, flag, actor=operator.did, note=note)
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    count = f"{len(done)} flags" if len(done) != 1 else f"flag {done[0].id}"
    return finish(request, f"{count} back in the queue", back)


@router.get("/admin/moderation/audit", response_class=HTMLResponse)
async def audit_log(
    request: Request,
    runtime: RuntimeDep,
    _operator: OperatorDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """Every decision, newest first; `before` (an entry id) pages back in time."""
    events = await audit.entries(runtime, before=before, limit=AUDIT_PAGE + 1)
    more = len(events) > AUDIT_PAGE
    events = events[:AUDIT_PAGE]
    return render(
        request,
        "moderation_audit.html",
        {
            "title": "moderation audit log",
            "events": events,
            "names": await review.handles_of(runtime, [e.actor for e in events]),
            "older_url": f"{QUEUE}/audit?before={events[-1].id}" if more else None,
            "paged": before is not None,
            **helpers(),
        },
    )

"""`POST /api/records/repair`: read back every record plyr indexes for the caller and
republish what their PDS lost or what failed to publish."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from plyr.social.repair import repair_records
from plyr.web.shared.caller import CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import with_examples
from plyr.web.shared.limits import limit_writes

router = APIRouter(tags=["social"])


class RepairOut(BaseModel):
    model_config = with_examples({"checked": 58, "missing": 2, "failed": 1})

    checked: int
    missing: int
    failed: int


@router.post(
    "/api/records/repair",
    responses=error_responses(
        401, 403, 429, 503, described={503: "your PDS could not be read; nothing changed"}
    ),
)
async def repair(
    request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> RepairOut:
    """Read back every record plyr indexes for you; republish (same key) what your PDS lost
    and what failed to publish. 503 when your PDS cannot be read (nothing changes)."""
    await limit_writes(runtime, request, caller.did)
    counts = await repair_records(runtime, caller.did, caller.session.id)
    return RepairOut(**counts)

"""Who the operators are: the DIDs in `PLYR_ADMIN_DIDS`. `is_operator` is the one check;
the API's `require_admin`, the pages' `require_operator`, `viewer_of` (what moderation took
down stays visible to them, for review) and the header link of every page call it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from plyr.config import Settings
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.web.shared.caller import Caller, CallerDep
from plyr.web.shared.deps import RuntimeDep


def is_operator(settings: Settings, did: str | None) -> bool:
    return did is not None and did in settings.admin_dids


def viewer_of(runtime: Runtime, caller: Caller | None) -> tuple[str | None, bool]:
    """The caller's DID (None when signed out) and whether they are an operator (they
    still see what moderation took down, to review it)."""
    if caller is None:
        return None, False
    return caller.did, is_operator(runtime.settings, caller.did)


async def require_operator(runtime: RuntimeDep, caller: CallerDep) -> Caller:
    """Signed out: the sign-in redirect (pages) or 401; signed in but not an operator: 403."""
    if not is_operator(runtime.settings, caller.did):
        raise ServiceError(403, "not_admin", "only the operators of this plyr can see this page")
    return caller


OperatorDep = Annotated[Caller, Depends(require_operator)]

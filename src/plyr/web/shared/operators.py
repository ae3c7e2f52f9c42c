"""Who may review moderation flags: the operators named in `PLYR_ADMIN_DIDS`. Pages and the
media routes share this check (the JSON API has its own, with the API's error format)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.web.shared.caller import Caller, CallerDep
from plyr.web.shared.deps import RuntimeDep


def is_operator(runtime: Runtime, caller: Caller | None) -> bool:
    return caller is not None and caller.did in runtime.settings.admin_dids


async def require_operator(runtime: RuntimeDep, caller: CallerDep) -> Caller:
    """Signed out: the sign-in redirect (pages) or 401; signed in but not an operator: 403."""
    if not is_operator(runtime, caller):
        raise ServiceError(403, "not_admin", "only the operators of this plyr can see this page")
    return caller


OperatorDep = Annotated[Caller, Depends(require_operator)]

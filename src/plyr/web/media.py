"""`/media/{key}`: objects of the local storage backend, for the URLs it hands out.

A first, simple path (Starlette's FileResponse: ranges, no whole-file reads); the
streaming work replaces it with the fast path and proxy offload.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from plyr.storage.base import validate_key
from plyr.storage.local import LocalStorage
from plyr.web.deps import RuntimeDep

router = APIRouter(include_in_schema=False)

IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/media/{key:path}")
async def media(key: str, runtime: RuntimeDep) -> FileResponse:
    storage = runtime.storage
    if not isinstance(storage, LocalStorage):
        raise HTTPException(404)
    try:
        path = storage.path_for(validate_key(key))
    except ValueError:
        raise HTTPException(404) from None
    if not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, headers={"Cache-Control": IMMUTABLE})

"""The app under test: plyr's, configured by PLYR_* variables, plus a throwaway route
using Starlette's FileResponse (the path plyr had before `plyr.serving.serve`) to compare
with. uvicorn's workers import it as `support.stream.app:bench_app` (a factory)."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse

from plyr.config import Settings
from plyr.serving import file_response as served_file
from plyr.serving.serve import IMMUTABLE_CACHE
from plyr.web.app import create_app
from plyr.web.shared.deps import get_runtime


def bench_app() -> FastAPI:
    """plyr's app from PLYR_* variables, plus a FileResponse route to compare with."""
    inline_max = os.environ.get("PLYR_BENCH_INLINE_READ_MAX")
    if inline_max is not None:
        served_file.INLINE_READ_MAX = int(inline_max)
    app = create_app(Settings(_env_file=None), run_worker=False, run_ingest=False)

    async def file_response(key: str, request: Request) -> FileResponse:
        path = getattr(get_runtime(request).storage, "path_for")(key)  # noqa: B009
        return FileResponse(
            path,
            media_type="audio/mpeg",
            headers={"Cache-Control": IMMUTABLE_CACHE},
        )

    app.add_api_route("/_bench/fileresponse/{key:path}", file_response, methods=["GET"])
    # Ahead of every other route, whatever catch-alls the page routes have.
    app.router.routes.insert(0, app.router.routes.pop())
    return app

"""One backend's run: plyr's app served in-process by uvicorn on a loopback port (no
worker, no ingest), every read path measured against its bare query, then home RPS."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import uvicorn

from plyr.config import Settings
from plyr.db import migrate
from plyr.db.engine import create_engine
from plyr.listening import top as listening_top
from plyr.runtime import Runtime
from plyr.web.app import create_app
from support.loopback import free_port
from support.read_paths.bare import bare_queries
from support.read_paths.home_rps import HAVE_WRK, home_rps_httpx, home_rps_wrk
from support.read_paths.inputs import gather_inputs
from support.read_paths.measure import PathResult, StatementCounter, measure_path
from support.read_paths.pages import UNCACHED, note_hits, served, uncached, without_cache
from support.read_paths.report import summary


async def advance_play_windows(runtime: Runtime) -> None:
    """Move the top-tracks windows' edges on to now, as counting a play does once a minute
    (nobody plays here; a catalogue kept for days would otherwise be read days behind).
    A tree from before the windows (issue 19) has nothing to move."""
    try:
        from plyr.listening import windows
    except ImportError:
        return
    await windows.advance(runtime)


# Every path, in the order they run; `--paths` picks some.
PATHS = ("home", "track", "artist", *UNCACHED, "top", "top-day", "top-month", "search", "typing")
DEFAULT_PATHS = ("home", "track", "artist", *UNCACHED, "top", "search", "typing")


async def bench_backend(
    label: str,
    url: str,
    requests: int,
    rps_seconds: int,
    seed: int,
    only: tuple[str, ...] = DEFAULT_PATHS,
) -> tuple[list[PathResult], tuple[float, str] | None]:
    await migrate.upgrade_async(url)
    bare_engine = create_engine(url)
    inputs = await gather_inputs(bare_engine, requests, seed)
    bare = bare_queries(bare_engine, inputs)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="plyr-bench-") as folder:
        settings = Settings(
            database_url=url,
            data_dir=Path(folder),
            public_url=f"http://127.0.0.1:{port}",
            jobs_enabled=False,
            ingest_enabled=False,
        )
        app = create_app(settings, run_worker=False, run_ingest=False)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, lifespan="on", access_log=False
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        try:
            await advance_play_windows(app.state.runtime)
            counter = StatementCounter(app.state.runtime.engine)
            base = f"http://127.0.0.1:{port}"
            results = []

            def uncached_top(window: str) -> Callable[[int], str]:
                def url_for(i: int) -> str:
                    listening_top.clear_cache()  # the route keeps its answer 5 s: the query
                    return f"/api/tracks/top?window={window}"

                return url_for

            paths: dict[str, Callable[[int], str]] = {
                "home": served(app, lambda i: "/"),
                "track": served(app, lambda i: f"/tracks/{inputs.track_ids[i]}"),
                "artist": served(app, lambda i: f"/artists/{inputs.handles[i]}"),
                # the same pages rendered every time: the signed-out page cache emptied first
                "home-uncached": uncached(app, lambda i: "/"),
                "track-uncached": uncached(app, lambda i: f"/tracks/{inputs.track_ids[i]}"),
                "artist-uncached": uncached(app, lambda i: f"/artists/{inputs.handles[i]}"),
                "top": uncached_top("week"),
                "top-day": uncached_top("day"),
                "top-month": uncached_top("month"),
                "search": lambda i: f"/api/search?q={quote(inputs.queries[i])}",
                # Cmd+K: every prefix of a query as it is typed, 5 hits a group (search.js)
                "typing": lambda i: f"/api/search?q={quote(inputs.typed[i])}&limit=5",
            }
            async with httpx.AsyncClient(base_url=base, timeout=120) as client:
                for name in PATHS:
                    if name not in only:
                        continue
                    result = await measure_path(
                        client, counter, name, paths[name], bare[name], requests
                    )
                    note_hits(result, paths[name])
                    results.append(result)
                    print(f"  {label} {name}: {summary(result)}", flush=True)
            rps: tuple[float, str] | None = None
            if "home" in only and rps_seconds > 0:
                if HAVE_WRK:
                    rps = await home_rps_wrk(base, rps_seconds)
                else:
                    rps = await home_rps_httpx(base, rps_seconds)
                off = [r for r in results if r.name == "home-uncached"]
                if off:  # the same with every request rendered
                    run = home_rps_wrk if HAVE_WRK else home_rps_httpx
                    off[0].rps = await without_cache(app, lambda: run(base, rps_seconds))
        finally:
            server.should_exit = True
            await task
            await bare_engine.dispose()
    return results, rps

"""One backend's run: plyr's app served in-process by uvicorn on a loopback port (no
worker, no ingest), every read path measured against its bare query, then home RPS."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn

from plyr.config import Settings
from plyr.db import migrate
from plyr.db.engine import create_engine
from plyr.listening import top as listening_top
from plyr.web.app import create_app
from support.loopback import free_port
from support.read_paths.bare import bare_queries
from support.read_paths.home_rps import HAVE_WRK, home_rps_httpx, home_rps_wrk
from support.read_paths.inputs import gather_inputs
from support.read_paths.measure import PathResult, StatementCounter, measure_path
from support.read_paths.report import summary


async def bench_backend(
    label: str, url: str, requests: int, rps_seconds: int, seed: int
) -> tuple[list[PathResult], tuple[float, str]]:
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
            counter = StatementCounter(app.state.runtime.engine)
            base = f"http://127.0.0.1:{port}"
            results = []

            def uncached_top(i: int) -> str:
                listening_top.clear_cache()  # the route keeps its answer 5 s: measure the query
                return "/api/tracks/top?window=week"

            paths: list[tuple[str, Callable[[int], str]]] = [
                ("home", lambda i: "/"),
                ("track", lambda i: f"/tracks/{inputs.track_ids[i]}"),
                ("artist", lambda i: f"/artists/{inputs.handles[i]}"),
                ("top", uncached_top),
                ("search", lambda i: f"/api/search?q={inputs.queries[i]}"),
            ]
            async with httpx.AsyncClient(base_url=base, timeout=120) as client:
                for name, url_for in paths:
                    result = await measure_path(
                        client, counter, name, url_for, bare[name], requests
                    )
                    results.append(result)
                    print(f"  {label} {name}: {summary(result)}", flush=True)
            if HAVE_WRK:
                rps = await home_rps_wrk(base, rps_seconds)
            else:
                rps = await home_rps_httpx(base, rps_seconds)
        finally:
            server.should_exit = True
            await task
            await bare_engine.dispose()
    return results, rps

"""The processes whose memory the export bench measures, each fresh (`python
bench/export.py --child …`), as `plyr serve` / `plyr worker` start (glibc arenas capped):

- `job`: `build_export`, what the `export.build` job runs: the zip streamed into storage;
- `serve`: plyr's app under uvicorn; the bench's parent downloads `GET /api/me/export`,
  then says stop on stdin.

A thread reads VmRSS from /proc/self/status every 10 ms. The baseline is taken once the
process is warm (imports done, database open; for `serve`, the server listening), and the
figure is the highest sample after it. One JSON line on stdout reports it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from plyr.db.models import Export
from plyr.media.memory import limit_arenas
from plyr.runtime import Runtime
from support.export.library import DID, bench_settings


def vm_kb(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


class RssSampler:
    def __init__(self, every: float = 0.01) -> None:
        self.every = every
        self.baseline = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.baseline = self.peak = vm_kb()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, vm_kb())

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, vm_kb())
        return {"baseline_kb": self.baseline, "peak_kb": self.peak, "hwm_kb": vm_kb("VmHWM")}


async def _job(work: Path) -> dict[str, Any]:
    from plyr.export.jobs import build_export

    settings = bench_settings(work)
    runtime = Runtime.open(settings)
    export_id = str(uuid.uuid4())
    async with runtime.sessions() as db:
        db.add(Export(id=export_id, did=DID, status="queued", progress=0.0, files=0))
        await db.commit()
    sampler = RssSampler()
    sampler.start()
    started = time.perf_counter()
    result = await build_export(runtime, export_id)
    seconds = time.perf_counter() - started
    memory = sampler.stop()
    async with runtime.sessions() as db:
        row = await db.get(Export, export_id)
        assert row is not None
        key = row.object_key
    await runtime.close()
    assert result is not None
    path = settings.effective_storage_local_dir / str(key)
    return {"seconds": seconds, "bytes": result["size_bytes"], "zip": str(path), **memory}


async def _serve(work: Path, port: int) -> dict[str, Any]:
    import uvicorn

    from plyr.web.app import create_app

    settings = bench_settings(work, port)
    app = create_app(settings, run_worker=False, run_ingest=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    sampler = RssSampler()
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn's Server has a flag, not an event
        await asyncio.sleep(0.05)
    sampler.start()
    print(json.dumps({"ready": True}), flush=True)
    # Until the parent says stop on stdin (a SIGTERM would make uvicorn end the process
    # before the report is printed: it raises the signal again once it has shut down).
    await asyncio.to_thread(sys.stdin.readline)
    memory = sampler.stop()
    server.should_exit = True
    await serving
    return memory


def run_child(kind: str, work: Path, port: int) -> None:
    limit_arenas()  # as `plyr serve` and `plyr worker` start (plyr.media.memory)
    report = asyncio.run(_job(work) if kind == "job" else _serve(work, port))
    print(json.dumps(report), flush=True)

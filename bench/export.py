"""Memory and speed of exporting a large library (issue 16: peak RSS growth ≤ 64 MB).

Makes a library of `--gigabytes` of stored originals over `--tracks` tracks (random bytes
under audio keys, not decodable audio: an export copies bytes and never decodes them; see
support/export/library.py), then exports it twice, each in a fresh process whose resident
memory is sampled every 10 ms (support/export/measured.py):

- the job's path: `build_export`, what `export.build` runs, streaming the zip into local
  storage;
- the streamed endpoint: plyr's app under uvicorn, `GET /api/me/export` downloaded by this
  process (a separate one, so the client's memory is not counted) to a file.

Both zips are then opened with zipfile and every member's CRC checked (`--no-verify` skips
it), and each original's SHA-256 in the manifest is compared with its content key. Prints
the growth of resident memory over the warm process (peak - baseline) and the throughput.
The files sit in the page cache (they were just written), so the figures are the CPU and
memory cost of the export itself, not of a disk.

Usage: .venv/bin/python bench/export.py [--gigabytes 2] [--tracks 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

if (BENCH := str(Path(__file__).resolve().parent)) not in sys.path:
    sys.path.insert(0, BENCH)

import httpx

from plyr.auth.sessions import COOKIE_NAME
from plyr.db import migrate
from support.export.library import bench_settings, make_library
from support.export.measured import run_child
from support.loopback import free_port

TARGET_MB = 64


def _child(kind: str, work: Path, port: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--child", kind, "--work", str(work), "--port", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _last_json(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise SystemExit(f"the measured process ended without a report (exit {process.wait()})")
    return dict(json.loads(line))


def _verify(path: Path) -> tuple[int, int]:
    """Every member's CRC, and each original's SHA-256 against its content key."""
    with zipfile.ZipFile(path) as archive:
        if (bad := archive.testzip()) is not None:
            raise SystemExit(f"{path}: {bad} is damaged")
        manifest = json.loads(archive.read("manifest.json"))
        for track in manifest["tracks"]:
            if track["original"]["sha256"] != track["content_sha256"]:
                raise SystemExit(
                    f"{path}: {track['original']['file']} differs from what was stored"
                )
        return len(archive.namelist()), len(manifest["tracks"])


def _figures(name: str, seconds: float, size: int, memory: dict[str, Any]) -> str:
    growth = (memory["peak_kb"] - memory["baseline_kb"]) / 1024
    verdict = "ok" if growth <= TARGET_MB else f"OVER the {TARGET_MB} MB target"
    return (
        f"{name:<24} {size / 1e9:6.2f} GB in {seconds:6.1f} s = {size / 1e6 / seconds:7.1f} MB/s; "
        f"RSS {memory['baseline_kb'] / 1024:6.1f} → peak {memory['peak_kb'] / 1024:6.1f} MB, "
        f"growth {growth:5.1f} MB ({verdict})"
    )


async def _download(url: str, cookie: str, out: Path) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    client = httpx.AsyncClient(cookies={COOKIE_NAME: cookie}, timeout=120)
    async with client as http, http.stream("GET", url) as response:
        response.raise_for_status()
        with out.open("wb") as handle:
            async for chunk in response.aiter_raw():
                handle.write(chunk)
                size += len(chunk)
    return time.perf_counter() - started, size


async def main(args: argparse.Namespace, work: Path) -> None:
    try:
        settings = bench_settings(work)
        await migrate.upgrade_async(settings.effective_database_url)
        started = time.perf_counter()
        library = await make_library(
            settings,
            tracks=args.tracks,
            total_bytes=int(args.gigabytes * 1e9),
            dead_pds=f"http://127.0.0.1:{free_port()}",
        )
        print(
            f"library: {library.tracks} tracks, {library.audio_bytes / 1e9:.2f} GB of originals, "
            f"{library.artwork_bytes / 1e6:.1f} MB of artwork, made in "
            f"{time.perf_counter() - started:.1f} s"
        )

        job = _child("job", work)
        report = _last_json(job)
        job.wait()
        print(_figures("job (into storage)", report["seconds"], report["bytes"], report))
        job_zip = Path(report["zip"])

        port = free_port()
        server = _child("serve", work, port)
        assert _last_json(server)["ready"]
        streamed_zip = work / "streamed.zip"
        try:
            seconds, size = await _download(
                f"http://127.0.0.1:{port}/api/me/export", library.cookie, streamed_zip
            )
        finally:
            assert server.stdin is not None
            server.stdin.write("stop\n")
            server.stdin.flush()
        memory = _last_json(server)
        server.wait()
        print(_figures("GET /api/me/export", seconds, size, memory))

        if not args.no_verify:
            for path in (job_zip, streamed_zip):
                members, tracks = _verify(path)
                print(f"verified {path.name}: {members} members, {tracks} originals match")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--tracks", type=int, default=200)
    parser.add_argument("--keep", help="make (or keep) the library in this folder")
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--child", choices=["job", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    if arguments.child:
        run_child(arguments.child, Path(arguments.work), arguments.port)
    else:
        folder = Path(arguments.keep or tempfile.mkdtemp(prefix="plyr-export-bench-"))
        folder.mkdir(parents=True, exist_ok=True)
        asyncio.run(main(arguments, folder))

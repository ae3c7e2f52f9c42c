"""How fast plyr serves media files, next to nginx serving the same files.

Starts, on 127.0.0.1, with the files in a temp storage folder (all in the page cache):

- nginx serving the folder as static files (the yardstick);
- plyr's app (`create_app`, route `/media/{key}`) under uvicorn, 1 worker, serving the
  files itself; the same process also has a throwaway route using Starlette's FileResponse,
  the path plyr had before `plyr.serving.serve`;
- plyr with PLYR_MEDIA_OFFLOAD=x-accel-redirect behind nginx configured by docs/nginx.conf
  (TLS lines stripped), so nginx sends the bytes;
- plyr under uvicorn with 2 workers (unless --no-workers2);

then drives each with wrk (one thread, N connections) through four workloads, the ones
in shared/performance-facts.md:

- random 256 KB ranges of five files (req/s);
- the whole 8 MB file asked as `Range: bytes=0-`, as <audio> asks (MB/s);
- the first 64 KB (`bytes=0-65535`), with N connections and with one (p50 latency).

The pieces are in `support/stream/`.

Usage: .venv/bin/python bench/stream.py [--duration 6] [--connections 50] [--no-workers2]
Needs Debian's nginx and wrk (`apt-get install -y nginx-light wrk`). Ratios measured side
by side in one run are what to quote: absolute figures move with whatever else runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ is first on sys.path already; tests/test_streaming.py loads this
# file by its path (for nginx_server), and then `support` is found through this line.
if (BENCH := str(Path(__file__).resolve().parent)) not in sys.path:
    sys.path.insert(0, BENCH)

from support.stream.checks import check_offload, check_target
from support.stream.files import make_files
from support.stream.report import print_report
from support.stream.servers import nginx_server, uvicorn_server
from support.stream.wrk import WORKLOADS, Figures, lua_script, run_wrk

__all__ = ["main", "nginx_server"]  # nginx_server: for tests/test_streaming.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--no-workers2", action="store_true", help="skip uvicorn --workers 2")
    parser.add_argument(
        "--inline-read-max",
        type=int,
        default=None,
        help="override INLINE_READ_MAX of serving/file_response.py (0: reads in a thread)",
    )
    args = parser.parse_args()
    missing = [
        tool
        for tool in ("nginx", "wrk")
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists()
    ]
    if missing:
        raise SystemExit(
            f"missing {', '.join(missing)}: install with `apt-get install -y nginx-light wrk`"
        )
    if args.inline_read_max is not None:
        os.environ["PLYR_BENCH_INLINE_READ_MAX"] = str(args.inline_read_max)

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="plyr-bench-stream-"))
    work.chmod(0o755)  # nginx workers must reach the media folder
    try:
        media = work / "media"
        files = make_files(media)
        script = work / "bench.lua"
        script.write_text(lua_script(files))
        with contextlib.ExitStack() as stack:
            plain = stack.enter_context(uvicorn_server(work, media, "plain"))
            offload = stack.enter_context(
                uvicorn_server(work, media, "offload", offload="x-accel-redirect")
            )
            offload_port = int(offload.rsplit(":", 1)[1])
            static, proxy = stack.enter_context(nginx_server(work, media, offload_port))
            targets = [
                ("nginx static", static, "/media/"),
                ("plyr, uvicorn 1 worker", plain, "/media/"),
                ("FileResponse, uvicorn 1 worker", plain, "/_bench/fileresponse/"),
                ("plyr → nginx X-Accel, 1 worker", proxy, "/media/"),
            ]
            if not args.no_workers2:
                two = stack.enter_context(uvicorn_server(work, media, "two", workers=2))
                targets.append(("plyr, uvicorn 2 workers", two, "/media/"))
            for name, base, prefix in targets:
                check_target(name, base, prefix, files, media)
            notes = check_offload(proxy, files, media)

            results: dict[tuple[str, str], Figures] = {}
            for name, base, prefix in targets:
                for mode, _, _ in WORKLOADS:
                    connections = 1 if mode == "first1" else args.connections
                    wrk_mode = "first" if mode == "first1" else mode
                    results[(name, mode)] = run_wrk(
                        script, base, prefix, wrk_mode, connections, args.duration
                    )
                    time.sleep(0.3)
        print_report(targets, results, notes, args, time.monotonic() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

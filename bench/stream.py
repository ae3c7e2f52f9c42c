"""How fast plyr serves media files, next to nginx serving the same files.

Builds a small catalogue (1 000 tracks, `support.catalogue`) whose first tracks play the
bench's files and one of which is taken down, then starts, on 127.0.0.1, with the files in
a temp storage folder (all in the page cache):

- nginx serving the folder as static files (the yardstick);
- `plyr serve` under granian and under uvicorn (one process each, web only), serving the
  files itself: by key (`/media/{key}`) and by track (`/audio/{id}`, the URL players get);
- `plyr serve` (granian) with PLYR_MEDIA_OFFLOAD=x-accel-redirect behind nginx configured
  by docs/nginx.conf (TLS lines stripped): public media from plyr's public folder by nginx
  alone, `/audio/{id}` through plyr and X-Accel-Redirect;

then drives each with wrk (one thread, N connections) through four workloads, the ones
in shared/performance-facts.md, every target in turn, in rounds (medians printed):

- random 256 KB ranges of five files (req/s);
- the whole 8 MB file asked as `Range: bytes=0-`, as <audio> asks (MB/s);
- the first 64 KB (`bytes=0-65535`), with N connections and with one (p50 latency).

The pieces are in `support/stream/`.

Usage: .venv/bin/python bench/stream.py [--duration 4] [--rounds 3] [--connections 50]
Needs Debian's nginx and wrk (`apt-get install -y nginx-light wrk`). Ratios measured side
by side in one run are what to quote: absolute figures move with whatever else runs (the
load average is printed before and after).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ is first on sys.path already; tests/test_streaming.py loads this
# file by its path (for nginx_server), and then `support` is found through this line.
if (BENCH := str(Path(__file__).resolve().parent)) not in sys.path:
    sys.path.insert(0, BENCH)

from support.stream.catalogue import build_catalogue
from support.stream.checks import check_offload, check_target
from support.stream.files import make_files
from support.stream.report import Target, load_average, print_report
from support.stream.servers import nginx_server, plyr_server
from support.stream.wrk import WORKLOADS, Figures, lua_script, median_figures, run_wrk

__all__ = ["main", "nginx_server"]  # nginx_server: for tests/streaming


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="medians of this many runs")
    parser.add_argument("--connections", type=int, default=50)
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

    started, load_before = time.monotonic(), load_average()
    work = Path(tempfile.mkdtemp(prefix="plyr-bench-stream-"))
    work.chmod(0o755)  # nginx workers must reach the media folder
    try:
        media = work / "media"
        files = make_files(media)
        catalogue = build_catalogue(work / "data", media, files)
        script = work / "bench.lua"
        script.write_text(lua_script(files, catalogue.track_ids))
        with contextlib.ExitStack() as stack:

            def plyr(name: str, server: str, offload: str = "none") -> str:
                return stack.enter_context(
                    plyr_server(work, media, catalogue.url, name, server=server, offload=offload)
                )

            granian, uvicorn = plyr("granian", "granian"), plyr("uvicorn", "uvicorn")
            offload = plyr("offload", "granian", "x-accel-redirect")
            offload_port = int(offload.rsplit(":", 1)[1])
            public = work / "data" / "public-media"
            static, proxy = stack.enter_context(nginx_server(work, media, offload_port, public))
            targets: list[Target] = [
                ("nginx static", static, "media"),
                ("plyr serve, granian: /media/{key}", granian, "media"),
                ("plyr serve, granian: /audio/{id}", granian, "audio"),
                ("plyr serve, uvicorn: /media/{key}", uvicorn, "media"),
                ("plyr serve, uvicorn: /audio/{id}", uvicorn, "audio"),
                ("nginx + plyr offload: /media/{key}", proxy, "media"),
                ("nginx + plyr offload: /audio/{id}", proxy, "audio"),
            ]
            for name, base, route in targets:
                check_target(name, base, route, files, catalogue, media)
            notes = check_offload(proxy, offload, files, catalogue, media)

            # Rounds of every target in turn, medians kept: a load that comes and goes
            # (others' work on the machine) then falls on all targets alike.
            runs: dict[tuple[str, str], list[Figures]] = {}
            for _ in range(args.rounds):
                for mode, _, _ in WORKLOADS:
                    connections = 1 if mode == "first1" else args.connections
                    wrk_mode = "first" if mode == "first1" else mode
                    for name, base, route in targets:
                        runs.setdefault((name, mode), []).append(
                            run_wrk(script, base, route, wrk_mode, connections, args.duration)
                        )
                        time.sleep(0.3)
            results = {key: median_figures(found) for key, found in runs.items()}
        elapsed = time.monotonic() - started
        print_report(targets, results, notes, args, elapsed, load_before)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

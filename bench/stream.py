"""How fast plyr serves media files, next to nginx serving the same files.

Starts, on 127.0.0.1, with the files in a temp storage folder (all in the page cache):

- nginx serving the folder as static files (the yardstick);
- plyr's app (`create_app`, route `/media/{key}`) under uvicorn, 1 worker, serving the
  files itself; the same process also has a throwaway route using Starlette's FileResponse,
  the path plyr had before `plyr.web.streaming`;
- plyr with PLYR_MEDIA_OFFLOAD=x-accel-redirect behind nginx configured by docs/nginx.conf
  (TLS lines stripped), so nginx sends the bytes;
- plyr under uvicorn with 2 workers (unless --no-workers2);

then drives each with wrk (one thread, N connections) through four workloads, the ones
in shared/performance-facts.md:

- random 256 KB ranges of five files (req/s);
- the whole 8 MB file asked as `Range: bytes=0-`, as <audio> asks (MB/s);
- the first 64 KB (`bytes=0-65535`), with N connections and with one (p50 latency).

Usage: .venv/bin/python bench/stream.py [--duration 6] [--connections 50] [--no-workers2]
Needs Debian's nginx and wrk (`apt-get install -y nginx-light wrk`). Ratios measured side
by side in one run are what to quote: absolute figures move with whatever else runs.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse

REPO = Path(__file__).resolve().parent.parent
SITE_CONFIG = REPO / "docs" / "nginx.conf"
MIB = 1024 * 1024
WHOLE_SIZE = 8 * MIB
RANGE_SIZE = 256 * 1024
FIRST_BYTES = 64 * 1024
OTHER_SIZES = (3 * MIB, 5 * MIB, 6 * MIB, 10 * MIB)


# --- the app under test (imported by uvicorn's workers as `stream:bench_app`) -----------


def bench_app() -> FastAPI:
    """plyr's app from PLYR_* variables, plus a FileResponse route to compare with."""
    from plyr.config import Settings
    from plyr.web import streaming
    from plyr.web.app import create_app
    from plyr.web.deps import get_runtime

    inline_max = os.environ.get("PLYR_BENCH_INLINE_READ_MAX")
    if inline_max is not None:
        streaming.INLINE_READ_MAX = int(inline_max)
    app = create_app(Settings(_env_file=None), run_worker=False, run_ingest=False)

    async def file_response(key: str, request: Request) -> FileResponse:
        path = getattr(get_runtime(request).storage, "path_for")(key)  # noqa: B009
        return FileResponse(
            path,
            media_type="audio/mpeg",
            headers={"Cache-Control": streaming.IMMUTABLE_CACHE},
        )

    app.add_api_route("/_bench/fileresponse/{key:path}", file_response, methods=["GET"])
    # Ahead of every other route, whatever catch-alls the page routes have.
    app.router.routes.insert(0, app.router.routes.pop())
    return app


# --- processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def wait_until_answers(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited early:\n{log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError):
            get(url)
            return
        time.sleep(0.1)
    raise SystemExit(
        f"{url} did not answer within 30 s:\n{log.read_text(errors='replace')[-2000:]}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def uvicorn_server(
    work: Path, media: Path, name: str, *, workers: int = 1, offload: str = "none"
) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PLYR_DATA_DIR": str(work / "data"),
        "PLYR_STORAGE_LOCAL_DIR": str(media),
        "PLYR_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'data' / 'plyr.db'}",
        "PLYR_SECRET_KEY": "bench-secret-key-not-for-production",
        "PLYR_JOBS_ENABLED": "false",
        "PLYR_INGEST_ENABLED": "false",
        "PLYR_MEDIA_OFFLOAD": offload,
        "PLYR_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(REPO / "bench"),
        "--factory",
        "stream:bench_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    log = work / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answers(base + "/health", process, log)
        yield base
    finally:
        stop(process)


def site_config(media: Path, plyr_port: int, proxy_port: int, logs: Path) -> str:
    """docs/nginx.conf made runnable here: plain HTTP on loopback, paths in the temp folder."""
    text = SITE_CONFIG.read_text()
    replacements: list[tuple[str, str]] = [
        (r"server \{\n    listen 80;.*?\n\}\n", ""),  # the HTTP→HTTPS redirect server
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{proxy_port};"),
        (r"\n *listen \[::\]:443 ssl http2;", ""),
        (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{plyr_port};"),
        (r"alias /var/lib/plyr/data/media/;", f"alias {media}/;"),
        (r"access_log /var/log/nginx/plyr\.access\.log;", "access_log off;"),
        (r"error_log /var/log/nginx/plyr\.error\.log;", f"error_log {logs / 'plyr.error.log'};"),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text, flags=re.DOTALL)
        if count != 1:
            raise SystemExit(f"docs/nginx.conf changed: {pattern!r} matched {count} times")
    text, count = re.subn(r"\n *ssl_[a-z_]+ [^\n]*;", "", text)
    if count == 0:
        raise SystemExit("docs/nginx.conf changed: no ssl_ lines to strip")
    return text


@contextlib.contextmanager
def nginx_server(work: Path, media: Path, plyr_port: int) -> Iterator[tuple[str, str]]:
    """nginx: static files on one port, docs/nginx.conf in front of plyr on another."""
    static_port, proxy_port = free_port(), free_port()
    root = work / "nginx"
    for sub in ("logs", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "plyr-site.conf").write_text(site_config(media, plyr_port, proxy_port, root / "logs"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp_paths = "".join(
        f"    {kind}_temp_path {root / 'tmp' / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (root / "nginx.conf").write_text(
        f"""{user}worker_processes auto;
pid {root / "nginx.pid"};
error_log {root / "logs" / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
{temp_paths}
    server {{
        listen 127.0.0.1:{static_port};
        location /media/ {{
            alias {media}/;
        }}
    }}

    include {root / "plyr-site.conf"};
}}
"""
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    command = [nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise SystemExit(f"nginx rejects the config:\n{check.stderr}")
    log = root / "logs" / "stdout.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        static, proxy = f"http://127.0.0.1:{static_port}", f"http://127.0.0.1:{proxy_port}"
        wait_until_answers(static + "/", process, log)
        yield static, proxy
    finally:
        stop(process)


# --- wrk --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Files:
    whole: str  # key of the 8 MB file
    keys: list[str]
    sizes: list[int]


LUA = """
local keys = {%(keys)s}
local sizes = {%(sizes)s}
local prefix, mode = "/media/", "ranges"
local whole = "%(whole)s"

function init(args)
  prefix, mode = args[1], args[2]
  math.randomseed(%(seed)d)
end

function request()
  if mode == "ranges" then
    local i = math.random(#keys)
    local start = math.random(0, sizes[i] - %(range)d)
    local range = "bytes=" .. start .. "-" .. (start + %(range)d - 1)
    return wrk.format("GET", prefix .. keys[i], {["Range"] = range})
  elseif mode == "whole" then
    return wrk.format("GET", prefix .. whole, {["Range"] = "bytes=0-"})
  else
    return wrk.format("GET", prefix .. whole, {["Range"] = "bytes=0-%(first)d"})
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.bytes,
    summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass(frozen=True)
class Figures:
    requests_per_second: float
    megabytes_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_wrk(
    script: Path, base: str, prefix: str, mode: str, connections: int, duration: int
) -> Figures:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base,
        "--",
        prefix,
        mode,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    requests, size, micros, p50, p99, errors = (int(v) for v in line.split()[1:])
    seconds = micros / 1e6
    return Figures(requests / seconds, size / seconds / 1e6, p50 / 1000, p99 / 1000, errors)


# --- checks before measuring ------------------------------------------------------------


def check_target(name: str, base: str, prefix: str, files: Files, media: Path) -> None:
    """Each target must answer ranges byte-exactly before its speed means anything."""
    key = files.keys[1]
    data = (media / key).read_bytes()
    status, _, body = get(base + prefix + key, {"Range": "bytes=1000-1999"})
    if status != 206 or body != data[1000:2000]:
        raise SystemExit(f"{name}: a range came back wrong (status {status})")
    status, _, body = get(base + prefix + key)
    if status != 200 or hashlib.sha256(body).digest() != hashlib.sha256(data).digest():
        raise SystemExit(f"{name}: the whole file came back wrong (status {status})")


def check_offload(proxy: str, files: Files, media: Path) -> list[str]:
    """What a browser sees through docs/nginx.conf with X-Accel-Redirect."""
    key = files.keys[0]
    data = (media / key).read_bytes()
    notes: list[str] = []
    status, headers, body = get(proxy + "/media/" + key, {"Range": "bytes=0-"})
    lower = {k.lower(): v for k, v in headers.items()}
    ok = status == 206 and body == data
    notes.append(f"Range bytes=0- → {status}, {len(body)} bytes {'exact' if ok else 'WRONG'}")
    notes.append(
        f"Content-Type {lower.get('content-type')}, Cache-Control {lower.get('cache-control')}"
    )
    notes.append(
        f"ETag {lower.get('etag')} (nginx's own), Accept-Ranges {lower.get('accept-ranges')}"
    )
    if "x-accel-redirect" in lower:
        notes.append("X-ACCEL-REDIRECT LEAKED TO THE CLIENT")
        ok = False
    status304, _, _ = get(proxy + "/media/" + key, {"If-None-Match": lower.get("etag", "")})
    status_if_range, _, body_if_range = get(
        proxy + "/media/" + key, {"Range": "bytes=0-9", "If-Range": '"stale"'}
    )
    internal, _, _ = get(proxy + "/_protected_media/" + key)
    missing, _, _ = get(proxy + "/media/audio/00/missing.mp3")
    notes.append(
        f"If-None-Match → {status304}; stale If-Range → {status_if_range} "
        f"({len(body_if_range)} bytes); /_protected_media/ directly → {internal}; "
        f"missing key → {missing}"
    )
    ok = ok and status304 == 304 and status_if_range == 200 and internal == 404 and missing == 404
    notes.append("offload through docs/nginx.conf: " + ("OK" if ok else "PROBLEM"))
    if not ok:
        raise SystemExit("\n".join(notes))
    return notes


# --- the run ----------------------------------------------------------------------------


def make_files(media: Path) -> Files:
    rng_seed = 20240611
    keys, sizes = [], []
    for index, size in enumerate((WHOLE_SIZE, *OTHER_SIZES)):
        block = hashlib.sha256(f"{rng_seed}-{index}".encode()).digest()
        data = (block * (size // len(block) + 1))[:size]
        data = os.urandom(64) + data[64:]  # unique content, cheap to make
        digest = hashlib.sha256(data).hexdigest()
        key = f"audio/{digest[:2]}/{digest}.mp3"
        path = media / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        keys.append(key)
        sizes.append(size)
    for folder in [media, *media.rglob("*")]:
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    return Files(whole=keys[0], keys=keys, sizes=sizes)


WORKLOADS = [
    ("ranges", "random 256 KB ranges", "req/s"),
    ("whole", "whole 8 MB file (Range: bytes=0-)", "MB/s"),
    ("first", "first 64 KB (bytes=0-65535)", "p50"),
    ("first1", "first 64 KB, 1 connection", "p50"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--no-workers2", action="store_true", help="skip uvicorn --workers 2")
    parser.add_argument(
        "--inline-read-max",
        type=int,
        default=None,
        help="override plyr.web.streaming.INLINE_READ_MAX (0: every read in a thread)",
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
        keys = ", ".join(f'"{k}"' for k in files.keys)
        script = work / "bench.lua"
        script.write_text(
            LUA
            % {
                "keys": keys,
                "sizes": ", ".join(str(s) for s in files.sizes),
                "whole": files.whole,
                "seed": 42,
                "range": RANGE_SIZE,
                "first": FIRST_BYTES - 1,
            }
        )
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


def print_report(
    targets: list[tuple[str, str, str]],
    results: dict[tuple[str, str], Figures],
    notes: list[str],
    args: argparse.Namespace,
    elapsed: float,
) -> None:
    inline = os.environ.get("PLYR_BENCH_INLINE_READ_MAX", "default")
    print(
        f"\nplyr media serving vs nginx: wrk -t1, {args.connections} connections, "
        f"{args.duration} s per run, {os.cpu_count()} cores, INLINE_READ_MAX={inline}"
    )
    for mode, title, unit in WORKLOADS:
        base = results[("nginx static", mode)]
        print(f"\n{title}")
        print(
            f"  {'':34} {'req/s':>8} {'MB/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'errors':>6}  vs nginx"
        )
        for name, _, _ in targets:
            f = results[(name, mode)]
            if unit == "req/s":
                ratio = f"{f.requests_per_second / base.requests_per_second:.2f}x req/s"
            elif unit == "MB/s":
                ratio = f"{f.megabytes_per_second / base.megabytes_per_second:.2f}x MB/s"
            else:
                ratio = f"{f.p50_ms / base.p50_ms:.1f}x p50" if base.p50_ms else "-"
            print(
                f"  {name:34} {f.requests_per_second:8.0f} {f.megabytes_per_second:8.0f} "
                f"{f.p50_ms:8.2f} {f.p99_ms:8.2f} {f.errors:6d}  {ratio}"
            )
    print("\nnginx offload check (docs/nginx.conf):")
    for note in notes:
        print(f"  {note}")
    print(f"\ntotal {elapsed:.0f} s")


if __name__ == "__main__":
    main()

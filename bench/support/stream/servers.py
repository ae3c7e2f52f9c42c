"""The servers under test, as processes on loopback ports: `plyr serve` (granian or
uvicorn, media served itself or offloaded to nginx) and nginx (the same files as static
files, and docs/nginx.conf with TLS stripped in front of plyr). Each is started in its own
session and stopped with its whole process group."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from support.loopback import free_port, get

BENCH = Path(__file__).resolve().parents[2]
REPO = BENCH.parent
SITE_CONFIG = REPO / "docs" / "nginx.conf"


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
def plyr_server(
    work: Path, media: Path, database_url: str, name: str, *, server: str, offload: str = "none"
) -> Iterator[str]:
    """`plyr serve` itself (web only: no job worker, no ingest) in `server` (granian or
    uvicorn), on the catalogue's database; it links the public tracks' files as it starts."""
    port = free_port()
    env = {
        **os.environ,
        "PLYR_DATA_DIR": str(work / "data"),
        "PLYR_STORAGE_LOCAL_DIR": str(media),
        "PLYR_DATABASE_URL": database_url,
        "PLYR_SECRET_KEY": "bench-secret-key-not-for-production",
        "PLYR_MEDIA_OFFLOAD": offload,
        "PLYR_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "plyr", "serve", "--no-worker", "--no-ingest"]
    command += ["--server", server, "--host", "127.0.0.1", "--port", str(port)]
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


def site_config(media: Path, public: Path, plyr_port: int, proxy_port: int, logs: Path) -> str:
    """docs/nginx.conf made runnable here: plain HTTP on loopback, paths in the temp folder."""
    text = SITE_CONFIG.read_text()
    replacements: list[tuple[str, str]] = [
        (r"server \{\n    listen 80;.*?\n\}\n", ""),  # the HTTP→HTTPS redirect server
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{proxy_port};"),
        (r"\n *listen \[::\]:443 ssl http2;", ""),
        (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{plyr_port};"),
        (r"alias /var/lib/plyr/data/media/;", f"alias {media}/;"),
        (r"root /var/lib/plyr/data/public-media;", f"root {public};"),
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
def nginx_server(
    work: Path, media: Path, plyr_port: int, public: Path | None = None
) -> Iterator[tuple[str, str]]:
    """nginx: static files on one port, docs/nginx.conf in front of plyr on another (with
    `public`, plyr's public media folder; none: every media request goes to plyr)."""
    static_port, proxy_port = free_port(), free_port()
    root = work / "nginx"
    for sub in ("logs", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    public = public or root / "no-public-media"
    site = site_config(media, public, plyr_port, proxy_port, root / "logs")
    (root / "plyr-site.conf").write_text(site)
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

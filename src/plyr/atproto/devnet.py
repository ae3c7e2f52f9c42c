"""Start the local ATProto network (PLC directory + PDS) from `atproto-net/`.

`plyr devnet` and the test fixture both use `start_network`; the Node launcher prints one
`PLYR_ATPROTO_NET_READY {json}` line when the servers answer and the accounts exist.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

READY_PREFIX = "PLYR_ATPROTO_NET_READY "
DEFAULT_PLC_PORT = 2582
DEFAULT_PDS_PORT = 2583
DEMO_ACCOUNTS = (("alice.test", "alice-password"), ("bob.test", "bob-password"))


class DevnetError(RuntimeError):
    """The local network could not be installed or started."""


@dataclass(frozen=True, slots=True)
class Account:
    handle: str
    did: str
    password: str


@dataclass
class Network:
    plc_url: str
    pds_url: str
    admin_password: str
    blob_limit: int
    accounts: dict[str, Account]
    process: subprocess.Popen[str] | None = None
    log_path: Path | None = None
    _stderr_thread: threading.Thread | None = field(default=None, repr=False)

    def account(self, handle: str) -> Account:
        return self.accounts[handle]

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    @classmethod
    def from_ready(cls, payload: dict[str, Any]) -> Network:
        return cls(
            plc_url=payload["plc"],
            pds_url=payload["pds"],
            admin_password=payload.get("adminPassword", ""),
            blob_limit=int(payload.get("blobLimit", 5 * 1024 * 1024)),
            accounts={
                item["handle"]: Account(item["handle"], item["did"], item["password"])
                for item in payload.get("accounts", [])
            },
        )


def network_dir() -> Path:
    """`atproto-net/` beside `src/` in a checkout, or wherever PLYR_ATPROTO_NET_DIR says."""
    configured = os.environ.get("PLYR_ATPROTO_NET_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "atproto-net"


def ensure_installed(folder: Path | None = None) -> Path:
    """Install the pinned npm packages (`npm ci`) when node_modules is missing."""
    folder = folder or network_dir()
    if not (folder / "package-lock.json").exists():
        raise DevnetError(f"no atproto-net folder at {folder} (set PLYR_ATPROTO_NET_DIR)")
    if (folder / "node_modules" / "@atproto" / "pds").exists():
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise DevnetError("the local ATProto network needs Node.js 20+ and npm on PATH")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise DevnetError("npm ci failed in atproto-net: " + " | ".join(tail))
    return folder


def start_network(
    data_dir: Path,
    *,
    plc_port: int = DEFAULT_PLC_PORT,
    pds_port: int = DEFAULT_PDS_PORT,
    accounts: tuple[tuple[str, str], ...] = DEMO_ACCOUNTS,
    blob_limit: int = 5 * 1024 * 1024,
    timeout: float = 60.0,
    log_path: Path | None = None,
    exit_with_parent: bool = True,
) -> Network:
    """Start PLC + PDS on 127.0.0.1 and wait for the ready line (or fail with its log)."""
    folder = ensure_installed()
    node = shutil.which("node")
    if node is None:
        raise DevnetError("the local ATProto network needs Node.js 20+ on PATH")
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_path or data_dir / "atproto-net.log"
    command = [
        node,
        "launch.mjs",
        "--plc-port",
        str(plc_port),
        "--pds-port",
        str(pds_port),
        "--data-dir",
        str(data_dir),
        "--blob-limit",
        str(blob_limit),
    ]
    for handle, password in accounts:
        command += ["--account", f"{handle}:{password}"]
    if exit_with_parent:
        command.append("--exit-with-stdin")
    process = subprocess.Popen(
        command,
        cwd=folder,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    log_file = log_path.open("a", encoding="utf-8")
    stderr_thread = threading.Thread(
        target=_copy_lines, args=(process.stderr, log_file), daemon=True
    )
    stderr_thread.start()

    ready: dict[str, Any] | None = None
    deadline = time.monotonic() + timeout
    reader = _LineReader(process.stdout)
    while time.monotonic() < deadline and process.poll() is None:
        line = reader.readline(timeout=max(0.0, deadline - time.monotonic()))
        if line is None:
            break
        if line.startswith(READY_PREFIX):
            ready = json.loads(line[len(READY_PREFIX) :])
            break
        log_file.write(line)
    if ready is None:
        process.kill()
        process.wait()
        stderr_thread.join(2)
        log_file.flush()
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-8:]
        raise DevnetError(
            f"the local ATProto network did not start (ports {plc_port}, {pds_port}); "
            f"log {log_path}: " + " | ".join(tail)
        )
    reader.drain_into(log_file)
    network = Network.from_ready(ready)
    network.process = process
    network.log_path = log_path
    network._stderr_thread = stderr_thread
    return network


def network_from_env() -> Network | None:
    """A network someone already runs: PLYR_TEST_ATPROTO_NET holds its ready-line JSON."""
    raw = os.environ.get("PLYR_TEST_ATPROTO_NET")
    if not raw:
        return None
    return Network.from_ready(json.loads(raw))


def _copy_lines(source: IO[str], sink: IO[str]) -> None:
    for line in source:
        sink.write(line)
        sink.flush()


class _LineReader:
    """Read stdout lines with a timeout (a thread, since pipes have no portable timeouts)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lines: list[str | None] = []
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        self._sink: IO[str] | None = None

    def _pump(self) -> None:
        for line in self._stream:
            with self._ready:
                if self._sink is not None:
                    self._sink.write(line)
                    self._sink.flush()
                    continue
                self._lines.append(line)
                self._ready.notify_all()
        with self._ready:
            self._lines.append(None)
            self._ready.notify_all()

    def readline(self, timeout: float) -> str | None:
        with self._ready:
            if not self._ready.wait_for(lambda: bool(self._lines), timeout):
                return None
            return self._lines.pop(0)

    def drain_into(self, sink: IO[str]) -> None:
        with self._ready:
            for line in self._lines:
                if line is not None:
                    sink.write(line)
            self._lines.clear()
            self._sink = sink

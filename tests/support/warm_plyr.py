"""`plyr` and `plyrfm` command runs forked from a parent that has imported them already.

A `python -m plyr …` spends about 2 s of CPU importing (numpy, PyAV, SQLAlchemy, FastAPI,
plyr's own modules) before its command starts, a `plyrfm …` about 0.3 s, and the suite
runs a few hundred of them on two cores. Here one warm parent per program and test process
imports all that once; each run is still a process of its own, forked from it: it runs the
real entry point (`python -m plyr`'s `plyr/__main__.py`, or the console script uv
installed) with the test's arguments, environment and working folder, stdin from /dev/null
or what the test gives, stdout and stderr in one pipe or two, and exits through the
interpreter's normal shutdown with the command's own code. What the fork keeps from the
parent is the imported modules only: plyr reads its settings (PLYR_*) and plyrfm its
config path and token when a command runs, never at import, and the parent starts with the
tests' environment minus PLYR_*, as every run's environment is built.

`python -m tests.support.warm_plyr SOCKET PROGRAM` is the parent; `WarmPlyr` starts and
asks it.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import pkgutil
import runpy
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ("plyr", "plyrfm")  # each a package and the console script of the same name
START_SECONDS = 120.0  # importing plyr on a loaded two-core machine


def _script(program: str) -> str:
    return str(Path(sys.executable).with_name(program))  # where uv installs it


# --- the warm parent ---------------------------------------------------------------------


def _import(program: str) -> None:
    """Every module of the program's package a command may import (plyr's migration
    scripts are alembic's to run)."""
    package = importlib.import_module(program)
    skipped = (f"{program}.__main__", "plyr.migrations")
    for module in pkgutil.walk_packages(package.__path__, f"{program}."):
        if not module.name.startswith(skipped):
            importlib.import_module(module.name)


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _address = socket.recv_fds(conn, 1 << 16, 3)
    size = int.from_bytes(data[:4], "big")
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ConnectionError("the request ended early")
        body += chunk
    return json.loads(body), fds


def _serve(path: str) -> tuple[dict[str, Any], list[int]]:
    """Fork a child per request; report its pid, then its exit code. Returns in a child
    only (its request and descriptors); the parent leaves when its stdin closes."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)  # EOF: the test process is gone
    children: dict[int, socket.socket] = {}
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        for key, _events in selector.select():
            if key.fileobj is sys.stdin:
                shutil.rmtree(os.path.dirname(path), ignore_errors=True)
                os._exit(0)
            if key.fileobj is listener:
                conn, _ = listener.accept()
                request, fds = _receive(conn)
                pid = os.fork()
                if pid == 0:
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    selector.close()
                    for fd in (wake_read, wake_write):
                        os.close(fd)
                    for sock in (listener, conn, *children.values()):
                        sock.close()
                    return request, fds
                for fd in fds:
                    os.close(fd)
                children[pid] = conn
                _tell(conn, str(pid))
                continue
            with contextlib.suppress(BlockingIOError):
                while os.read(wake_read, 512):
                    pass
            while children:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                conn = children.pop(pid)
                _tell(conn, str(os.waitstatus_to_exitcode(status)))
                conn.close()


def _tell(conn: socket.socket, line: str) -> None:
    with contextlib.suppress(OSError):  # the test gave up on this run (a timeout)
        conn.sendall(f"{line}\n".encode())


def _run_child(program: str, request: dict[str, Any], fds: list[int]) -> None:
    """Become `python -m plyr ARGS` (or the program's script) started in `cwd` with `env`."""
    stdout, stderr = fds[0], fds[1] if request["split"] else fds[0]
    stdin = fds[-1] if request["stdin"] else os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, target)
    for fd in {stdin, *fds}:
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if request["script"]:
        script = _script(program)
        sys.path[0] = str(Path(script).parent)
        sys.argv = [script, *request["argv"]]
        runpy.run_path(script, run_name="__main__")
    else:
        sys.path[0] = os.getcwd()
        sys.argv = ["-m", *request["argv"]]
        runpy.run_module(program, run_name="__main__", alter_sys=True)


def main() -> None:
    path, program = sys.argv[1:3]
    _import(program)
    # Out of the collector's sight: a child's shutdown then walks only what it made itself
    # (0.7 s of CPU less per plyr run), and its pages stay shared with the parent.
    gc.freeze()
    request, fds = _serve(path)
    _run_child(program, request, fds)  # a command that returns normally exits 0, as it would


# --- asking it ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finished:
    returncode: int
    output: bytes  # stdout and stderr as they came, or stdout alone when split
    stderr: bytes  # when split
    timed_out: bool


class WarmPlyr:
    """The warm parent of one program for this test process, started on first use."""

    _lock = threading.Lock()
    _current: dict[str, WarmPlyr] = {}

    def __init__(self, program: str) -> None:
        self.path = os.path.join(tempfile.mkdtemp(prefix="warm-plyr-"), "socket")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLYR_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.warm_plyr", self.path, program],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(START_SECONDS):
                self.process.kill()
                raise RuntimeError(f"the warm {program} was not ready within {START_SECONDS}s")
        if self.process.stdout.readline() != b"ready\n":
            raise RuntimeError(f"the warm {program} failed to start (exit {self.process.wait()})")

    @classmethod
    def get(cls, program: str = "plyr") -> WarmPlyr:
        assert program in PROGRAMS, program
        with cls._lock:
            current = cls._current.get(program)
            if current is None or current.process.poll() is not None:
                current = cls._current[program] = cls(program)
            return current

    def run(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        cwd: Path,
        seconds: float,
        script: bool = False,
        split: bool = False,
        stdin: bytes | None = None,
    ) -> Finished:
        """One run to its end (SIGKILL after `seconds`); blocks: call it in a thread."""
        deadline = time.monotonic() + seconds
        request = {"argv": argv, "env": env, "cwd": str(cwd), "script": script}
        body = json.dumps({**request, "split": split, "stdin": stdin is not None}).encode()
        message = len(body).to_bytes(4, "big") + body
        pipes = [os.pipe() for _ in range(2 if split else 1)]
        mine = [read_end for read_end, _write_end in pipes]
        theirs = [write_end for _read_end, write_end in pipes]
        if stdin is not None:
            assert len(stdin) < 1 << 16, "more than a pipe holds before the child reads"
            stdin_read, stdin_write = os.pipe()
            os.write(stdin_write, stdin)
            os.close(stdin_write)
            theirs.append(stdin_read)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.connect(self.path)
                sent = socket.send_fds(conn, [message], theirs)
                conn.sendall(message[sent:])
                for fd in theirs:
                    os.close(fd)
                theirs = []
                replies = conn.makefile("rb")
                pid = int(replies.readline())
                outputs, timed_out = _read_all(mine, deadline)
                if timed_out:
                    os.kill(pid, signal.SIGKILL)
                    rest = _read_all(mine, None)[0]
                    outputs = [done + more for done, more in zip(outputs, rest, strict=True)]
                returncode = int(replies.readline())  # once the child has exited
        finally:
            for fd in mine + theirs:
                os.close(fd)
        return Finished(returncode, outputs[0], outputs[1] if split else b"", timed_out)


def _read_all(fds: list[int], deadline: float | None) -> tuple[list[bytes], bool]:
    """What the pipes hold until EOF on all; (so far, True) when the deadline passes first."""
    chunks: dict[int, list[bytes]] = {fd: [] for fd in fds}
    with selectors.DefaultSelector() as selector:
        for fd in fds:
            selector.register(fd, selectors.EVENT_READ)
        open_fds = set(fds)
        while open_fds:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = selector.select(timeout)
            if not ready:
                return [b"".join(chunks[fd]) for fd in fds], True
            for key, _events in ready:
                fd = int(key.fd)
                chunk = os.read(fd, 1 << 16)
                if chunk:
                    chunks[fd].append(chunk)
                else:
                    selector.unregister(fd)
                    open_fds.discard(fd)
    return [b"".join(chunks[fd]) for fd in fds], False


if __name__ == "__main__":
    main()

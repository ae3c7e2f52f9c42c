"""Bad input to the `plyrfm` command gives one line on stderr (`plyrfm: …`), nothing on
stdout, the documented exit code and never a traceback: an expired, a revoked or no token,
a file that is not audio, a missing file, an unknown track, plyr down, Ctrl-C. Also what
needs no server: --help (and how fast it starts), --version, completion, usage errors."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.clients.checks import one_error_line
from tests.clients.conftest import DeadTokens, TokenUser
from tests.support.audio import make_text
from tests.support.plyr_server import PlyrServer
from tests.support.plyrfm import PLYRFM, plyrfm_env, run_plyrfm
from tests.support.ports import free_port

UNKNOWN_TRACK = 987_654_321


@pytest.mark.browser
async def test_expired_and_revoked_tokens_exit_3(
    plyr: PlyrServer, dead_tokens: DeadTokens, tmp_path: Path
) -> None:
    for token, command in [(dead_tokens.expired, "whoami"), (dead_tokens.revoked, "likes")]:
        env = plyrfm_env(tmp_path, plyr.url, token)
        line = one_error_line(await run_plyrfm(command, "--json", env=env, cwd=tmp_path), 3)
        assert "authentication failed" in line, line


async def test_no_token_exits_3_without_asking_the_server(tmp_path: Path) -> None:
    # A closed port: were a request made, this would be "unreachable" (6), not 3.
    env = plyrfm_env(tmp_path, f"http://127.0.0.1:{free_port()}")
    line = one_error_line(await run_plyrfm("like", "1", env=env, cwd=tmp_path), 3)
    assert "not signed in" in line, line


@pytest.mark.browser
async def test_not_audio_and_unknown_track(
    plyr: PlyrServer, bob: TokenUser, tmp_path: Path
) -> None:
    env = plyrfm_env(tmp_path, plyr.url, bob.token)
    notes = make_text(tmp_path / "liner notes.mp3")
    line = one_error_line(await run_plyrfm("upload", str(notes), env=env, cwd=tmp_path), 5)
    assert "invalid request" in line, line
    for command in ("track", "download"):
        args = (command, str(UNKNOWN_TRACK))
        line = one_error_line(await run_plyrfm(*args, env=env, cwd=tmp_path), 4)
        assert "not found" in line, line


async def test_missing_files_exit_5_before_sending(tmp_path: Path) -> None:
    env = plyrfm_env(tmp_path, f"http://127.0.0.1:{free_port()}", "plyr_not_used")
    line = one_error_line(await run_plyrfm("upload", "nowhere.wav", env=env, cwd=tmp_path), 5)
    assert line == "plyrfm: invalid request: the audio file nowhere.wav does not exist"
    song = tmp_path / "song.wav"
    song.write_bytes(b"RIFF")
    args = ("upload", str(song), "--cover", "gone.png")
    line = one_error_line(await run_plyrfm(*args, env=env, cwd=tmp_path), 5)
    assert line == "plyrfm: invalid request: the cover gone.png does not exist"


async def test_server_down_exits_6(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = plyrfm_env(tmp_path, token="plyr_not_used")
    line = one_error_line(await run_plyrfm("--url", url, "tracks", env=env, cwd=tmp_path), 6)
    assert url in line, line
    assert "not reachable" in line, line


async def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    """Interrupted while waiting for the token on stdin: exit 130, no traceback."""
    process = await asyncio.create_subprocess_exec(
        PLYRFM,
        "login",
        env=plyrfm_env(tmp_path, f"http://127.0.0.1:{free_port()}"),
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # As from a shell's foreground: Ctrl-C on. The test process may run with SIGINT
        # ignored by then (a clean-clone run showed SigIgn inherited), which a child keeps.
        preexec_fn=_interruptible,
    )
    await _blocked_reading_stdin(process.pid)
    process.send_signal(signal.SIGINT)
    # Wait for the exit itself, then read what it wrote: a pipe some other process might
    # hold open must not look like a command that did not stop.
    try:
        await asyncio.wait_for(process.wait(), 60)
    except TimeoutError:
        state = await asyncio.to_thread(_process_state, process.pid)
        process.kill()
        await process.wait()
        pytest.fail(f"plyrfm login did not exit after SIGINT; {state}")
    assert process.stdout is not None
    assert process.stderr is not None
    out = await asyncio.wait_for(process.stdout.read(), 10)
    err = await asyncio.wait_for(process.stderr.read(), 10)
    assert process.returncode == 130, (out, err)
    assert b"Traceback" not in err
    assert out == b""


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _process_state(pid: int) -> str:
    """What the kernel says of a process that seems stuck: where it waits, its signals."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        syscall = Path(f"/proc/{pid}/syscall").read_text().strip()
    except OSError as exc:
        return f"/proc unreadable: {exc}"
    kept = [line for line in status if line.startswith(("State", "Sig", "Shd"))]
    return f"syscall {syscall!r}; " + "; ".join(kept)


async def _blocked_reading_stdin(pid: int, seconds: float = 30) -> None:
    """Wait until the process sits in read(0, …): its imports are done, the prompt is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            call = (await asyncio.to_thread(Path(f"/proc/{pid}/syscall").read_text)).split()
        except OSError:
            call = []
        if call[:2] == ["0", "0x0"]:  # x86-64: syscall 0 is read, first argument fd 0
            return
        await asyncio.sleep(0.05)
    pytest.fail("plyrfm login never read stdin")


async def test_help_version_completion_and_usage(tmp_path: Path) -> None:
    env = plyrfm_env(tmp_path)
    helped = await run_plyrfm("--help", env=env, cwd=tmp_path)
    assert helped.returncode == 0, helped
    for command in ("login", "upload", "tracks", "download", "search", "playlist", "export"):
        assert command in helped.stdout

    version = await run_plyrfm("--version", env=env, cwd=tmp_path)
    assert version.returncode == 0, version
    assert version.stdout.startswith("plyrfm 0."), version

    completion = await run_plyrfm(
        "--show-completion", "bash", env={**env, "SHELL": "/bin/bash"}, cwd=tmp_path
    )
    assert completion.returncode == 0, completion
    assert "complete " in completion.stdout
    assert "_PLYRFM_COMPLETE" in completion.stdout

    # Help and completion start fast: the command's modules leave the SDK's heavy imports
    # (httpx, pydantic, the MCP SDK) until a command needs them.
    lean = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys, plyrfm.cli.app; print([m for m in ('httpx', 'pydantic', 'mcp') "
        "if m in sys.modules])",
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    imported, _ = await lean.communicate()
    assert imported.decode().strip() == "[]"

    usage = await run_plyrfm("track", "not-a-number", env=env, cwd=tmp_path)
    assert usage.returncode == 2, usage
    assert "Traceback" not in usage.stderr, usage
    assert usage.stdout == ""

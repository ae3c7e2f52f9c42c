"""Peak memory of the server while it receives and processes a large upload.

Starts a local ATProto network and `plyr serve` (web + worker in one process, as a
newcomer runs it), signs in as alice.test in headless Chromium, uploads a WAV of about
500 MB, follows the progress stream to the end, and prints the server's resident memory:
before, peak while receiving, and peak after processing (transcode, loudness, publish).

Usage: uv run python bench/upload_memory.py [--megabytes 500]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.atproto_net import running_network  # noqa: E402
from tests.support.browser import launch_browser, sign_in_to_plyr  # noqa: E402

from plyr.auth.sessions import COOKIE_NAME, csrf_token  # noqa: E402

RATE = 44_100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_wav(path: Path, megabytes: int) -> None:
    """A 16-bit stereo WAV of the given size, written a second at a time (not in memory)."""
    second = bytearray()
    for n in range(RATE):
        value = int(12000 * ((n * 440 * 2 // RATE) % 2 * 2 - 1))  # a square wave
        second += struct.pack("<hh", value, value)
    seconds = megabytes * 1_000_000 // len(second)
    data_size = seconds * len(second)
    with path.open("wb") as handle:
        handle.write(b"RIFF" + struct.pack("<I", 36 + data_size) + b"WAVE")
        handle.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, RATE, RATE * 4, 4, 16))
        handle.write(b"data" + struct.pack("<I", data_size))
        for _ in range(seconds):
            handle.write(second)


def rss_kb(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        audio = work / "long.wav"
        write_wav(audio, args.megabytes)
        size = audio.stat().st_size
        with running_network(work / "net") as net:
            port = free_port()
            env = {
                **os.environ,
                "PLYR_DATA_DIR": str(work / "data"),
                "PLYR_PORT": str(port),
                "PLYR_PLC_URL": net.plc_url,
                "PLYR_ATPROTO_DEV_NETWORK": "true",
                "PLYR_ATPROTO_DEV_PDS_URL": net.pds_url,
                "PLYR_MAX_UPLOAD_BYTES": str(size + 10_000_000),
                "PLYR_INGEST_ENABLED": "false",
                "PLYR_LOG_LEVEL": "WARNING",
            }
            command = [sys.executable, "-m", "plyr", "serve"]
            # Started once, beside the benchmark; nothing waits on it here.
            server = subprocess.Popen(command, env=env, cwd=work)  # noqa: ASYNC220
            base = f"http://127.0.0.1:{port}"
            try:
                async with httpx.AsyncClient(base_url=base, timeout=600) as http:
                    for _ in range(200):
                        try:
                            if (await http.get("/health")).status_code == 200:
                                break
                        except httpx.TransportError:
                            await asyncio.sleep(0.1)
                    async with launch_browser() as browser:
                        page = await browser.new_page()
                        password = net.account("alice.test").password
                        cookie = await sign_in_to_plyr(page, base, "alice.test", password)
                    secret_key = (work / "data" / "secret.key").read_text().strip().encode()
                    csrf = csrf_token(secret_key, hashlib.sha256(cookie.encode()).hexdigest())
                    http.cookies.set(COOKIE_NAME, cookie)
                    before = rss_kb(server.pid)

                    started = time.perf_counter()
                    with audio.open("rb") as handle:
                        response = await http.post(
                            "/api/tracks",
                            files={"file": ("long.wav", handle, "audio/wav")},
                            data={"title": "a long one"},
                            headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
                        )
                    received = time.perf_counter() - started
                    assert response.status_code == 202, response.text
                    after_receive = rss_kb(server.pid)

                    final: dict[str, object] = {}
                    async with http.stream("GET", response.json()["progress_url"]) as events:
                        async for line in events.aiter_lines():
                            if line.startswith("data: "):
                                final = json.loads(line[6:])
                                if final["done"]:
                                    break
                    processed = time.perf_counter() - started
                    after_all = rss_kb(server.pid)
            finally:
                server.terminate()
                server.wait(30)
    mb = 1024
    print(f"upload: {size / 1e6:.0f} MB WAV; final state: {final.get('phase')}")
    print(
        f"received in {received:.1f} s ({size / 1e6 / received:.0f} MB/s), "
        f"done in {processed:.1f} s"
    )
    print(f"server RSS before the upload:        {before['VmRSS'] / mb:7.1f} MB")
    print(f"server peak RSS while receiving:     {after_receive['VmHWM'] / mb:7.1f} MB")
    print(f"server peak RSS through processing:  {after_all['VmHWM'] / mb:7.1f} MB")
    print(
        "peak growth over the baseline:       "
        f"{(after_all['VmHWM'] - before['VmRSS']) / mb:7.1f} MB"
    )


if __name__ == "__main__":
    asyncio.run(main())

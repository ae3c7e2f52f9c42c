"""`plyr serve` keeps its promises in both HTTP servers (granian, the default, and uvicorn):
websockets work and are closed with 1012 on SIGTERM, which stops the process cleanly
(exit 0, the job worker stopped, no traceback); X-Forwarded-* are trusted from
FORWARDED_ALLOW_IPS only."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from plyr.cli import http_servers
from tests.support.cli import plyr_env
from tests.support.ports import free_port
from tests.test_cli_processes import read, start_plyr, stop

SUBSCRIBE = "/xrpc/com.atproto.label.subscribeLabels"


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
async def test_serve_websockets_and_a_graceful_stop(tmp_path: Path, server: str) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    process = await start_plyr(
        "serve",
        "--server",
        server,
        "--port",
        str(port),
        "--no-ingest",
        env=plyr_env(tmp_path / "data"),
        cwd=tmp_path,
        log=log,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            for _ in range(150):
                if process.returncode is not None:
                    pytest.fail(f"serve exited with {process.returncode}:\n{await read(log)}")
                try:
                    response = await client.get("/health", headers={"x-request-id": "servers-1"})
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            else:
                pytest.fail(f"no answer:\n{await read(log)}")
            assert response.status_code == 200
            assert response.headers["x-request-id"] == "servers-1"
        url = f"ws://127.0.0.1:{port}{SUBSCRIBE}"
        async with websockets.connect(f"{url}?cursor=999999") as refused:
            frame = await asyncio.wait_for(refused.recv(), 10)
            assert isinstance(frame, bytes)
            assert b"FutureCursor" in frame
        following = await websockets.connect(url)
        await asyncio.sleep(0.3)
        returncode, took = await stop(process, log)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(following.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1012  # service restart
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = await read(log)
    assert returncode == 0, output
    assert took < 10
    assert "Traceback" not in output
    assert "job worker stopped" in output
    assert f"({server})" in output  # the log line says which server runs
    assert re.search(r"GET /health 200 .*request_id=servers-1", output), output


async def test_forwarded_headers_only_from_trusted_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], _receive: Any, _send: Any) -> None:
        seen.append(dict(scope))

    def scope(client: str) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "http",
            "client": (client, 5000),
            "headers": [(b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-proto", b"https")],
        }

    async def nothing() -> dict[str, Any]:
        return {}

    async def ignore(_message: Any) -> None:
        return None

    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    wrapped = http_servers.granian_app(app)
    await wrapped(scope("127.0.0.1"), nothing, ignore)
    await wrapped(scope("198.51.100.7"), nothing, ignore)
    assert (seen[0]["client"][0], seen[0]["scheme"]) == ("203.0.113.9", "https")
    assert (seen[1]["client"][0], seen[1]["scheme"]) == ("198.51.100.7", "http")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "198.51.100.7")
    wrapped = http_servers.granian_app(app)
    await wrapped(scope("127.0.0.1"), nothing, ignore)
    await wrapped(scope("198.51.100.7"), nothing, ignore)
    assert seen[2]["client"][0] == "127.0.0.1"
    assert seen[3]["client"][0] == "203.0.113.9"

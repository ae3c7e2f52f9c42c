"""`plyrfm mcp --http`: the real console script serving streamable HTTP on loopback, reached
with the official MCP SDK's streamable HTTP client; DNS-rebinding protection is on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from tests.support.plyr_server import PlyrServer
from tests.support.plyrfm import PLYRFM, plyrfm_env
from tests.support.ports import free_port


@contextlib.asynccontextmanager
async def mcp_over_http(home: Path, url: str) -> AsyncIterator[str]:
    """`plyrfm mcp --http --port P` running; yields its endpoint once it accepts."""
    port = free_port()
    stderr = home / "mcp-http-stderr.log"
    with stderr.open("w") as errlog:
        process = await asyncio.create_subprocess_exec(
            PLYRFM,
            "mcp",
            "--http",
            "--port",
            str(port),
            env=plyrfm_env(home, url),
            cwd=home,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=errlog,
        )
        try:
            await _accepting(port, process)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
    assert "Traceback" not in stderr.read_text(), stderr.read_text()


async def _accepting(port: int, process: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(30):
        while True:
            assert process.returncode is None, "plyrfm mcp --http exited"
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return


async def test_streamable_http(
    plyr: PlyrServer, catalogue: list[dict[str, Any]], tmp_path: Path
) -> None:
    harbour = catalogue[1]
    async with mcp_over_http(tmp_path, plyr.url) as endpoint:
        async with Client(endpoint) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert {"search", "get_track", "upload_file"} <= names
            result = await client.call_tool("search", {"query": "harbour lights"})
            assert not result.is_error, result
            assert isinstance(result.structured_content, dict)
            hits = result.structured_content["hits"]
            assert {"type": "track", "id": str(harbour["id"])}.items() <= hits[0].items()

        # A page on another name that resolves to loopback (DNS rebinding) is refused.
        async with httpx.AsyncClient() as http:
            rebound = await http.post(
                endpoint,
                headers={"Host": "attacker.example", "Content-Type": "application/json"},
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            )
            assert rebound.status_code == 421

"""Following an upload to the end, and what it leaves: the record in the PDS, files, rows."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from plyr.atproto.devnet import Network
from plyr.tracks.leftovers import LIVE_DIR
from tests.support.plyr_server import PlyrServer


async def follow_progress(http: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Read the Server-Sent Events stream until the upload is done."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(60), http.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
                if events[-1]["done"]:
                    break
    return events


async def public_record(net: Network, uri: str) -> dict[str, Any]:
    """The PDS's answer for a record, read without auth, with its HTTP status added."""
    did, collection, rkey = uri.removeprefix("at://").split("/")
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{net.pds_url}/xrpc/com.atproto.repo.getRecord",
            params={"repo": did, "collection": collection, "rkey": rkey},
        )
    return dict(response.json()) | {"status": response.status_code}


def stored_objects(plyr: PlyrServer) -> set[str]:
    """The keys of every file in plyr's local storage."""
    root = plyr.settings.effective_storage_local_dir
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def temp_files(plyr: PlyrServer) -> list[Path]:
    """The files left in plyr's temporary upload folder (not the running process's own
    "alive" mark, plyr.tracks.leftovers.LIVE_DIR)."""
    tmp = plyr.settings.data_dir / "tmp"
    if not tmp.exists():
        return []
    return [p for p in tmp.rglob("*") if p.is_file() and LIVE_DIR not in p.relative_to(tmp).parts]


async def count(plyr: PlyrServer, model: Any) -> int:
    """How many rows the model's table holds."""
    async with plyr.runtime.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)

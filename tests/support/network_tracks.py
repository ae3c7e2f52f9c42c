"""Track records written by another client, straight to the local PDS with an app-password
session, and what plyr makes of them: waiting for the index, playing through the app."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.syntax import format_datetime
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.db.models import Profile, Track, utcnow
from tests.support.plyr_server import PlyrServer

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]], seconds: float = 45) -> T:
    async with asyncio.timeout(seconds):
        while True:
            found = await check()
            if found is not None and found is not False:
                return found
            await asyncio.sleep(0.1)


def now() -> str:
    return format_datetime(utcnow())


@asynccontextmanager
async def other_client(net: Network, handle: str) -> AsyncIterator[RepoClient]:
    """A user writing to their PDS with another client (an app-password session)."""
    account = net.account(handle)
    async with httpx.AsyncClient(timeout=30) as http:
        session = await PasswordSession.create(http, net.pds_url, account.handle, account.password)
        yield RepoClient(XrpcClient(http, net.pds_url, session), session.did)


async def wait_until_following(plyr: PlyrServer, repo: RepoClient) -> None:
    """The follower subscribes without a cursor (live events only): write until a record
    of `repo`'s user is indexed, so later writes are not missed."""
    collection = f"{plyr.settings.atproto_namespace}.actor.profile"
    for attempt in range(60):
        bio = f"warming up {attempt}"
        await repo.put_record(collection, "self", {"bio": bio, "createdAt": now()})
        for _ in range(10):
            async with plyr.runtime.sessions() as db:
                found = await db.scalar(select(Profile.bio).where(Profile.did == repo.did))
            if found == bio:
                return
            await asyncio.sleep(0.1)
    raise AssertionError("the firehose follower never indexed a record")


async def put_blob(repo: RepoClient, data: bytes, mime: str) -> dict[str, Any]:
    """Upload a blob; its reference, typed as the PDS typed it (it refuses a record whose
    reference names another type than the stored blob's)."""
    return await repo.upload_blob(data, mime)


def track_fields(title: str, **fields: Any) -> dict[str, Any]:
    return {"title": title, "artist": "carol", "fileType": "mp3", "createdAt": now(), **fields}


async def put_track(
    plyr: PlyrServer, repo: RepoClient, record: dict[str, Any], rkey: str = ""
) -> str:
    """Write a track record (not validated here: the PDS does not know plyr's lexicons
    either); its rkey."""
    rkey = rkey or next_tid()
    await repo.put_record(f"{plyr.settings.atproto_namespace}.track", rkey, record)
    return rkey


async def track_row(plyr: PlyrServer, did: str, rkey: str) -> Track | None:
    async with plyr.runtime.sessions() as db:
        return await db.scalar(select(Track).where(Track.artist_did == did, Track.rkey == rkey))


async def settled(
    plyr: PlyrServer, did: str, rkey: str, *, seconds: float = 45, **wanted: Any
) -> Track:
    """The track once its audio is no longer pending and its columns are as `wanted`."""

    async def check() -> Track | None:
        row = await track_row(plyr, did, rkey)
        if row is None or row.audio_state == "pending":
            return None
        if any(getattr(row, name) != value for name, value in wanted.items()):
            return None
        return row

    return await eventually(check, seconds)


async def plays(plyr: PlyrServer, track_id: int) -> bytes:
    """The track's audio through the app, as a player asks for it: a range, then whole."""
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
        part = await http.get(f"/audio/{track_id}", headers={"Range": "bytes=0-99"})
        assert part.status_code == 206, part.text
        assert part.headers["content-type"].startswith("audio/")
        assert len(part.content) == 100
        whole = await http.get(f"/audio/{track_id}")
        assert whole.status_code == 200, whole.text
        assert whole.content[:100] == part.content
        return whole.content


async def stored(plyr: PlyrServer, key: str) -> bytes | None:
    if await plyr.runtime.storage.stat(key) is None:
        return None
    data = bytearray()
    async for chunk in plyr.runtime.storage.get_range(key):
        data += chunk
    return bytes(data)


def audio_notice(page: str) -> str | None:
    """The track page's notice about its audio (instead of a player), as a reader sees it."""
    found = re.search(r'<p [^>]*id="audio-notice">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)).strip() if found else None


def read(path: Path) -> bytes:
    return path.read_bytes()

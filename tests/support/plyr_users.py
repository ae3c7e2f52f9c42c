"""Signed-in users for tests against a running plyr: sign in through the real PDS in
Chromium once, then call plyr's API with the cookie and CSRF token as a browser would."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
from playwright.async_api import Browser
from sqlalchemy import update

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME, csrf_token
from plyr.db.models import AuthSession
from tests.support.browser import sign_in_to_plyr
from tests.support.plyr_server import PlyrServer
from tests.support.sign_in_tab import sign_in_tab


@dataclass
class SignedIn:
    handle: str
    did: str
    cookie: str
    csrf: str

    @property
    def session_id(self) -> str:
        return hashlib.sha256(self.cookie.encode()).hexdigest()

    def client(self, plyr: PlyrServer) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=plyr.url,
            cookies={COOKIE_NAME: self.cookie},
            headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"},
            timeout=30,
        )


async def sign_in(browser: Browser, plyr: PlyrServer, net: Network, handle: str) -> SignedIn:
    async with sign_in_tab(browser) as page:
        cookie = await sign_in_to_plyr(page, plyr.url, handle, net.account(handle).password)
    session_id = hashlib.sha256(cookie.encode()).hexdigest()
    return SignedIn(
        handle,
        net.account(handle).did,
        cookie,
        csrf_token(plyr.settings.secret_key_bytes(), session_id),
    )


async def upload(
    http: httpx.AsyncClient,
    path: Path,
    *,
    image: Path | None = None,
    **fields: str,
) -> httpx.Response:
    audio = await anyio.Path(path).read_bytes()
    files: dict[str, Any] = {"file": (path.name, audio, "application/octet-stream")}
    if image is not None:
        picture = await anyio.Path(image).read_bytes()
        files["image"] = (image.name, picture, "application/octet-stream")
    return await http.post("/api/tracks", data=fields, files=files)


async def upload_published(
    http: httpx.AsyncClient,
    path: Path,
    *,
    image: Path | None = None,
    wait_seconds: float = 60,
    **fields: str,
) -> dict[str, Any]:
    """Upload a file and wait until its record is in the PDS; returns the track."""
    accepted = await upload(http, path, image=image, **fields)
    assert accepted.status_code == 202, accepted.text
    upload_id = accepted.json()["upload_id"]
    async with asyncio.timeout(wait_seconds):
        while True:
            status = (await http.get(f"/api/uploads/{upload_id}")).json()
            assert status["phase"] != "failed", status
            if status.get("track_id") and status["done"]:
                track = (await http.get(f"/api/tracks/{status['track_id']}")).json()
                if track["publish_state"] == "published":
                    return dict(track)
            await asyncio.sleep(0.1)


async def public_record(net: Network, uri: str) -> dict[str, Any] | None:
    """Read a record from the PDS as any other client would (no auth); None when absent."""
    did, collection, rkey = uri.removeprefix("at://").split("/")
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{net.pds_url}/xrpc/com.atproto.repo.getRecord",
            params={"repo": did, "collection": collection, "rkey": rkey},
        )
    if response.status_code == 400 and "RecordNotFound" in response.text:
        return None
    response.raise_for_status()
    return dict(response.json())


async def point_sessions_at(plyr: PlyrServer, did: str, pds_url: str) -> None:
    """Aim a user's sessions at another PDS address (a dead port makes the PDS unreachable
    for plyr alone, without stopping the shared one)."""
    async with plyr.runtime.sessions() as db:
        await db.execute(update(AuthSession).where(AuthSession.did == did).values(pds_url=pds_url))
        await db.commit()

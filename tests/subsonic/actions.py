"""What the tests of Subsonic's actions (stars, playlists, scrobbles) share: raw calls with
repeated parameters, records read from the PDS as any client reads them, plyr's web API's
view of a track, and listeners of their own (a fresh account on the local PDS, so a test
may sign it out everywhere or turn scrobbling on without touching Alice, Bob or Carol)."""

from __future__ import annotations

import asyncio
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from playwright.async_api import Browser
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME, csrf_token, end_session, hash_secret
from plyr.db.models import AuthSession
from tests.subsonic.schema import CLIENT, checked_xml
from tests.support.browser import sign_in_at_pds, sign_in_to_plyr
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn
from tests.support.sign_in_tab import sign_in_tab

Pairs = Sequence[tuple[str, str]]


def song(track_id: int) -> str:
    return f"tr-{track_id}"


async def xml_pairs(http: httpx.AsyncClient, method: str, pairs: Pairs) -> ET.Element:
    """A form POST with repeated parameters (as players send id lists); the XML answer,
    schema-checked."""
    response = await http.post(
        f"/rest/{method}.view",
        content=urlencode([*CLIENT.items(), *pairs]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    return checked_xml(response.content)


async def pds_records(net: Network, did: str, collection: str) -> list[dict[str, Any]]:
    """The collection's records in the repository, as any client lists them (no auth)."""
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(
            f"{net.pds_url}/xrpc/com.atproto.repo.listRecords",
            params={"repo": did, "collection": collection, "limit": 100},
        )
    response.raise_for_status()
    return list(response.json()["records"])


async def records_when(
    net: Network,
    did: str,
    collection: str,
    check: Callable[[list[dict[str, Any]]], bool],
    seconds: float = 30,
) -> list[dict[str, Any]]:
    """Poll the collection until `check` holds for its records."""
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                found = await pds_records(net, did, collection)
                if check(found):
                    return found
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"{collection} of {did} never matched: {found}") from None


def likes_of(records: list[dict[str, Any]], track_uri: str) -> list[dict[str, Any]]:
    return [r for r in records if r["value"]["subject"]["uri"] == track_uri]


async def web_track(plyr: PlyrServer, track_id: int) -> dict[str, Any]:
    """The track as plyr's JSON API shows it (uri, cid, play_count…)."""
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
        response = await http.get(f"/api/tracks/{track_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


@dataclass(frozen=True)
class Listener:
    """A fresh account: its handle, DID and PDS password, and its plyr sign-in."""

    handle: str
    did: str
    password: str
    signed_in: SignedIn


async def create_account(net: Network, prefix: str) -> tuple[str, str, str]:
    handle = f"{prefix}{secrets.token_hex(3)}.test"
    password = secrets.token_urlsafe(12)
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{net.pds_url}/xrpc/com.atproto.server.createAccount",
            json={"handle": handle, "password": password, "email": f"{handle}@example.com"},
        )
    assert response.status_code == 200, response.text
    return handle, response.json()["did"], password


async def browser_sign_in(
    browser: Browser, plyr: PlyrServer, handle: str, password: str, *, scrobbling: bool = False
) -> SignedIn:
    """Sign in to plyr in the browser's sign-in tab (and turn teal.fm scrobbling on in
    settings, a scope upgrade at the PDS, when asked)."""
    async with sign_in_tab(browser) as page:
        cookie = await sign_in_to_plyr(page, plyr.url, handle, password)
        if scrobbling:
            await page.goto(f"{plyr.url}/settings")
            await page.get_by_role("button", name="turn scrobbling on").click()
            await sign_in_at_pds(page, handle=handle, password=password)
            await page.wait_for_url(re.compile(re.escape(f"{plyr.url}/settings")))
            await page.get_by_role("button", name="turn scrobbling off").wait_for()
            cookies = await page.context.cookies()
            cookie = next(c["value"] for c in cookies if c["name"] == COOKIE_NAME)
    did = (await plyr_did(plyr, cookie)) or ""
    csrf = csrf_token(plyr.settings.secret_key_bytes(), hash_secret(cookie))
    return SignedIn(handle, did, cookie, csrf)


async def plyr_did(plyr: PlyrServer, cookie: str) -> str | None:
    async with plyr.runtime.sessions() as db:
        row = await db.get(AuthSession, hash_secret(cookie))
        return row.did if row is not None else None


async def new_listener(
    browser: Browser, plyr: PlyrServer, net: Network, prefix: str, *, scrobbling: bool = False
) -> Listener:
    """A new account on the local PDS, signed in to plyr."""
    handle, did, password = await create_account(net, prefix)
    signed_in = await browser_sign_in(browser, plyr, handle, password, scrobbling=scrobbling)
    assert signed_in.did == did
    return Listener(handle, did, password, signed_in)


async def sign_out_everywhere(plyr: PlyrServer, did: str) -> None:
    """End every session of `did` (browsers and developer tokens), as signing out of each
    would: plyr then holds no grant to write with."""
    async with plyr.runtime.sessions() as db:
        ids = list(
            (await db.execute(select(AuthSession.id).where(AuthSession.did == did))).scalars()
        )
    for session_id in ids:
        await end_session(plyr.runtime, session_id)

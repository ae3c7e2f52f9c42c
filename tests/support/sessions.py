"""Sessions in the sign-in tests: sign a page in, read its cookie, the sessions plyr stored."""

from __future__ import annotations

import httpx
from playwright.async_api import Page
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME
from plyr.db.models import AuthSession, SessionKind
from plyr.runtime import Runtime
from tests.support.browser import sign_in_to_plyr
from tests.support.plyr_server import PlyrServer


async def sign_in(page: Page, plyr: PlyrServer, net: Network, handle: str = "alice.test") -> None:
    """Sign the page in to plyr through the PDS's own pages."""
    await sign_in_to_plyr(page, plyr.url, handle, net.account(handle).password)


async def cookie_of(page: Page) -> str:
    """The page's plyr session cookie."""
    for cookie in await page.context.cookies():
        if cookie["name"] == COOKIE_NAME:
            return cookie["value"]
    raise AssertionError("no session cookie")


async def only_session(runtime: Runtime, kind: SessionKind = SessionKind.browser) -> AuthSession:
    """The one stored session of this kind (fails when there are none or several)."""
    async with runtime.sessions() as db:
        rows = (await db.execute(select(AuthSession).where(AuthSession.kind == kind))).scalars()
        found = list(rows)
    assert len(found) == 1, found
    return found[0]


def client_for(plyr: PlyrServer, cookie: str | None = None) -> httpx.AsyncClient:
    """A client for plyr, with a session cookie when given one; redirects not followed."""
    cookies = {COOKIE_NAME: cookie} if cookie else None
    return httpx.AsyncClient(base_url=plyr.url, cookies=cookies, follow_redirects=False)


async def auth_sessions(runtime: Runtime, kind: SessionKind) -> list[AuthSession]:
    """The stored sessions of one kind (browser sign-ins or developer tokens)."""
    async with runtime.sessions() as db:
        rows = await db.execute(select(AuthSession).where(AuthSession.kind == kind))
        return list(rows.scalars())

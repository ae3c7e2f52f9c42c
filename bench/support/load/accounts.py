"""Uploaders: accounts on the local PDS, signed in to plyr through its real sign-in in
headless Chromium (as the tests do); each becomes an HTTP client with the session cookie
and CSRF token a browser would send."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from tests.support.browser import launch_browser, sign_in_to_plyr

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME, csrf_token
from support.load.stats import client_limits


def uploader_accounts(count: int) -> tuple[tuple[str, str], ...]:
    return tuple((f"uploader{n}.test", f"uploader{n}-password") for n in range(count))


async def signed_in_clients(
    base_url: str, data_dir: Path, net: Network, handles: list[str]
) -> list[httpx.AsyncClient]:
    secret = (data_dir / "secret.key").read_text().strip().encode()
    clients = []
    async with launch_browser() as browser:
        for handle in handles:
            context = await browser.new_context()
            page = await context.new_page()
            cookie = await sign_in_to_plyr(page, base_url, handle, net.account(handle).password)
            await context.close()
            csrf = csrf_token(secret, hashlib.sha256(cookie.encode()).hexdigest())
            clients.append(
                httpx.AsyncClient(
                    base_url=base_url,
                    cookies={COOKIE_NAME: cookie},
                    headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
                    timeout=120,
                    # A few requests each, seconds apart: a new connection each time.
                    limits=client_limits(4, keep_alive=False),
                )
            )
    return clients

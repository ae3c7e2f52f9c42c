"""Developer tokens: made through the PDS from the settings page, used as Bearer, revoked."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from plyr.atproto.devnet import Network
from plyr.auth.sessions import fresh_grant
from plyr.db.models import SessionKind
from tests.support.browser import sign_in_at_pds
from tests.support.plyr_server import PlyrServer
from tests.support.sessions import auth_sessions, client_for, cookie_of, only_session, sign_in

pytestmark = pytest.mark.browser


async def test_developer_tokens_create_use_revoke(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await sign_in(page, plyr, atproto_net)
    password = atproto_net.account("alice.test").password
    tokens: list[str] = []
    for name in ("ci", "laptop"):
        await page.goto(f"{plyr.url}/settings")
        await page.get_by_label("name (optional)").fill(name)
        await page.get_by_label("expires").select_option("30")
        await page.get_by_role("button", name="create a token").click()
        await sign_in_at_pds(page, handle="alice.test", password=password)
        await page.wait_for_url(f"{plyr.url}/oauth/callback?*")
        assert await page.get_by_text("this is the only time plyr shows it").is_visible()
        token = await page.get_by_role("textbox", name="token").input_value()
        assert token.startswith("plyr_")
        tokens.append(token)

    async with client_for(plyr) as http:
        for token in tokens:
            me = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200
            assert me.json()["handle"] == "alice.test"
            assert me.json()["via"] == "token"
        listed = await http.get("/api/tokens", headers={"Authorization": f"Bearer {tokens[0]}"})
        assert sorted(t["name"] for t in listed.json()) == ["ci", "laptop"]
        assert all(tokens[0] not in str(t) for t in listed.json())  # never the secret

    # A token is its own grant: it writes to the PDS with its own DPoP key.
    token_session = next(
        s for s in await auth_sessions(plyr.runtime, SessionKind.dev_token) if s.name == "ci"
    )
    browser_session = await only_session(plyr.runtime)
    assert token_session.secrets != browser_session.secrets
    assert (await fresh_grant(plyr.runtime, token_session.id)).dpop_key.thumbprint() != (
        await fresh_grant(plyr.runtime, browser_session.id)
    ).dpop_key.thumbprint()

    # Revoke "ci" from the settings page: it stops working; the rest does not.
    await page.goto(f"{plyr.url}/settings")
    await page.get_by_role("button", name="revoke ci").click()
    revoked = page.get_by_role("status").filter(has_text="the token was revoked.")
    await expect(revoked.first).to_be_visible()
    async with client_for(plyr) as http:
        gone = await http.get("/api/me", headers={"Authorization": f"Bearer {tokens[0]}"})
        assert gone.status_code == 401
        kept = await http.get("/api/me", headers={"Authorization": f"Bearer {tokens[1]}"})
        assert kept.status_code == 200
    async with client_for(plyr, await cookie_of(page)) as http:
        assert (await http.get("/api/me")).status_code == 200

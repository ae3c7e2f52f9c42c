"""What must not sign anyone in: denied consent, bad handles, forged or replayed callbacks, CSRF."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Page
from sqlalchemy import select, update

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME, SessionEnded, csrf_token, fresh_grant
from plyr.db.models import AuthSession, OAuthRequest, SessionKind, utcnow
from plyr.runtime import Runtime
from tests.support.browser import sign_in_at_pds, start_sign_in, wait_for_redirect
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.sessions import auth_sessions, client_for, cookie_of, only_session, sign_in

pytestmark = pytest.mark.browser


def csrf(plyr: PlyrServer, session: AuthSession) -> str:
    return csrf_token(plyr.settings.secret_key_bytes(), session.id)


async def test_user_who_denies_consent_gets_a_message_and_no_session(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await start_sign_in(page, plyr.url, "alice.test")
    await sign_in_at_pds(
        page,
        handle="alice.test",
        password=atproto_net.account("alice.test").password,
        consent=False,
    )
    await page.wait_for_url(f"{plyr.url}/oauth/callback?*")
    assert "you did not authorize plyr" in await page.get_by_role("alert").inner_text()
    assert await auth_sessions(plyr.runtime, SessionKind.browser) == []
    assert await _pending(plyr.runtime) == []


async def _pending(runtime: Runtime) -> list[OAuthRequest]:
    async with runtime.sessions() as db:
        return list((await db.execute(select(OAuthRequest))).scalars())


@pytest.mark.parametrize(
    ("handle", "message", "status"),
    [
        ("nobody.test", "nobody.test", 400),
        ("not a handle!", "handle", 400),
        ("http://127.0.0.1:9", "cannot reach", 502),
    ],
)
async def test_bad_handles_and_dead_pds_get_a_clear_message(
    plyr: PlyrServer, handle: str, message: str, status: int
) -> None:
    async with client_for(plyr) as http:
        response = await http.post("/login", data={"handle": handle})
    assert response.status_code == status
    assert message in response.text.lower()
    assert 'role="alert"' in response.text
    assert await _pending(plyr.runtime) == []


async def test_tampered_state_and_wrong_issuer_are_refused(plyr: PlyrServer) -> None:
    async with client_for(plyr) as http:
        started = await http.post("/login", data={"handle": "alice.test"})
        assert started.status_code == 303
        [pending] = await _pending(plyr.runtime)
        forged = await http.get(
            "/oauth/callback", params={"state": "forged", "code": "cod-x", "iss": pending.issuer}
        )
        assert forged.status_code == 400
        assert "expired or was already used" in forged.text
        wrong = await http.get(
            "/oauth/callback",
            params={"state": pending.state, "code": "cod-x", "iss": "https://evil.example"},
        )
        assert wrong.status_code == 400
        assert "wrong server" in wrong.text
        # The state was spent by that attempt: it cannot be retried with the right issuer.
        again = await http.get(
            "/oauth/callback",
            params={"state": pending.state, "code": "cod-x", "iss": pending.issuer},
        )
        assert "expired or was already used" in again.text
    assert await auth_sessions(plyr.runtime, SessionKind.browser) == []


async def test_replayed_callback_is_refused(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await start_sign_in(page, plyr.url, "alice.test")
    await sign_in_at_pds(
        page, handle="alice.test", password=atproto_net.account("alice.test").password
    )
    callback = await wait_for_redirect(page, f"{plyr.url}/oauth/callback")
    await page.wait_for_url(f"{plyr.url}/")
    assert parse_qs(urlsplit(callback).query)["code"]
    async with client_for(plyr) as http:
        replay = await http.get(callback.removeprefix(plyr.url))
    assert replay.status_code == 400
    assert COOKIE_NAME not in replay.cookies
    assert len(await auth_sessions(plyr.runtime, SessionKind.browser)) == 1


async def test_expired_session_signs_out(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await sign_in(page, plyr, atproto_net)
    session = await only_session(plyr.runtime)
    async with plyr.runtime.sessions() as db:
        await db.execute(
            update(AuthSession)
            .where(AuthSession.id == session.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    await page.goto(f"{plyr.url}/settings")
    await page.wait_for_url(f"{plyr.url}/login?next=%2Fsettings")
    assert await auth_sessions(plyr.runtime, SessionKind.browser) == []
    with pytest.raises(SessionEnded):
        await fresh_grant(plyr.runtime, session.id)


async def test_csrf_and_another_users_cookie(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await sign_in(page, plyr, atproto_net, "alice.test")
    alice_cookie = await cookie_of(page)
    alice = await only_session(plyr.runtime)
    await page.context.clear_cookies()
    await sign_in(page, plyr, atproto_net, "bob.test")
    bob_cookie = await cookie_of(page)
    bob = next(
        s for s in await auth_sessions(plyr.runtime, SessionKind.browser) if s.id != alice.id
    )

    async with client_for(plyr, alice_cookie) as http:
        # A mutation without the session's CSRF token is refused and changes nothing.
        refused = await http.post("/logout", headers={"Accept": "application/json"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        assert (await http.get("/api/me")).status_code == 200
        # Bob's CSRF token does not work with Alice's cookie.
        borrowed = await http.post("/logout", data={"csrf_token": csrf(plyr, bob)})
        assert borrowed.status_code == 403
        # A cross-site sign-in form post is refused.
        cross = await http.post(
            "/login", data={"handle": "alice.test"}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403

    # Bob cannot revoke Alice's sessions or tokens: the id is looked up among his own.
    async with client_for(plyr, bob_cookie) as http:
        response = await http.post(
            f"/settings/tokens/{alice.id[:16]}/revoke", data={"csrf_token": csrf(plyr, bob)}
        )
        assert response.status_code == 404
        assert (await http.get("/api/me")).json()["handle"] == "bob.test"
    async with client_for(plyr, alice_cookie) as http:
        assert (await http.get("/api/me")).json()["handle"] == "alice.test"


async def test_sign_in_is_rate_limited_per_address(plyr: PlyrServer) -> None:
    limited = plyr.settings.model_copy(update={"rate_limit_sign_in_per_minute": 2})
    async with running_plyr(limited) as server, client_for(server) as http:
        codes = [
            (await http.post("/login", data={"handle": "nobody.test"})).status_code
            for _ in range(3)
        ]
        assert codes == [400, 400, 429]

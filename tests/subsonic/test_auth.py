"""Signing in over Subsonic: an API key (a developer token), the app password as a token
(`t` = md5(password + salt)) or as `p` (plain or `enc:` hex), by handle or DID; each wrong
or muddled attempt gets the spec's code (40, 43, 44, 10); failures are throttled per
address and per user; the app password is made on the settings page, replaced, removed,
and sealed in the database."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time

import pytest
from libopensonic import errors
from playwright.async_api import Browser
from sqlalchemy import update
from xmlschema import XMLSchemaValidationError

from plyr.atproto.devnet import Network
from plyr.auth import subsonic_passwords
from plyr.db.models import Artist, SubsonicPassword
from tests.subsonic.conftest import SIGN_IN_LIMIT, make_app_password, opensonic, raw
from tests.subsonic.schema import call, checked_xml, error_code, json_call, xml_call
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, sign_in


async def test_an_api_key_signs_in(plyr: PlyrServer, alice_key: str) -> None:
    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert await sonic.ping()
        assert (await sonic.token_info()).username == "alice.test"
        user = await sonic.get_user("alice.test")
    assert user.username == "alice.test"
    assert user.stream_role
    assert user.download_role
    assert user.playlist_role
    assert not user.admin_role
    assert not user.settings_role
    assert user.folder == [1]


@pytest.mark.parametrize("use_get", [False, True], ids=["form-post", "get"])
async def test_the_app_password_as_a_salted_token(
    plyr: PlyrServer, alice_password: str, use_get: bool
) -> None:
    async with opensonic(
        plyr, username="alice.test", password=alice_password, use_get=use_get
    ) as sonic:
        assert await sonic.ping()
        license = await sonic.get_license()
    assert license["license"]["valid"] is True


async def test_the_app_password_in_clear_and_hex(plyr: PlyrServer, alice_password: str) -> None:
    async with opensonic(
        plyr, username="alice.test", password=alice_password, legacy_auth=True
    ) as sonic:  # p=enc:<hex>
        assert await sonic.ping()
    async with raw(plyr) as http:
        _, root = await xml_call(http, "ping", {"u": "alice.test", "p": alice_password})
        assert error_code(root) is None
        hexed = "enc:" + alice_password.encode().hex()
        _, answer = await json_call(
            http, "getUser", {"u": "alice.test", "p": hexed, "username": "alice.test"}
        )
        assert answer["status"] == "ok"
        assert answer["user"]["username"] == "alice.test"


async def test_the_did_and_any_case_name_the_same_user(
    plyr: PlyrServer, alice: SignedIn, alice_password: str
) -> None:
    salt = "c19b2d"
    token = hashlib.md5((alice_password + salt).encode()).hexdigest()  # noqa: S324
    async with raw(plyr) as http:
        for username in (alice.did, "Alice.Test", "@alice.test"):
            _, answer = await json_call(
                http,
                "getUser",
                {"u": username, "t": token.upper(), "s": salt, "username": alice.did},
            )
            assert answer["status"] == "ok", (username, answer)
            assert answer["user"]["username"] == "alice.test"


async def test_a_wrong_password_or_user_is_40(plyr: PlyrServer, alice_password: str) -> None:
    async with opensonic(plyr, username="alice.test", password="nope-" + alice_password) as sonic:
        with pytest.raises(errors.CredentialError):
            await sonic.ping()
    async with raw(plyr) as http:
        for params in (
            {"u": "alice.test", "p": alice_password[:-1]},
            {"u": "nobody.test", "p": alice_password},  # no such user: the same answer
            {"u": "alice.test", "p": "enc:zz"},  # not hex
            {"u": "alice.test", "t": "0" * 32, "s": "abcdef"},
        ):
            response, root = await xml_call(http, "ping", params)
            assert response.status_code == 200
            assert error_code(root) == 40, params
            help_url = root[0].attrib["helpUrl"]
            assert help_url == f"{plyr.url}/settings#subsonic-heading"


async def test_a_bad_api_key_is_44(plyr: PlyrServer, alice: SignedIn) -> None:
    async with opensonic(plyr, api_key="plyr_" + "x" * 43) as sonic:
        with pytest.raises(errors.SonicError, match="invalid api key"):
            await sonic.ping()
    async with raw(plyr) as http:
        # A browser session's cookie is a secret too, but no API key.
        for key in (alice.cookie, "plyr_unknown", ""):
            _, root = await xml_call(http, "ping", {"apiKey": key})
            assert error_code(root) == 44, key


async def test_conflicting_mechanisms_are_43(
    plyr: PlyrServer, alice_key: str, alice_password: str
) -> None:
    async with raw(plyr) as http:
        for params in (
            {"apiKey": alice_key, "u": "alice.test"},
            {"apiKey": alice_key, "p": alice_password},
            {"apiKey": alice_key, "t": "0" * 32, "s": "abcdef"},
            {"u": "alice.test", "p": alice_password, "t": "0" * 32, "s": "abcdef"},
        ):
            _, root = await xml_call(http, "ping", params)
            assert error_code(root) == 43, params
        _, answer = await json_call(http, "ping", {"apiKey": alice_key, "u": "alice.test"})
        assert answer["error"]["code"] == 43


async def test_missing_credentials_are_10(plyr: PlyrServer) -> None:
    async with raw(plyr) as http:
        for params, named in (
            ({}, "u"),
            ({"u": "alice.test"}, "t"),
            ({"u": "alice.test", "t": "0" * 32}, "s"),
        ):
            _, root = await xml_call(http, "ping", params)
            assert error_code(root) == 10
            assert named in root[0].attrib["message"]


async def test_an_app_password_is_made_replaced_and_removed(
    plyr: PlyrServer, browser: Browser, atproto_net: Network
) -> None:
    bob = await sign_in(browser, plyr, atproto_net, "bob.test")
    async with raw(plyr) as http:
        _, root = await xml_call(http, "ping", {"u": "bob.test", "p": "anything"})
        assert error_code(root) == 40  # none made yet

        first = await make_app_password(plyr, bob)
        assert re.fullmatch(r"([a-z2-9]{4}-){4}[a-z2-9]{4}", first)
        _, root = await xml_call(http, "ping", {"u": "bob.test", "p": first})
        assert error_code(root) is None

        # Sealed: neither the password nor anything derived from it alone is in the row.
        async with plyr.runtime.sessions() as db:
            row = await db.get(SubsonicPassword, bob.did)
        assert row is not None
        assert row.last_used_at is not None
        assert first.encode() not in row.sealed
        assert hashlib.sha256(first.encode()).hexdigest().encode() not in row.sealed
        status = await subsonic_passwords.password_status(plyr.runtime, bob.did)
        assert status is not None
        assert status.created_at == row.created_at

        second = await make_app_password(plyr, bob)
        assert second != first
        _, root = await xml_call(http, "ping", {"u": "bob.test", "p": first})
        assert error_code(root) == 40
        _, root = await xml_call(http, "ping", {"u": "bob.test", "p": second})
        assert error_code(root) is None

        # A new handle (as plyr learns it from the DID document) works at once; the old
        # one stops; the DID works throughout.
        await _rename(plyr, bob.did, "bobby.test")
        try:
            for username, code in (("bob.test", 40), ("bobby.test", None), (bob.did, None)):
                _, root = await xml_call(http, "ping", {"u": username, "p": second})
                assert error_code(root) == code, username
        finally:
            await _rename(plyr, bob.did, "bob.test")

        async with bob.client(plyr) as browser_http:
            removed = await browser_http.post(
                "/settings/subsonic/password/remove", data={"csrf_token": bob.csrf}
            )
        assert removed.status_code == 303
        assert removed.headers["location"] == "/settings?done=subsonic-removed"
        _, root = await xml_call(http, "ping", {"u": "bob.test", "p": second})
        assert error_code(root) == 40
    assert await subsonic_passwords.password_status(plyr.runtime, bob.did) is None


async def _rename(plyr: PlyrServer, did: str, handle: str) -> None:
    async with plyr.runtime.sessions() as db:
        await db.execute(update(Artist).where(Artist.did == did).values(handle=handle))
        await db.commit()


async def test_the_settings_form_needs_the_csrf_token(
    plyr: PlyrServer, alice: SignedIn, alice_password: str
) -> None:
    before = await subsonic_passwords.password_status(plyr.runtime, alice.did)
    async with alice.client(plyr) as http:
        response = await http.post(
            "/settings/subsonic/password", data={}, headers={"X-CSRF-Token": ""}
        )
        assert response.status_code == 403
        response = await http.post(
            "/settings/subsonic/password/remove", data={}, headers={"X-CSRF-Token": ""}
        )
        assert response.status_code == 403
    assert before is not None
    assert await subsonic_passwords.password_status(plyr.runtime, alice.did) == before
    async with raw(plyr) as http:
        _, root = await xml_call(http, "ping", {"u": "alice.test", "p": alice_password})
        assert error_code(root) is None


async def _a_fresh_window(seconds_needed: float = 20) -> None:
    """Start where the current minute (the throttle's window) has time left."""
    left = 60 - time.time() % 60
    if left < seconds_needed:
        await asyncio.sleep(left + 0.5)


async def test_failed_sign_ins_are_throttled_per_address_and_per_user(
    plyr: PlyrServer, alice_password: str
) -> None:
    right = {"u": "alice.test", "p": alice_password}
    await _a_fresh_window()
    # One address failing for many (made-up) users...
    async with raw(plyr, "127.0.0.2") as http:
        for n in range(SIGN_IN_LIMIT):
            _, root = await xml_call(http, "ping", {"u": f"nobody{n}.test", "p": "guess"})
            assert error_code(root) == 40
        # ...is refused from then on, the right password too, before it is checked.
        response, root = await xml_call(http, "ping", right)
        assert response.status_code == 429
        assert error_code(root) == 0
        assert 0 < int(response.headers["retry-after"]) <= 60
        response = await call(http, "ping", {**right, "f": "json"})
        assert response.status_code == 429
        assert response.json()["subsonic-response"]["error"]["code"] == 0
    async with raw(plyr, "127.0.0.3") as http:
        _, root = await xml_call(http, "ping", right)
        assert error_code(root) is None  # another address is not
    # A user failed for from many addresses: wrong guesses get 429 from any address, but
    # the right password still signs in (a public handle must not be a switch to lock a
    # user's players out).
    # (Other tests' failures for alice may share the window: count up to the first 429.)
    codes = []
    for n in range(SIGN_IN_LIMIT + 1):
        async with raw(plyr, f"127.0.1.{n + 1}") as http:
            response, root = await xml_call(http, "ping", {"u": "alice.test", "p": "guess"})
        codes.append((response.status_code, error_code(root)))
        if response.status_code == 429:
            break
    assert codes[-1] == (429, 0)
    assert set(codes[:-1]) == {(200, 40)}
    async with raw(plyr, "127.0.0.4") as http:
        response, root = await xml_call(http, "ping", {"u": "Alice.Test", "p": "guess"})
        assert response.status_code == 429
        _, root = await xml_call(http, "ping", right)
        assert error_code(root) is None


def test_the_schema_check_can_fail() -> None:
    """The checker refuses what the schemas refuse."""
    good = (
        b'<subsonic-response xmlns="http://subsonic.org/restapi" status="ok" version="1.16.1"'
        b' type="plyr" serverVersion="1" openSubsonic="true"/>'
    )
    checked_xml(good)
    with pytest.raises(XMLSchemaValidationError, match="openSubsonic"):
        checked_xml(good.replace(b' openSubsonic="true"', b""))
    with pytest.raises(XMLSchemaValidationError, match="bogus"):
        checked_xml(good.replace(b"/>", b' bogus="1"/>'))

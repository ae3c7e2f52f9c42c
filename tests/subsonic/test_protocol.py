"""The Subsonic protocol around the methods: `/rest/{method}` with or without `.view`, GET
and form POST (merged with the query), XML by default and JSON with `f=json` from the same
answer, jsonp and unknown formats refused, unknown methods, the protocol version and client
name, the public getOpenSubsonicExtensions, and the first methods (ping, getLicense,
getMusicFolders, getUser, tokenInfo) in both formats, every XML answer schema-checked."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from libopensonic import errors

from plyr import __version__
from tests.subsonic.conftest import opensonic, raw
from tests.subsonic.schema import NS, call, checked_xml, child, error_code, json_call, xml_call
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn

EXTENSIONS = {
    "apiKeyAuthentication": [1],
    "formPost": [1],
    "transcodeOffset": [1],
    "songLyrics": [1],
}


def _token(password: str, salt: str = "a1b2c3d4") -> dict[str, str]:
    return {"t": hashlib.md5((password + salt).encode()).hexdigest(), "s": salt}  # noqa: S324


async def test_the_json_envelope(plyr: PlyrServer, alice_password: str) -> None:
    async with raw(plyr) as http:
        response, answer = await json_call(http, "ping", {"u": "alice.test", "p": alice_password})
    assert answer == {
        "status": "ok",
        "version": "1.16.1",
        "type": "plyr",
        "serverVersion": __version__,
        "openSubsonic": True,
    }
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "no-store"


async def test_xml_and_json_say_the_same(plyr: PlyrServer, alice_password: str) -> None:
    """One description, two serialisations: the JSON is the XML's mapping."""
    credentials = {"u": "alice.test", "p": alice_password}
    async with raw(plyr) as http:
        for method, extra in (
            ("getLicense", {}),
            ("getMusicFolders", {}),
            ("getUser", {"username": "alice.test"}),
            ("getOpenSubsonicExtensions", {}),
        ):
            _, root = await xml_call(http, method, {**credentials, **extra})
            _, answer = await json_call(http, method, {**credentials, **extra})
            assert _as_json(root) == answer, method


def _as_json(element: ET.Element) -> dict[str, Any]:
    """The JSON mapping of an XML element, typed by what plyr's answers hold."""
    out: dict[str, Any] = {key: _typed(value) for key, value in element.attrib.items()}
    for item in element:
        name = item.tag.removeprefix(f"{{{NS}}}")
        value: Any = (
            _typed(item.text or "") if not len(item) and not item.attrib else _as_json(item)
        )
        if name in {"musicFolder", "folder", "versions", "openSubsonicExtensions"}:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _typed(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    return int(text) if text.isdigit() else text


async def test_the_first_methods_through_py_opensonic(
    plyr: PlyrServer, alice_password: str
) -> None:
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        assert await sonic.ping()
        assert (await sonic.get_license())["license"] == {"valid": True}
        extensions = await sonic.get_open_subsonic_extensions()
        assert {e.name: e.versions for e in extensions} == EXTENSIONS
        user = await sonic.get_user("alice.test")
        assert user.username == "alice.test"
        assert user.scrobbling_enabled
        with pytest.raises(errors.AuthError):  # 50: only one's own user
            await sonic.get_user("bob.test")
        with pytest.raises(errors.ParameterError):  # 10: tokenInfo describes an api key
            await sonic.token_info()
    # py-opensonic 10.4.1 reads getMusicFolders' `musicFolders` as a list, which it is in
    # no server's answer; the JSON is checked raw instead.
    async with raw(plyr) as http:
        _, answer = await json_call(
            http, "getMusicFolders", {"u": "alice.test", **_token(alice_password)}
        )
    assert answer["musicFolders"] == {"musicFolder": [{"id": 1, "name": "plyr"}]}


async def test_view_suffix_get_and_form_post_answer_alike(
    plyr: PlyrServer, alice_password: str
) -> None:
    params = {"u": "alice.test", **_token(alice_password), "username": "alice.test"}
    async with raw(plyr) as http:
        bodies = set()
        for suffix in (".view", ""):
            for post in (False, True):
                response, root = await xml_call(http, "getUser", params, suffix=suffix, post=post)
                assert error_code(root) is None
                bodies.add(response.content)
        assert len(bodies) == 1
        # Query and body merge: the client in the query, the credentials in the body.
        response = await http.post(
            "/rest/ping.view?v=1.16.1&c=plyr-tests&f=json",
            data={"u": "alice.test", "p": alice_password},
        )
        assert response.json()["subsonic-response"]["status"] == "ok"
        # A body that is no form is not read.
        response = await http.post(
            "/rest/ping.view?v=1.16.1&c=plyr-tests",
            content=f"u=alice.test&p={alice_password}",
            headers={"Content-Type": "text/plain"},
        )
        assert error_code(checked_xml(response.content)) == 10


async def test_formats(plyr: PlyrServer, alice_password: str) -> None:
    credentials = {"u": "alice.test", "p": alice_password}
    async with raw(plyr) as http:
        response = await call(http, "ping", {**credentials, "f": "jsonp", "callback": "cb"})
        assert response.headers["content-type"] == "application/json"
        error = response.json()["subsonic-response"]["error"]
        assert error["code"] == 0
        assert "jsonp" in error["message"]
        _, root = await xml_call(http, "ping", {**credentials, "f": "yaml"})
        assert error_code(root) == 0
        _, root = await xml_call(http, "ping", {**credentials, "f": "xml"})
        assert error_code(root) is None


async def test_a_method_plyr_does_not_have(plyr: PlyrServer, alice_password: str) -> None:
    async with raw(plyr) as http:
        response, root = await xml_call(http, "getVideos", {"u": "alice.test", "p": "x"})
        assert response.status_code == 404
        assert error_code(root) == 0
        assert "getVideos" in child(root, "error").attrib["message"]
        response = await call(http, "nope", {"f": "json"}, suffix="")
        assert response.status_code == 404
        assert response.json()["subsonic-response"]["error"]["code"] == 0


@pytest.mark.parametrize(
    ("client", "code"),
    [
        ({"v": None}, 10),
        ({"c": None}, 10),
        ({"v": "2.0.0"}, 30),
        ({"v": "1.17.0"}, 30),
        ({"v": "0.9.0"}, 20),
        ({"v": "latest"}, 0),
        ({"v": "1.2.0"}, None),
        ({"v": "1.16"}, None),
    ],
)
async def test_the_protocol_version_and_client_name(
    plyr: PlyrServer, alice_password: str, client: dict[str, str | None], code: int | None
) -> None:
    async with raw(plyr) as http:
        params: dict[str, Any] = {"u": "alice.test", "p": alice_password, **client}
        _, root = await xml_call(http, "ping", params)
    assert error_code(root) == code


async def test_extensions_are_public(plyr: PlyrServer) -> None:
    """OpenSubsonic: getOpenSubsonicExtensions answers without credentials (or v and c)."""
    async with raw(plyr) as http:
        _, root = await xml_call(http, "getOpenSubsonicExtensions", {"v": None, "c": None})
        found = {
            item.attrib["name"]: [int(v.text or "") for v in item]
            for item in root.findall(f"{{{NS}}}openSubsonicExtensions")
        }
        assert found == EXTENSIONS
        _, answer = await json_call(http, "getOpenSubsonicExtensions")
    assert answer["openSubsonicExtensions"] == [
        {"name": name, "versions": versions} for name, versions in EXTENSIONS.items()
    ]


async def test_get_user(plyr: PlyrServer, alice: SignedIn, alice_key: str) -> None:
    async with raw(plyr) as http:
        key = {"apiKey": alice_key}
        _, root = await xml_call(http, "getUser", {**key, "username": alice.did})
        user = child(root, "user")
        assert user.attrib["username"] == "alice.test"
        assert [f.text for f in user] == ["1"]
        _, root = await xml_call(http, "getUser", {**key, "username": "bob.test"})
        assert error_code(root) == 50
        _, root = await xml_call(http, "getUser", key)
        assert error_code(root) == 10
        _, root = await xml_call(http, "tokenInfo", key)
        assert child(root, "tokenInfo").attrib == {"username": "alice.test"}
        _, answer = await json_call(http, "tokenInfo", key)
    assert answer["tokenInfo"] == {"username": "alice.test"}

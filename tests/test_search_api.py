"""Search over HTTP: the JSON API, the page without JavaScript, the handle typeahead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from plyr.runtime import Runtime
from plyr.web.app import create_app
from tests.conftest import make_settings
from tests.support.databases import clear_tables
from tests.support.search_catalogue import add_catalogue


@pytest.fixture
async def client(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(make_settings(tmp_path, db_url), run_worker=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://plyr.test") as http,
    ):
        await add_catalogue(app.state.runtime)
        try:
            yield app, http
        finally:
            await clear_tables(app.state.runtime.engine)


async def test_search_api_shape(client: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _app, http = client
    response = await http.get("/api/search", params={"q": "radiohed"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["query"] == "radiohed"
    assert [g["type"] for g in body["groups"]] == ["tracks", "artists"]
    artist = body["groups"][1]["hits"][0]
    assert artist == {
        "type": "artist",
        "id": "did:plc:radiohead",
        "title": "Radiohead",
        "subtitle": "@radiohead.test",
        "url": "/artists/radiohead.test",
        "image_url": None,
        "score": artist["score"],
        "match": "fuzzy",
        "sensitive": False,
    }
    assert 0 < artist["score"] < 0.6
    assert body["total"] == sum(len(g["hits"]) for g in body["groups"])

    only = (await http.get("/api/search", params={"q": "bufo", "type": "playlists,artist"})).json()
    assert [g["type"] for g in only["groups"]] == ["artists", "playlists"]
    limited = (await http.get("/api/search", params={"q": "echo", "limit": 1})).json()
    assert [h["id"] for h in limited["groups"][0]["hits"]] == ["21"]

    bad = await http.get("/api/search", params={"q": "x", "type": "songs"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_input"
    assert (await http.get("/api/search", params={"q": "x", "limit": 0})).status_code == 422
    assert (await http.get("/api/search")).json() == {"query": "", "total": 0, "groups": []}

    openapi = (await http.get("/api/openapi.json")).json()
    assert "/api/search" in openapi["paths"]
    assert "/api/handles/typeahead" in openapi["paths"]


async def test_search_page_without_javascript(client: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _app, http = client
    page = await http.get("/search", params={"q": "night"}, headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.text
    assert 'action="/search"' in html
    assert 'value="night"' in html
    assert html.index(">Night<") < html.index(">Nightfall<") < html.index(">Naight<")
    assert 'href="/tracks/14"' in html
    assert 'id="search-group-artists"' in html  # nightowl.test

    empty = await http.get("/search", params={"q": "zzzzqx"})
    assert "nothing matches" in empty.text
    blank = await http.get("/search")
    assert blank.status_code == 200
    assert "typos are fine" in blank.text


async def test_handle_typeahead(
    client: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, http = client
    runtime: Runtime = app.state.runtime
    known = (await http.get("/api/handles/typeahead", params={"q": "radi"})).json()
    # both prefixes: the more played artist first
    assert [h["handle"] for h in known["handles"]] == ["radiohead.test", "radiator.test"]
    assert known["handles"][0] == {
        "did": "did:plc:radiohead",
        "handle": "radiohead.test",
        "display_name": "Radiohead",
        "avatar_url": None,
        "source": "plyr",
    }
    fuzzy = (await http.get("/api/handles/typeahead", params={"q": "@buffos"})).json()
    assert fuzzy["handles"][0]["handle"] == "bufos.test"

    from plyr.atproto.identity import DidDocument, HandleNotFound, Identity

    asked: list[str] = []

    async def resolve(identifier: str) -> Identity:
        asked.append(identifier)
        if identifier == "alice.example.com":
            document = DidDocument(
                id="did:plc:alice",
                also_known_as=("at://alice.example.com",),
                handles=("alice.example.com",),
                pds_url="https://pds.example.com",
                signing_key=None,
                raw={},
            )
            return Identity("did:plc:alice", "alice.example.com", document.pds_url, document)
        raise HandleNotFound(f"{identifier} does not resolve")

    monkeypatch.setattr(runtime.identity, "resolve", resolve)
    network = (await http.get("/api/handles/typeahead", params={"q": "alice.example.com"})).json()
    assert network["handles"] == [
        {
            "did": "did:plc:alice",
            "handle": "alice.example.com",
            "display_name": None,
            "avatar_url": None,
            "source": "network",
        }
    ]
    missing = await http.get("/api/handles/typeahead", params={"q": "nobody.example.com"})
    assert missing.status_code == 200
    assert missing.json()["handles"] == []
    # a known handle or an incomplete one is not looked up on the network
    await http.get("/api/handles/typeahead", params={"q": "bufos.test"})
    await http.get("/api/handles/typeahead", params={"q": "alic"})
    assert asked == ["alice.example.com", "nobody.example.com"]

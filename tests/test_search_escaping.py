"""Any text searches as plain text (issue 14, item 3): quotes, FTS5 syntax, LIKE wildcards,
control characters and very long input answer 200 on SQLite and PostgreSQL, through the
API, the search page and the handle typeahead, and punctuation is found literally."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from markupsafe import escape

from plyr.db.models import Artist
from plyr.search import MAX_QUERY_TEXT, clean_query, query_text
from plyr.search.scoring import normalise
from plyr.search.service import MAX_QUERY
from plyr.web.app import create_app
from tests.conftest import make_settings
from tests.support.databases import clear_tables
from tests.support.search_catalogue import add_catalogue, catalogue_track

# Titles holding the punctuation the hostile queries are made of, by track id.
PUNCTUATED = {
    101: 'it\'s "live" (*)',
    102: "NEAR(a b) - a:b ^ {x}",
    103: "100% _pure_ c:\\temp",
    104: "AND OR NOT",
    105: "🎵 night drive",
}
QUOTED_ARTIST = ("did:plc:quoted", "quoted.test", 'O\'Brien "DJ" (*)')

HOSTILE = [
    "'",
    '"',
    "*",
    "NEAR",
    "NEAR(a b)",
    "-",
    "a:b",
    "^",
    "\x00",
    "\x01",
    "ab\x00cd",
    "AND",
    "OR",
    "NOT",
    "AND OR NOT",
    "(",
    ")",
    "{",
    "}",
    "{x}",
    "%",
    "_",
    "\\",
    "c:\\temp",
    "🎵",
    'it\'s "live"',
    '"live"\x00(*)',  # NUL is a space: finds `"live" (*)`
    '\'brien "dj"',
    '""""',
    "*:^-",
    "it's " * (10_240 // 5),  # 10 kB
    "(*)" * (20_480 // 3),  # 20 kB
]


@pytest.fixture
async def client(tmp_path: Path, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(make_settings(tmp_path, db_url), run_worker=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://plyr.test") as http,
    ):
        runtime = app.state.runtime
        await add_catalogue(runtime)
        async with runtime.sessions() as session:
            did, handle, name = QUOTED_ARTIST
            session.add(Artist(did=did, handle=handle, display_name=name, pds_url="https://p.test"))
            await session.flush()
            session.add_all(
                catalogue_track(n, did, title, name, plays=1) for n, title in PUNCTUATED.items()
            )
            await session.commit()
        try:
            yield http
        finally:
            await clear_tables(runtime.engine)


def literally_in(text: str) -> list[int]:
    """The punctuated tracks whose title holds the query, as search compares them."""
    q = clean_query(text)
    return [n for n, title in PUNCTUATED.items() if q and q in normalise(title)]


def test_control_characters_and_length_are_plain() -> None:
    assert normalise("a\x00b\x01c\x7fd\x9fe\ud800f\nG") == "a b c d e f g"
    assert clean_query('  @It\'s\x00\x00"LIVE"  ') == 'it\'s "live"'
    assert query_text("x\x00y" + "z" * 20_000) == "x y" + "z" * (MAX_QUERY_TEXT - 3)
    long = clean_query("ab " * 10_000)
    assert len(long) <= MAX_QUERY
    assert long == long.strip()
    # what lies past MAX_QUERY_TEXT is never read
    assert clean_query(" " * MAX_QUERY_TEXT + "hidden") == ""


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:12]) + f"/{len(t)}")
async def test_any_text_searches_as_plain_text(client: httpx.AsyncClient, text: str) -> None:
    expected = literally_in(text)
    q = clean_query(text)

    api = await client.get("/api/search", params={"q": text, "limit": 50})
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["query"] == q
    tracks = next((g["hits"] for g in body["groups"] if g["type"] == "tracks"), [])
    found = {int(hit["id"]) for hit in tracks}
    assert set(expected) <= found, (expected, tracks)
    for hit in tracks:
        # Wildcards and syntax are characters: anything but a typo match holds the text.
        if hit["match"] != "fuzzy":
            assert q in normalise(hit["title"]) or q in normalise(hit["subtitle"] or ""), hit

    page = await client.get("/search", params={"q": text}, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text[:500]
    for n in expected:
        assert f'href="/tracks/{n}"' in page.text
    assert "\x00" not in page.text
    shown = str(escape(query_text(text)))  # the form shows the text back, bounded
    assert f'value="{shown}"' in page.text
    if len(text) > MAX_QUERY_TEXT:
        assert str(escape(text)) not in page.text

    typeahead = await client.get("/api/handles/typeahead", params={"q": text})
    assert typeahead.status_code == 200, typeahead.text
    handles = [h["handle"] for h in typeahead.json()["handles"]]
    if q and q.lstrip("@") in normalise(QUOTED_ARTIST[2]):
        assert QUOTED_ARTIST[1] in handles


async def test_punctuation_is_found_literally(client: httpx.AsyncClient) -> None:
    """The issue's example, and LIKE's wildcards matching only themselves."""
    live = (await client.get("/api/search", params={"q": 'it\'s "live"'})).json()
    assert live["groups"][0]["hits"][0]["title"] == 'it\'s "live" (*)'
    assert live["groups"][0]["hits"][0]["match"] == "prefix"
    for wildcard in ("%", "_", "\\"):
        hits = (await client.get("/api/search", params={"q": wildcard})).json()["groups"]
        titles = [hit["title"] for group in hits for hit in group["hits"]]
        assert titles == [PUNCTUATED[103]], (wildcard, titles)
    typeahead = await client.get("/api/handles/typeahead", params={"q": '\'brien "dj" (*)'})
    assert [h["handle"] for h in typeahead.json()["handles"]] == [QUOTED_ARTIST[1]]

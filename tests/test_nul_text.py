"""A NUL character in user text gets the same clear answer on both databases: PostgreSQL's
text types refuse NUL (the statement failed: a 500), SQLite would have stored it. Lookups
by such a key find nothing; text to store is refused with 422 and nothing is written.
Found by fuzzing the API on PostgreSQL (tests/test_api_fuzz.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from plyr.db.models import Artist, ListType, MusicList, Preferences, Profile, SensitiveImage
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social import lists, preferences, profiles, sensitive
from tests.conftest import make_settings
from tests.support.databases import clear_tables
from tests.support.served_app import serving

DID = "did:plc:nultextnultextnultextnul"


@pytest.mark.parametrize(
    "path",
    [
        "/api/lists?did=a%00b",
        "/api/profile/a%00b",
        "/api/users/a%00b/liked",
        "/api/now-playing/a%00b",
        "/api/now-playing/by-handle/a%00b",
        "/artists/a%00b",
        "/tags/a%00b",
    ],
)
async def test_looking_up_by_a_key_with_nul_finds_nothing(
    tmp_path: Path, db_url: str, path: str
) -> None:
    async with serving(make_settings(tmp_path, db_url)) as (app, client):
        try:
            response = await client.get(path)
        finally:
            await clear_tables(app.state.runtime.engine)
    assert response.status_code in (200, 204, 404, 422), response.text
    if response.status_code == 200:  # the tag page: no tracks carry such a tag
        assert "text/html" in response.headers["content-type"]


Store = Callable[[Runtime], Awaitable[object]]
STORES: dict[str, tuple[Store, type[object]]] = {
    "a list name": (
        lambda rt: lists.create_list(rt, DID, ListType.playlist, "road\x00trip"),
        MusicList,
    ),
    "a bio": (lambda rt: profiles.set_bio(rt, DID, "hi\x00there"), Profile),
    "a hidden tag": (
        lambda rt: preferences.update_preferences(rt, DID, {"hidden_tags": ["a\x00b"]}),
        Preferences,
    ),
    "a flag's reason": (
        lambda rt: sensitive.flag(rt, "https://images.example/x.png", "why\x00"),
        SensitiveImage,
    ),
}


@pytest.mark.parametrize("what", sorted(STORES))
async def test_text_with_nul_is_refused_and_nothing_is_stored(runtime: Runtime, what: str) -> None:
    store, table = STORES[what]
    async with runtime.sessions() as db:
        db.add(Artist(did=DID, handle="nul.test", pds_url="https://pds.test"))
        await db.commit()

    with pytest.raises(ServiceError) as refused:
        await store(runtime)

    assert (refused.value.status, refused.value.code) == (422, "invalid_input")
    assert "NUL" in refused.value.message
    async with runtime.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(table)) == 0

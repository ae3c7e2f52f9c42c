"""The API's track listings, keyset-paged (SQLite and PostgreSQL): `GET /api/tracks` (all
artists as the home feed shows them; one artist as their page shows them), `GET
/api/me/tracks` (the caller's own, in every state) and `GET /api/me/likes` (newest like
first). Pages neither repeat nor skip a track across cursors, ties on the same instant
included; a cursor plyr did not give out is refused with 422 (decided: a silent first page
would make a client's bug loop forever); `/api/me/*` is 401 without a caller and shows
only the caller's own. Every answer is checked against the OpenAPI's `TrackPage`.

The rows are written straight to the database (states that take minutes to reach through
uploads and moderation), and the developer tokens are session rows
(tests/support/token_sessions.py): reading a listing writes nothing to a PDS.
tests/test_api_listings_live.py makes tokens the user's way and uploads for real.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
from fastapi import FastAPI

from plyr.db.models import Artist, Like, PublishState, Track
from plyr.runtime import Runtime
from plyr.social.preferences import update_preferences
from plyr.social.tags import set_tags
from plyr.tracks import catalogue as tracks_catalogue
from tests.support.token_sessions import token_for

ALICE = "did:plc:alicepagesaaaaaaaaaaaaaa"
BOB = "did:plc:bobpagesbbbbbbbbbbbbbbbbb"
CAROL = "did:plc:carolhiddencccccccccccc"  # an account an operator hid
NOW = datetime(2025, 5, 14, 12, 0, tzinfo=UTC)


@dataclass
class Catalogue:
    client: httpx.AsyncClient
    runtime: Runtime
    document: dict[str, Any]
    ids: dict[str, int]  # title → id
    alice_token: str
    bob_token: str

    def validate(self, body: Any, schema: str = "TrackPage") -> None:
        components = self.document["components"]
        jsonschema.validate(
            body,
            {"$ref": f"#/components/schemas/{schema}", "components": components},
            cls=jsonschema.Draft202012Validator,
        )

    async def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.get(path, params=params, headers=headers)

    async def walk(self, path: str, token: str | None = None, **params: Any) -> list[list[str]]:
        """Every page's titles, following cursors to the end."""
        pages: list[list[str]] = []
        cursor = None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            response = await self.get(path, token, **query)
            assert response.status_code == 200, response.text
            body = response.json()
            self.validate(body)
            pages.append([track["title"] for track in body["tracks"]])
            cursor = body["cursor"]
            if cursor is None:
                return pages
            assert len(pages) < 50, "the cursors never end"


def _track(did: str, title: str, minutes_ago: float, **fields: Any) -> Track:
    values: dict[str, Any] = {
        "artist_did": did,
        "title": title,
        "artist_name": did.split(":")[-1][:5],
        "file_type": "mp3",
        "content_hash": hashlib.sha256(f"{did} {title}".encode()).hexdigest(),
        "original_key": f"audio/{title.replace(' ', '-')}.mp3",
        "rkey": hashlib.sha256(title.encode()).hexdigest()[:13],
        "publish_state": PublishState.published,
        "atproto_uri": f"at://{did}/fm.plyr.track/{title.replace(' ', '')}",
        "created_at": NOW - timedelta(minutes=minutes_ago),
    }
    values.update(fields)
    if values["publish_state"] != PublishState.published:
        values["atproto_uri"] = None
    return Track(**values)


@pytest.fixture
async def catalogue(app_client: tuple[FastAPI, httpx.AsyncClient]) -> Catalogue:
    app, client = app_client
    runtime: Runtime = app.state.runtime
    tracks = [
        # alice: five published (two at the same instant: the id breaks the tie) …
        _track(ALICE, "a1", 50),
        _track(ALICE, "a2", 40),
        _track(ALICE, "a3 same instant", 30),
        _track(ALICE, "a4 same instant", 30),
        _track(ALICE, "a5 labelled", 20, self_labels=["sexual"]),
        # … and what only she may see of hers
        _track(ALICE, "a processing", 10, publish_state=PublishState.processing),
        _track(ALICE, "a failed", 5, publish_state=PublishState.failed, publish_error="pds down"),
        _track(ALICE, "a taken down", 15, taken_down_at=NOW, takedown_reason="dmca"),
        _track(ALICE, "a audio pending", 12, audio_state="pending"),
        # bob's and a hidden account's
        _track(BOB, "b1", 45),
        _track(BOB, "b2 nudity", 25, self_labels=["nudity"]),
        _track(CAROL, "c1", 35),
    ]
    async with runtime.sessions() as db:
        db.add(Artist(did=ALICE, handle="alice.pages.test", pds_url="https://pds.test"))
        db.add(Artist(did=BOB, handle="bob.pages.test", pds_url="https://pds.test"))
        db.add(
            Artist(did=CAROL, handle="carol.pages.test", pds_url="https://pds.test", hidden_at=NOW)
        )
        await db.flush()
        db.add_all(tracks)
        await db.flush()
        await set_tags(db, tracks[0].id, ["ambient", "field recording"])
        await db.commit()
    ids = {track.title: track.id for track in tracks}
    return Catalogue(
        client,
        runtime,
        app.openapi(),
        ids,
        await token_for(runtime, ALICE),
        await token_for(runtime, BOB),
    )


# Newest first: what everyone may meet (c1 is a hidden account's: never listed).
LISTED = ["a4 same instant", "a3 same instant", "c1", "a2", "b1", "a1"]


async def test_all_tracks_page_newest_first_as_the_home_feed_shows_them(
    catalogue: Catalogue,
) -> None:
    # Signed out: published, listed, and not labelled sexual/porn (nudity stays).
    pages = await catalogue.walk("/api/tracks", limit=2)
    titles = [title for page in pages for title in page]
    assert titles == ["b2 nudity", *[t for t in LISTED if t != "c1"]]
    assert [len(page) for page in pages] == [2, 2, 2]
    # One page holding everything ends at once.
    assert await catalogue.walk("/api/tracks") == [titles]


async def test_a_page_stops_reading_early_and_the_cursor_goes_on(
    catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed that drops many tracks ends a page after reading MAX_SCANNED rows, short or
    even empty, with a cursor from the last row read: walking on still finds them all."""
    async with catalogue.runtime.sessions() as db:  # the newest two: left out signed out
        db.add(_track(BOB, "b porn", 1, self_labels=["porn"]))
        db.add(_track(BOB, "b sexual", 2, self_labels=["sexual"]))
        await db.commit()
    monkeypatch.setattr(tracks_catalogue, "MAX_SCANNED", 2)
    monkeypatch.setattr(tracks_catalogue, "FILTERED_BATCH", 2)
    pages = await catalogue.walk("/api/tracks", limit=1)
    assert pages[0] == []  # two rows read, both left out: an empty page, and a cursor
    assert [t for page in pages for t in page] == ["b2 nudity", *[t for t in LISTED if t != "c1"]]


async def test_a_labelled_track_shows_to_its_artist_and_to_who_opted_in(
    catalogue: Catalogue,
) -> None:
    mine = [t for page in await catalogue.walk("/api/tracks", catalogue.alice_token) for t in page]
    assert "a5 labelled" in mine
    theirs = [t for page in await catalogue.walk("/api/tracks", catalogue.bob_token) for t in page]
    assert "a5 labelled" not in theirs
    await update_preferences(catalogue.runtime, BOB, {"show_warned_tracks": True})
    opted = [t for page in await catalogue.walk("/api/tracks", catalogue.bob_token) for t in page]
    assert opted[:2] == ["a5 labelled", "b2 nudity"]  # in time order


async def test_one_artists_tracks_as_their_page_shows_them(catalogue: Catalogue) -> None:
    by_handle = await catalogue.walk("/api/tracks", artist="alice.pages.test", limit=2)
    assert by_handle == [["a5 labelled", "a4 same instant"], ["a3 same instant", "a2"], ["a1"]]
    assert await catalogue.walk("/api/tracks", artist="@alice.pages.test", limit=2) == by_handle
    assert await catalogue.walk("/api/tracks", artist=ALICE, limit=2) == by_handle

    first = (await catalogue.get("/api/tracks", artist=BOB)).json()["tracks"]
    assert [t["title"] for t in first] == ["b2 nudity", "b1"]
    a1 = (await catalogue.get("/api/tracks", artist=ALICE, limit=100)).json()["tracks"][-1]
    assert a1["id"] == catalogue.ids["a1"]
    assert a1["tags"] == ["ambient", "field recording"]  # in the track's own order
    assert a1["artist_did"] == ALICE
    assert a1["audio_url"].endswith(f"/audio/{a1['id']}")


async def test_unknown_and_hidden_artists(catalogue: Catalogue) -> None:
    unknown = await catalogue.get("/api/tracks", artist="nobody.pages.test")
    assert unknown.status_code == 404
    catalogue.validate(unknown.json(), "ErrorOut")
    assert unknown.json()["error"]["code"] == "not_found"
    hidden = await catalogue.get("/api/tracks", artist="carol.pages.test")
    assert hidden.status_code == 451
    catalogue.validate(hidden.json(), "ErrorOut")
    empty = await catalogue.get("/api/tracks", artist="")
    assert empty.status_code == 422


async def test_bad_cursors_and_limits_are_refused(catalogue: Catalogue) -> None:
    for path, token in (
        ("/api/tracks", None),
        ("/api/me/tracks", catalogue.alice_token),
        ("/api/me/likes", catalogue.alice_token),
    ):
        for cursor in ("nonsense", "12-x", "999999999999999999-1", "1-99999999999999999999"):
            refused = await catalogue.get(path, token, cursor=cursor)
            assert refused.status_code == 422, (path, cursor, refused.text)
            catalogue.validate(refused.json(), "ErrorOut")
            assert refused.json()["error"]["details"][0]["field"] == "query.cursor"
        for limit in (0, 101):
            assert (await catalogue.get(path, token, limit=limit)).status_code == 422
        assert (await catalogue.get(path, token, cursor="x" * 49)).status_code == 422


async def test_my_tracks_are_every_state_and_only_mine(catalogue: Catalogue) -> None:
    pages = await catalogue.walk("/api/me/tracks", catalogue.alice_token, limit=3)
    assert [len(page) for page in pages] == [3, 3, 3]
    titles = [t for page in pages for t in page]
    assert titles == [
        "a failed",
        "a processing",
        "a audio pending",
        "a taken down",
        "a5 labelled",
        "a4 same instant",
        "a3 same instant",
        "a2",
        "a1",
    ]
    body = (await catalogue.get("/api/me/tracks", catalogue.alice_token, limit=100)).json()
    by_title = {t["title"]: t for t in body["tracks"]}
    assert by_title["a failed"]["publish_state"] == "failed"
    assert by_title["a failed"]["publish_error"] == "pds down"
    assert by_title["a processing"]["publish_state"] == "processing"
    assert by_title["a taken down"]["taken_down"] is True
    assert by_title["a taken down"]["takedown_reason"] == "dmca"
    bobs = await catalogue.walk("/api/me/tracks", catalogue.bob_token)
    assert bobs == [["b2 nudity", "b1"]]


async def test_my_likes_newest_like_first(catalogue: Catalogue) -> None:
    assert await catalogue.walk("/api/me/likes", catalogue.bob_token) == [[]]
    liked = {"a1": 1, "b1": 5, "a2": 3, "a taken down": 0, "c1": 2, "a3 same instant": 3}
    async with catalogue.runtime.sessions() as db:
        for n, (title, minutes_ago) in enumerate(liked.items()):
            db.add(
                Like(
                    did=BOB,
                    track_id=catalogue.ids[title],
                    rkey=f"like{n}",
                    created_at=NOW + timedelta(minutes=10 - minutes_ago),
                )
            )
        db.add(Like(did=ALICE, track_id=catalogue.ids["b1"], rkey="alicelike", created_at=NOW))
        await db.commit()
    pages = await catalogue.walk("/api/me/likes", catalogue.bob_token, limit=2)
    # Newest like first (two at the same instant: the later like wins); a taken-down track
    # and a hidden account's are left out.
    assert pages == [["a1", "a3 same instant"], ["a2", "b1"]]
    assert await catalogue.walk("/api/me/likes", catalogue.alice_token) == [["b1"]]


async def test_my_listings_need_a_caller(catalogue: Catalogue) -> None:
    for path in ("/api/me/tracks", "/api/me/likes"):
        anonymous = await catalogue.get(path)
        assert anonymous.status_code == 401
        catalogue.validate(anonymous.json(), "ErrorOut")
        assert anonymous.json()["error"]["code"] == "sign_in_required"
        bad = await catalogue.get(path, "plyr_not-a-token-plyr-gave-out")
        assert bad.status_code == 401
        assert bad.json()["error"]["code"] == "invalid_token"
        assert bad.headers["x-request-id"] == bad.json()["error"]["request_id"]

"""star, unstar, getStarred, getStarred2: a star is a like, an `fm.plyr.like` record in the
listener's own PDS (read back from the PDS as any client would), shown by plyr's web API;
idempotent; albums and artists refused; bad ids 70; a PDS that is down delays the record
and loses nothing; an app password with no sign-in behind it is told to sign in on the web.
Both auth modes, py-opensonic and raw calls, every XML answer schema-checked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from libopensonic import errors
from playwright.async_api import Browser
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.db.models import Like, RecordState
from tests.subsonic.actions import (
    browser_sign_in,
    likes_of,
    new_listener,
    pds_records,
    records_when,
    sign_out_everywhere,
    song,
    web_track,
    xml_pairs,
)
from tests.subsonic.conftest import Library, make_app_password, opensonic, raw
from tests.subsonic.schema import NS, child, error_code, json_call
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, point_sessions_at
from tests.support.social_records import gone


def _ids(root: Any, container: str) -> list[str]:
    return [e.attrib["id"] for e in child(root, container).findall(f"{{{NS}}}song")]


async def _liked_on_the_web(plyr: PlyrServer, user: SignedIn, track_id: int) -> bool:
    async with user.client(plyr) as http:
        mine = (await http.get("/api/me/likes", params={"limit": 100})).json()
        social = (await http.get(f"/api/tracks/{track_id}/social")).json()
    listed = track_id in [track["id"] for track in mine["tracks"]]
    assert listed == social["liked"]
    return listed


async def test_a_star_is_a_like_in_the_pds_with_an_api_key(
    plyr: PlyrServer, alice: SignedIn, alice_key: str, library: Library, atproto_net: Network
) -> None:
    track_id = library.tracks["second song"]
    track = await web_track(plyr, track_id)
    collection = plyr.runtime.lexicons.collection("like")
    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert await sonic.star(sids=[song(track_id), song(track_id)])
        assert await sonic.star(sids=[song(track_id)])  # starring again is the same like
        starred = await sonic.get_starred2()
    found = [s for s in starred.song or [] if s.id == song(track_id)]
    assert len(found) == 1
    assert found[0].starred
    assert found[0].title == "second song"
    assert not starred.album
    assert not starred.artist

    records = await records_when(
        atproto_net, alice.did, collection, lambda rs: bool(likes_of(rs, track["uri"]))
    )
    (record,) = likes_of(records, track["uri"])
    assert record["value"]["subject"] == {"uri": track["uri"], "cid": track["cid"]}
    plyr.runtime.lexicons.validate_record(collection, record["value"])
    assert await _liked_on_the_web(plyr, alice, track_id)

    async with raw(plyr) as http:
        root = await xml_pairs(http, "getStarred2", [("apiKey", alice_key)])
        assert _ids(root, "starred2").count(song(track_id)) == 1
        songs = child(root, "starred2").iter(f"{{{NS}}}song")
        element = next(e for e in songs if e.get("id") == song(track_id))
        assert element.attrib["starred"].endswith("Z")
        root = await xml_pairs(http, "getStarred", [("apiKey", alice_key)])
        assert song(track_id) in _ids(root, "starred")
        _, answer = await json_call(http, "getStarred2", {"apiKey": alice_key})
        assert answer["starred2"]["album"] == []
        assert answer["starred2"]["artist"] == []
        assert song(track_id) in [s["id"] for s in answer["starred2"]["song"]]

    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert await sonic.unstar(sids=[song(track_id)])
        assert await sonic.unstar(sids=[song(track_id)])  # nothing left to take back: fine
        after = await sonic.get_starred2()
    assert song(track_id) not in [s.id for s in after.song or []]
    await gone(atproto_net, record["uri"])
    assert not await _liked_on_the_web(plyr, alice, track_id)


async def test_stars_with_an_app_password_newest_first(
    plyr: PlyrServer, alice: SignedIn, alice_password: str, library: Library, atproto_net: Network
) -> None:
    first, second = library.tracks["first song"], library.tracks[library.bob_track]
    collection = plyr.runtime.lexicons.collection("like")
    credentials = [("u", "alice.test"), ("p", alice_password)]
    async with raw(plyr) as http:
        root = await xml_pairs(http, "star", [*credentials, ("id", song(first))])
        assert error_code(root) is None
        await asyncio.sleep(0.01)  # a later like
        root = await xml_pairs(http, "star", [*credentials, ("id", song(second))])
        assert error_code(root) is None
        order = _ids(await xml_pairs(http, "getStarred2", credentials), "starred2")
    assert order.index(song(second)) < order.index(song(first))  # newest like first

    uris = [(await web_track(plyr, t))["uri"] for t in (first, second)]
    await records_when(
        atproto_net, alice.did, collection, lambda rs: all(likes_of(rs, uri) for uri in uris)
    )
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        assert await sonic.unstar(sids=[song(first), song(second)])
        assert [s for s in (await sonic.get_starred2()).song or [] if s.id in order[:2]] == []
    await records_when(
        atproto_net, alice.did, collection, lambda rs: not any(likes_of(rs, u) for u in uris)
    )


async def _likes_of(plyr: PlyrServer, did: str) -> list[Like]:
    async with plyr.runtime.sessions() as db:
        return list((await db.execute(select(Like).where(Like.did == did))).scalars())


async def test_albums_and_artists_are_refused_and_change_nothing(
    plyr: PlyrServer, alice: SignedIn, alice_key: str, library: Library
) -> None:
    track_id = library.tracks["third song"]
    async with raw(plyr) as http:
        albums = (await http.get("/api/lists", params={"did": alice.did, "type": "album"})).json()
        album = "al-{}".format(next(a["id"] for a in albums if a["name"] == library.album))
        for pairs in (
            [("albumId", album)],
            [("id", song(track_id)), ("albumId", album)],
            [("artistId", f"ar-{alice.did}")],
            [("id", album)],  # an album directory as id
        ):
            root = await xml_pairs(http, "star", [("apiKey", alice_key), *pairs])
            assert error_code(root) == 0, pairs
            assert "songs only" in child(root, "error").attrib["message"]
        # Nothing of theirs is ever starred: unstarring them has nothing to do.
        root = await xml_pairs(
            http,
            "unstar",
            [("apiKey", alice_key), ("albumId", album), ("artistId", f"ar-{alice.did}")],
        )
        assert error_code(root) is None
    assert track_id not in [like.track_id for like in await _likes_of(plyr, alice.did)]


async def test_bad_ids_are_70_and_change_nothing(
    plyr: PlyrServer, alice: SignedIn, alice_password: str, library: Library
) -> None:
    track_id = library.tracks["third song"]
    credentials = [("u", "alice.test"), ("p", alice_password)]
    async with raw(plyr) as http:
        for ids in (
            ["nonsense"],
            ["tr-"],
            ["tr-0"],
            ["tr-12x"],
            ["pl-1"],
            ["tr-999999999"],
            [song(track_id), "tr-999999999"],  # one bad id: the good one is not liked either
        ):
            root = await xml_pairs(http, "star", [*credentials, *(("id", i) for i in ids)])
            assert error_code(root) == 70, ids
        root = await xml_pairs(http, "unstar", [*credentials, ("id", "nonsense")])
        assert error_code(root) == 70
        for method in ("star", "unstar"):  # nothing named at all
            assert error_code(await xml_pairs(http, method, credentials)) == 10
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        with pytest.raises(errors.DataNotFoundError):
            await sonic.star(sids=["tr-999999999"])
    assert track_id not in [like.track_id for like in await _likes_of(plyr, alice.did)]


async def test_a_pds_that_is_down_delays_the_like_and_loses_nothing(
    plyr: PlyrServer, alice: SignedIn, alice_key: str, library: Library, atproto_net: Network
) -> None:
    track_id = library.tracks["first song"]
    track = await web_track(plyr, track_id)
    collection = plyr.runtime.lexicons.collection("like")
    await point_sessions_at(plyr, alice.did, "http://127.0.0.1:9")  # nothing listens there
    try:
        async with opensonic(plyr, api_key=alice_key) as sonic:
            assert await sonic.star(sids=[song(track_id)])  # accepted: kept, to be published
            assert song(track_id) in [s.id for s in (await sonic.get_starred2()).song or []]
        async with asyncio.timeout(15):  # the sync job tried the PDS and will try again
            while True:
                row = next(r for r in await _likes_of(plyr, alice.did) if r.track_id == track_id)
                assert row.record_state == RecordState.pending
                if row.record_error and "retrying" in row.record_error:
                    break
                await asyncio.sleep(0.1)
        assert not likes_of(await pds_records(atproto_net, alice.did, collection), track["uri"])
    finally:
        await point_sessions_at(plyr, alice.did, atproto_net.pds_url)
    records = await records_when(
        atproto_net, alice.did, collection, lambda rs: bool(likes_of(rs, track["uri"]))
    )
    (record,) = likes_of(records, track["uri"])
    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert await sonic.unstar(sids=[song(track_id)])
    await gone(atproto_net, record["uri"])


async def test_an_app_password_without_a_sign_in_is_told_to_sign_in(
    browser: Browser, plyr: PlyrServer, library: Library, atproto_net: Network
) -> None:
    """An app password is no grant: with no live session plyr cannot write the like, so it
    refuses (50, helpUrl to the sign-in page) and keeps nothing; one sign-in on the web and
    the same password stars."""
    listener = await new_listener(browser, plyr, atproto_net, "nosession")
    password = await make_app_password(plyr, listener.signed_in)
    await sign_out_everywhere(plyr, listener.did)
    track_id = library.tracks["morning"]
    credentials = [("u", listener.handle), ("p", password)]
    async with raw(plyr) as http:
        for method, pairs in (
            ("star", [("id", song(track_id))]),
            ("createPlaylist", [("name", "never made"), ("songId", song(track_id))]),
        ):
            root = await xml_pairs(http, method, [*credentials, *pairs])
            assert error_code(root) == 50, method
            error = child(root, "error").attrib
            assert "sign in to plyr on the web" in error["message"]
            assert error["helpUrl"] == f"{plyr.url}/login"
        playlists = child(await xml_pairs(http, "getPlaylists", credentials), "playlists")
        assert len(playlists) == 0
    async with opensonic(plyr, username=listener.handle, password=password) as sonic:
        with pytest.raises(errors.AuthError):
            await sonic.star(sids=[song(track_id)])
        assert not (await sonic.get_starred2()).song
    assert await _likes_of(plyr, listener.did) == []

    await browser_sign_in(browser, plyr, listener.handle, listener.password)
    async with opensonic(plyr, username=listener.handle, password=password) as sonic:
        assert await sonic.star(sids=[song(track_id)])
    collection = plyr.runtime.lexicons.collection("like")
    uri = (await web_track(plyr, track_id))["uri"]
    await records_when(atproto_net, listener.did, collection, lambda rs: bool(likes_of(rs, uri)))

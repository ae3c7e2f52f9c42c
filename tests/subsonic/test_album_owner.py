"""Another account's album list naming Alice's single (any client may write one; plyr's
indexer takes it) does not take the song from her: every browsing and list method still
shows it as her single, and the other account's list is no album at all."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.atproto.firehose import RecordEvent
from plyr.atproto.repo import RepoClient
from plyr.atproto.syntax import format_datetime
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.db.models import MusicList, Track, utcnow
from plyr.ingest import handler_for
from plyr.moderation.takedown import hide_account, unhide_account
from plyr.tracks.listing_cache import clear_cache
from tests.subsonic.conftest import Library, raw
from tests.subsonic.schema import NS, child, error_code, json_call, xml_call
from tests.support.plyr_server import PlyrServer

ROGUE_ALBUM = "someone else's morning"


@dataclass(frozen=True, slots=True)
class Rogue:
    did: str
    list_id: int
    playlist_id: int  # a playlist of the account's, Alice's single on it


async def _index(plyr: PlyrServer, event: RecordEvent) -> None:
    handler = handler_for(plyr.settings.atproto_namespace, event.collection)
    assert handler is not None
    await handler(plyr.runtime, event)


@pytest.fixture(scope="module")
async def rogue(plyr: PlyrServer, atproto_net: Network, library: Library) -> AsyncIterator[Rogue]:
    """A fresh account's album list holding Alice's single, written to its PDS and indexed
    as the firehose would deliver it."""
    async with plyr.runtime.sessions() as db:
        uri, cid = (
            await db.execute(
                select(Track.atproto_uri, Track.atproto_cid).where(
                    Track.id == library.tracks[library.single]
                )
            )
        ).one()
    handle = f"rogue{secrets.token_hex(3)}.test"
    password = secrets.token_urlsafe(12)
    collection = f"{plyr.settings.atproto_namespace}.list"
    rkey = "stolen"
    async with httpx.AsyncClient(timeout=30) as http:
        made = await http.post(
            f"{atproto_net.pds_url}/xrpc/com.atproto.server.createAccount",
            json={"handle": handle, "password": password, "email": f"{handle}@example.com"},
        )
        assert made.status_code == 200, made.text
        did = made.json()["did"]
        session = await PasswordSession.create(http, atproto_net.pds_url, handle, password)
        repo = RepoClient(XrpcClient(http, atproto_net.pds_url, session), did)
        record = {
            "$type": collection,
            "name": ROGUE_ALBUM,
            "listType": "album",
            "items": [{"subject": {"uri": uri, "cid": cid}}],
            "createdAt": format_datetime(utcnow()),
        }
        now = format_datetime(utcnow())
        playlist = {**record, "name": "mixtape", "listType": "playlist"}
        made_ids = []
        for key, value in ((rkey, record), ("mixtape", playlist)):
            written = await repo.put_record(collection, key, value)
            event = RecordEvent(0, did, "create", collection, key, written.cid, value, now)
            await _index(plyr, event)
            async with plyr.runtime.sessions() as db:
                made_ids.append(
                    await db.scalar(
                        select(MusicList.id).where(MusicList.did == did, MusicList.rkey == key)
                    )
                )
        list_id, playlist_id = made_ids
        assert list_id is not None  # the indexer took it, Alice's track as its item
        assert playlist_id is not None
        clear_cache()  # the whole-library orders as of now
        try:
            yield Rogue(did, list_id, playlist_id)
        finally:
            for key in (rkey, "mixtape"):
                await repo.delete_record(collection, key)
                event = RecordEvent(0, did, "delete", collection, key, None, None, now)
                await _index(plyr, event)
            clear_cache()


def _ids(root: ET.Element, tag: str) -> list[str]:
    return [found.attrib["id"] for found in root.iter(f"{{{NS}}}{tag}")]


async def test_another_accounts_album_does_not_take_a_song(
    plyr: PlyrServer, library: Library, alice_key: str, rogue: Rogue
) -> None:
    morning = library.tracks[library.single]
    single, stolen = f"si-{morning}", f"al-{rogue.list_id}"
    key = {"apiKey": alice_key}
    async with raw(plyr) as http:
        _, root = await xml_call(http, "getSong", {**key, "id": f"tr-{morning}"})
        song = child(root, "song")
        assert (song.attrib["albumId"], song.attrib["parent"]) == (single, single)
        assert song.attrib["album"] == library.single
        assert error_code((await xml_call(http, "getAlbum", {**key, "id": stolen}))[1]) == 70
        _, root = await xml_call(http, "getAlbum", {**key, "id": single})
        assert _ids(root, "song") == [f"tr-{morning}"]
        for kind in ("alphabeticalByName", "newest"):
            _, root = await xml_call(http, "getAlbumList2", {**key, "type": kind, "size": "500"})
            assert single in _ids(root, "album")
            assert stolen not in _ids(root, "album")
        _, root = await xml_call(
            http, "getAlbumList2", {**key, "type": "byGenre", "genre": "folk", "size": "500"}
        )
        assert _ids(root, "album") == [single]
        _, root = await xml_call(http, "getAlbumList", {**key, "type": "newest", "size": "500"})
        assert single in _ids(root, "album")
        assert stolen not in _ids(root, "album")
        _, root = await xml_call(
            http, "search3", {**key, "query": "", "albumCount": "500", "songCount": "0"}
        )
        assert single in _ids(root, "album")
        assert stolen not in _ids(root, "album")
        alice = song.attrib["artistId"]
        _, root = await xml_call(http, "getArtist", {**key, "id": alice})
        albums = _ids(root, "album")
        assert single in albums
        assert stolen not in albums
        assert int(child(root, "artist").attrib["albumCount"]) == len(albums)
        rogue_artist = f"ar-{rogue.did}"
        assert error_code((await xml_call(http, "getArtist", {**key, "id": rogue_artist}))[1]) == 70
        _, root = await xml_call(http, "getIndexes", key)
        assert alice in _ids(root, "artist")
        assert rogue_artist not in _ids(root, "artist")
        _, root = await xml_call(http, "getArtists", key)
        listed = {a.attrib["id"]: a for a in root.iter(f"{{{NS}}}artist")}
        assert rogue_artist not in listed
        assert int(listed[alice].attrib["albumCount"]) == len(albums)
        _, root = await xml_call(http, "getMusicDirectory", {**key, "id": alice})
        assert single in _ids(root, "child")
        assert stolen not in _ids(root, "child")
        _, root = await xml_call(http, "getGenres", key)
        (folk,) = [g for g in root.iter(f"{{{NS}}}genre") if g.text == "folk"]
        assert folk.attrib["albumCount"] == "1"  # the single, not also the stolen album


async def test_a_hidden_accounts_playlist_is_not_found(
    plyr: PlyrServer, alice_key: str, rogue: Rogue
) -> None:
    """The playlists' domain refuses a hidden account's list with HTTP 451: Subsonic's 70."""
    key = {"apiKey": alice_key}
    playlist = {**key, "id": f"pl-{rogue.playlist_id}"}
    async with raw(plyr) as http:
        _, root = await xml_call(http, "getPlaylist", playlist)
        assert error_code(root) is None
        await hide_account(plyr.runtime, rogue.did, reason="a test", actor="tests")
        try:
            _, root = await xml_call(http, "getPlaylist", playlist)
            assert error_code(root) == 70
            _, answer = await json_call(http, "getPlaylist", playlist)
            assert answer["error"]["code"] == 70
        finally:
            await unhide_account(plyr.runtime, rogue.did, actor="tests")

"""`download`, `getCoverArt` and `getAvatar` against a live plyr: the original as an
attachment (ranges, validators), every kind of cover-art id (a song, its album's cover for a
song without artwork, an album, a single, a playlist, an artist), `size` (scaled down, never
up, cached, 304), avatars as redirects to the user's PDS, and error 70 for what listeners
may not meet (a taken-down track, a hidden account) or what has no picture."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import pytest
from PIL import Image
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.moderation.takedown import hide_account, take_down_track, unhide_account
from plyr.tracks import library as catalogue_library
from tests.subsonic.conftest import Library, opensonic, raw
from tests.subsonic.newcomers import newcomer
from tests.subsonic.schema import call, error_code, xml_call
from tests.support.audio import make_audio, make_image
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload_published


def _token(password: str) -> dict[str, str]:
    salt = "c0ffee00"
    digest = hashlib.md5((password + salt).encode()).hexdigest()  # noqa: S324 - the protocol's
    return {"u": "alice.test", "t": digest, "s": salt}


@dataclass(frozen=True)
class Painter:
    """A newcomer with a Bluesky avatar, a track with artwork (taken down by one test) and a
    playlist of Alice's songs (no cover of its own)."""

    artist: SignedIn
    avatar: bytes
    track: int
    playlist: int


@pytest.fixture(scope="module")
async def painter(
    browser: Browser,
    plyr: PlyrServer,
    atproto_net: Network,
    library: Library,
    tmp_path_factory: pytest.TempPathFactory,
) -> Painter:
    folder = tmp_path_factory.mktemp("pictures")
    avatar = make_image(folder / "avatar.png", "png", (64, 64)).read_bytes()
    artist = await newcomer(browser, plyr, atproto_net, "painter", avatar=avatar)
    audio = make_audio(folder / "painted.mp3", "mp3", 2.0, 520)
    art = make_image(folder / "art.png", "png", (400, 400))
    songs = [library.tracks["second song"], library.tracks["first song"]]
    async with artist.client(plyr) as http:
        track = await upload_published(http, audio, image=art, title="painted")
        made = await http.post(
            "/api/lists", json={"type": "playlist", "name": "mixed", "track_ids": songs}
        )
        assert made.status_code == 201, made.text
    return Painter(artist, avatar, int(track["id"]), int(made.json()["id"]))


async def _album_id(plyr: PlyrServer, library: Library) -> str:
    [song] = await catalogue_library.songs(plyr.runtime, None, [library.tracks["first song"]])
    assert song.album is not None
    return f"al-{song.album.list_id}"


async def test_download_is_the_original(
    plyr: PlyrServer, library: Library, alice_password: str
) -> None:
    track_id = library.tracks["morning"]  # Vorbis: its original is not what plays
    async with raw(plyr) as http:
        original = (await http.get(f"/audio/{track_id}/download")).content
        auth = _token(alice_password)
        answer = await call(http, "download", {**auth, "id": f"tr-{track_id}"})
        assert answer.content == original
        assert answer.headers["content-type"] == "audio/ogg"
        disposition = answer.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "morning.ogg" in disposition
        part = await call(http, "download", {**auth, "id": f"tr-{track_id}"}, post=True)
        assert part.content == original
        etag = answer.headers["etag"]
        ranged = await http.get(
            "/rest/download",
            params={"v": "1.16.1", "c": "tests", **auth, "id": f"tr-{track_id}"},
            headers={"Range": "bytes=0-99", "If-Range": etag},
        )
        assert ranged.status_code == 206
        assert ranged.content == original[:100]
        again = await http.get(
            "/rest/download",
            params={"v": "1.16.1", "c": "tests", **auth, "id": f"tr-{track_id}"},
            headers={"If-None-Match": etag},
        )
        assert again.status_code == 304
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        got = await sonic.download(f"tr-{library.tracks['first song']}")
        assert got.headers["Content-Type"] == "audio/flac"
        assert (await got.read())[:4] == b"fLaC"


async def test_cover_art_of_every_kind(
    plyr: PlyrServer, library: Library, painter: Painter, alice_password: str
) -> None:
    first, second = library.tracks["first song"], library.tracks["second song"]
    album = await _album_id(plyr, library)
    async with raw(plyr) as http:
        artwork = (await http.get(f"/images/{first}")).content
        auth = _token(alice_password)
        for sid in (
            f"tr-{first}",
            f"tr-{second}",  # no artwork of its own: its album's cover
            album,  # no cover of its own: its first song's artwork
            f"pl-{painter.playlist}",  # the same, from its first track with artwork
        ):
            answer = await call(http, "getCoverArt", {**auth, "id": sid})
            assert answer.status_code == 200, sid
            assert answer.headers["content-type"] == "image/jpeg", sid
            assert answer.content == artwork, sid
        painted = await call(http, "getCoverArt", {**auth, "id": f"tr-{painter.track}"})
        assert painted.content == (await http.get(f"/images/{painter.track}")).content
        for sid in (f"si-{library.tracks['morning']}", f"tr-{library.tracks['morning']}"):
            _, root = await xml_call(http, "getCoverArt", {**auth, "id": sid})
            assert error_code(root) == 70, sid  # a single without artwork has none
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        answer = await sonic.get_cover_art(album)
        assert await answer.read() == artwork


async def test_cover_art_scaled(plyr: PlyrServer, library: Library, alice_password: str) -> None:
    song = f"tr-{library.tracks['first song']}"
    auth = _token(alice_password)
    async with raw(plyr) as http:
        original = (await http.get(f"/images/{library.tracks['first song']}")).content
        assert Image.open(io.BytesIO(original)).size == (600, 600)
        small = await call(http, "getCoverArt", {**auth, "id": song, "size": "100"})
        assert small.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(small.content)) as picture:
            # Sizes go up a short ladder (32, 64, 128…): one scaling serves 65..128.
            assert (picture.format, picture.size) == ("JPEG", (128, 128))
        again = await call(http, "getCoverArt", {**auth, "id": song, "size": "100"})
        assert again.content == small.content  # the kept copy
        assert again.headers["etag"] == small.headers["etag"]
        revalidated = await http.get(
            "/rest/getCoverArt",
            params={"v": "1.16.1", "c": "tests", **auth, "id": song, "size": "100"},
            headers={"If-None-Match": small.headers["etag"]},
        )
        assert revalidated.status_code == 304
        assert revalidated.content == b""
        tiny = await call(http, "getCoverArt", {**auth, "id": song, "size": "1"})
        assert Image.open(io.BytesIO(tiny.content)).size == (32, 32)  # the ladder's first
        for big in ("600", "1100", "5000"):  # never scaled up, past the ladder: as stored
            whole = await call(http, "getCoverArt", {**auth, "id": song, "size": big})
            assert whole.content == original
            assert whole.headers["accept-ranges"] == "bytes"
        _, root = await xml_call(http, "getCoverArt", {**auth, "id": song, "size": "large"})
        assert error_code(root) == 0
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        answer = await sonic.get_cover_art(song, size=64)
        with Image.open(io.BytesIO(await answer.read())) as picture:
            assert picture.size == (64, 64)


async def test_avatars_are_redirects_to_the_pds(
    plyr: PlyrServer, painter: Painter, alice_password: str
) -> None:
    auth = _token(alice_password)
    async with raw(plyr) as http:
        for method, extra in (
            ("getAvatar", {"username": painter.artist.handle}),
            ("getAvatar", {"username": painter.artist.did}),
            ("getCoverArt", {"id": f"ar-{painter.artist.did}"}),
        ):
            answer = await call(http, method, {**auth, **extra})
            assert answer.status_code == 303, (method, extra)
            assert "com.atproto.sync.getBlob" in answer.headers["location"]
        for params in ({"username": "alice.test"}, {"username": "nobody.test"}):
            _, root = await xml_call(http, "getAvatar", {**auth, **params})
            assert error_code(root) == 70, params  # Alice has no avatar; nobody is nobody
        _, root = await xml_call(http, "getAvatar", auth)
        assert error_code(root) == 10
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        answer = await sonic.get_avatar(painter.artist.handle)  # the redirect followed
        assert await answer.read() == painter.avatar


async def test_what_listeners_may_not_meet_has_no_picture(
    plyr: PlyrServer, painter: Painter, alice_password: str
) -> None:
    auth = _token(alice_password)
    runtime = plyr.runtime
    async with raw(plyr) as http:
        await take_down_track(runtime, painter.track, reason="a test takedown", actor="tests")
        for method in ("getCoverArt", "download", "stream"):
            _, root = await xml_call(http, method, {**auth, "id": f"tr-{painter.track}"})
            assert error_code(root) == 70, method
        await hide_account(runtime, painter.artist.did, reason="a test", actor="tests")
        try:
            for method, params in (
                ("getAvatar", {"username": painter.artist.handle}),
                ("getCoverArt", {"id": f"ar-{painter.artist.did}"}),
                ("getCoverArt", {"id": f"pl-{painter.playlist}"}),
            ):
                _, root = await xml_call(http, method, {**auth, **params})
                assert error_code(root) == 70, (method, params)
        finally:
            await unhide_account(runtime, painter.artist.did, actor="tests")
        for sid in ("tr-999999999", "al-999999999", "pl-999999999", "ar-did:plc:nobody", "x"):
            _, root = await xml_call(http, "getCoverArt", {**auth, "id": sid})
            assert error_code(root) == 70, sid
        _, root = await xml_call(http, "getCoverArt", auth)
        assert error_code(root) == 10

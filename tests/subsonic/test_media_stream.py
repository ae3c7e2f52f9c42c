"""`stream` against a live plyr: the web player's file (the same bytes as `/audio/{id}`,
ranges and validators), `format=raw`, transcodes decoded again with PyAV (codec, bit rate
ceiling, duration, `timeOffset`, `estimateContentLength`), a format plyr cannot make, a
listener leaving mid-transcode, and the errors. py-opensonic posts its forms; raw httpx
sends the GETs a player's `<audio>` element would."""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import socket
from urllib.parse import urlencode

import av
import pytest
from libopensonic import errors
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.media.streaming import MP3_KBPS
from plyr.moderation.takedown import take_down_track
from plyr.subsonic import transcoding
from tests.subsonic.conftest import Library, opensonic, raw
from tests.subsonic.newcomers import newcomer
from tests.subsonic.schema import CLIENT, call, error_code, xml_call
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import upload_published

LONG_SECONDS = 300.0


def _token(password: str) -> dict[str, str]:
    salt = "d00dfeed"
    return {"u": "alice.test", "t": hashlib.md5((password + salt).encode()).hexdigest(), "s": salt}  # noqa: S324


@pytest.fixture(scope="module")
async def stranger(
    browser: Browser,
    plyr: PlyrServer,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, int]:
    """A newcomer's two tracks: a long one (to leave mid-transcode) and one to take down."""
    artist = await newcomer(browser, plyr, atproto_net, "streamer")
    folder = tmp_path_factory.mktemp("stream-audio")
    long = make_audio(folder / "long.mp3", "mp3", LONG_SECONDS, 250, sample_rate=22050, channels=1)
    short = make_audio(folder / "short.mp3", "mp3", 2.0, 880)
    async with artist.client(plyr) as http:
        tracks = {
            "long": int((await upload_published(http, long, title="a long one"))["id"]),
            "gone": int((await upload_published(http, short, title="soon gone"))["id"]),
        }
    await take_down_track(plyr.runtime, tracks["gone"], reason="a test takedown", actor="tests")
    return tracks


def _decoded(data: bytes) -> tuple[str, str, float]:
    """(container, codec, seconds) of an answer's bytes, decoded to the last sample (the
    zeros an estimate pads with are junk a decoder skips)."""
    samples = 0
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        for packet in container.demux(stream):
            try:
                samples += sum(frame.samples for frame in packet.decode())
            except av.error.InvalidDataError:
                continue
        return container.format.name, stream.codec_context.name, samples / stream.sample_rate


async def test_stream_is_what_the_web_player_plays(
    plyr: PlyrServer, library: Library, alice_password: str
) -> None:
    auth = _token(alice_password)
    async with raw(plyr) as http:
        for title, track_id in library.tracks.items():
            web = await http.get(f"/audio/{track_id}")
            got = await call(http, "stream", {**auth, "id": f"tr-{track_id}"})
            posted = await call(http, "stream", {**auth, "id": f"tr-{track_id}"}, post=True)
            for answer in (got, posted):
                assert answer.status_code == 200, title
                assert answer.content == web.content, title
                assert answer.headers["content-type"] == web.headers["content-type"]
                assert answer.headers["etag"] == web.headers["etag"]
                assert answer.headers["accept-ranges"] == "bytes"
                assert answer.headers["access-control-allow-origin"] == "*"
    # "morning" is Vorbis: what plays is plyr's MP3 of it.
    assert (await _content_type(plyr, auth, library.tracks["morning"])) == "audio/mpeg"


async def _content_type(plyr: PlyrServer, auth: dict[str, str], track_id: int) -> str:
    async with raw(plyr) as http:
        answer = await call(http, "stream", {**auth, "id": f"tr-{track_id}"})
    return answer.headers["content-type"]


async def test_ranges_and_validators(
    plyr: PlyrServer, library: Library, alice_password: str
) -> None:
    auth = _token(alice_password)
    song = f"tr-{library.tracks['first song']}"
    async with raw(plyr) as http:
        whole = await call(http, "stream", {**auth, "id": song})
        etag, size = whole.headers["etag"], len(whole.content)
        url = f"/rest/stream.view?{urlencode({**CLIENT, **auth, 'id': song})}"
        part = await http.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-199/{size}"
        assert part.content == whole.content[100:200]
        tail = await http.get(url, headers={"Range": "bytes=-10"})
        assert tail.content == whole.content[-10:]
        assert (await http.get(url, headers={"If-None-Match": etag})).status_code == 304
        stale = await http.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
        assert stale.status_code == 200
        assert stale.content == whole.content
        beyond = await http.get(url, headers={"Range": f"bytes={size + 10}-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{size}"
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        answer = await sonic.stream(song, byte_range="bytes=0-9")  # a form POST with Range
        assert answer.status == 206
        assert await answer.read() == whole.content[:10]


async def test_format_raw_is_the_original(
    plyr: PlyrServer, library: Library, alice_password: str
) -> None:
    track_id = library.tracks["morning"]
    async with raw(plyr) as http:
        original = await http.get(f"/audio/{track_id}/download")
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        answer = await sonic.stream(f"tr-{track_id}", tformat="raw", max_bit_rate=64)
        assert answer.headers["Content-Type"] == "audio/ogg"
        assert await answer.read() == original.content  # raw ignores maxBitRate


@pytest.mark.parametrize(
    ("title", "fmt", "kbps", "container", "codec", "content_type"),
    [
        ("first song", "mp3", 128, "mp3", "mp3float", "audio/mpeg"),
        ("first song", "opus", 96, "ogg", "opus", "audio/ogg"),
        ("third song", "ogg", 64, "ogg", "opus", "audio/ogg"),
        ("second song", "aac", 96, "aac", "aac", "audio/aac"),
        ("morning", "m4a", 128, "mov,mp4,m4a,3gp,3g2,mj2", "aac", "audio/mp4"),
        ("second song", None, 64, "mp3", "mp3float", "audio/mpeg"),  # the rate alone
    ],
)
async def test_transcodes(
    plyr: PlyrServer,
    library: Library,
    alice_password: str,
    title: str,
    fmt: str | None,
    kbps: int,
    container: str,
    codec: str,
    content_type: str,
) -> None:
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        answer = await sonic.stream(f"tr-{library.tracks[title]}", max_bit_rate=kbps, tformat=fmt)
        data = await answer.read()
        headers = answer.headers
    assert headers["Content-Type"] == content_type
    assert headers["Accept-Ranges"] == "none"
    assert "ETag" not in headers
    assert (container, codec) == _decoded(data)[:2]
    seconds = _decoded(data)[2]
    assert abs(seconds - 6.0) < 0.15
    assert len(data) * 8 / seconds <= kbps * 1000 * 1.01


async def test_a_transcode_ignores_range(
    plyr: PlyrServer, library: Library, alice_password: str
) -> None:
    params = {**CLIENT, **_token(alice_password), "format": "mp3", "maxBitRate": "96"}
    params["id"] = f"tr-{library.tracks['first song']}"
    url = f"/rest/stream?{urlencode(params)}"
    async with raw(plyr) as http:
        answer = await http.get(url, headers={"Range": "bytes=100-199"})
    assert answer.status_code == 200
    assert "content-range" not in answer.headers
    assert abs(_decoded(answer.content)[2] - 6.0) < 0.15


async def test_time_offset_starts_later(
    plyr: PlyrServer, library: Library, alice_password: str
) -> None:
    auth = _token(alice_password)
    async with raw(plyr) as http:
        for title, extra in (
            ("first song", {"format": "mp3", "timeOffset": "2"}),
            ("second song", {"timeOffset": "4"}),  # a stored mp3: its own format, from 4 s
            ("morning", {"format": "raw", "timeOffset": "1.5"}),  # the original, from 1.5 s
        ):
            answer = await call(
                http, "stream", {**auth, **extra, "id": f"tr-{library.tracks[title]}"}
            )
            assert answer.status_code == 200
            assert "accept-ranges" in answer.headers
            assert "etag" not in answer.headers
            seconds = _decoded(answer.content)[2]
            assert abs(seconds - (6.0 - float(extra["timeOffset"]))) < 0.15, title
    async with raw(plyr) as http:
        _, root = await xml_call(http, "getOpenSubsonicExtensions")
    names = {item.attrib["name"] for item in root}
    assert "transcodeOffset" in names


async def test_estimated_content_length(
    plyr: PlyrServer, library: Library, alice_password: str
) -> None:
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        song = f"tr-{library.tracks['first song']}"
        answer = await sonic.stream(song, max_bit_rate=128, tformat="mp3", estimate_length=True)
        data = await answer.read()
        length = int(answer.headers["Content-Length"])
    assert length == len(data)
    # The exact duration (6 s) and a margin times the bit rate (128 asked, less when the
    # FLAC of a sine has less), plus room for headers: padding, never a cut.
    margin = transcoding.ESTIMATE_MARGIN_SECONDS
    assert any(
        length == math.ceil((6.0 + margin) * kbps * 125) + transcoding.ESTIMATE_HEADERS
        for kbps in MP3_KBPS
        if kbps <= 128
    )
    assert abs(_decoded(data)[2] - 6.0) < 0.15


async def test_a_format_plyr_cannot_make_gets_the_stored_file(
    plyr: PlyrServer, library: Library, alice_password: str
) -> None:
    """As Navidrome falls back to the raw file: no error, the file the player would get."""
    auth = _token(alice_password)
    track_id = library.tracks["second song"]
    async with raw(plyr) as http:
        web = await http.get(f"/audio/{track_id}")
        for fmt in ("wma", "flac"):
            answer = await call(http, "stream", {**auth, "id": f"tr-{track_id}", "format": fmt})
            assert answer.content == web.content
            assert answer.headers["etag"] == web.headers["etag"]


async def test_a_listener_leaving_mid_transcode_stops_it(
    plyr: PlyrServer, stranger: dict[str, int], alice_password: str
) -> None:
    """A client that reads a little and closes the connection: the encoder stops (it does
    not run to the end for nobody), its thread ends and its slot is free again."""
    async with asyncio.timeout(10):  # the tests before may leave one ending
        while transcoding.COUNTS.running:  # noqa: ASYNC110 - another thread's counter
            await asyncio.sleep(0.05)
    before = transcoding.COUNTS.finished, transcoding.COUNTS.stopped
    busy = transcoding.SLOTS.busy
    params = {**CLIENT, **_token(alice_password), "id": f"tr-{stranger['long']}", "format": "opus"}
    host, port = plyr.url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fill up quickly: no reading
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(f"GET /rest/stream?{urlencode(params)} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"audio/ogg" in head
    assert len(await reader.read(4096)) > 0  # audio is on its way
    await asyncio.sleep(0.3)
    assert transcoding.COUNTS.running == 1
    writer.close()
    async with asyncio.timeout(10):
        while transcoding.COUNTS.running:  # noqa: ASYNC110 - another thread's counter
            await asyncio.sleep(0.05)
    assert (transcoding.COUNTS.finished, transcoding.COUNTS.stopped) == (before[0], before[1] + 1)
    assert transcoding.SLOTS.busy == busy


async def test_errors(
    plyr: PlyrServer, library: Library, stranger: dict[str, int], alice_password: str
) -> None:
    auth = _token(alice_password)
    song = f"tr-{library.tracks['first song']}"
    async with raw(plyr) as http:
        for params, code in (
            ({"id": "tr-999999999"}, 70),
            ({"id": "banana"}, 70),
            ({"id": f"al-{library.tracks['first song']}"}, 70),  # an album is not a song
            ({"id": f"tr-{stranger['gone']}"}, 70),  # taken down
            ({}, 10),
            ({"id": song, "maxBitRate": "fast"}, 0),
            ({"id": song, "timeOffset": "-3"}, 0),
        ):
            _, root = await xml_call(http, "stream", {**auth, **params})
            assert error_code(root) == code, params
        _, root = await xml_call(http, "stream", {"id": song})  # no credentials: no audio
        assert error_code(root) == 10
    # Deliberate sign-in failures count against the address and the user (the package's
    # other modules fail on purpose too): another loopback address and user, for a 40.
    async with raw(plyr, "127.0.0.12") as http:
        _, root = await xml_call(http, "stream", {"id": song, "u": "bob.test", "p": "wrong"})
        assert error_code(root) == 40
        wrong_version = await call(http, "stream", {**auth, "id": song, "v": "2.0.0"})
        assert wrong_version.headers["content-type"].startswith("application/xml")


async def test_py_opensonic_reads_the_error_of_a_byte_method(
    plyr: PlyrServer, alice_password: str
) -> None:
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        with pytest.raises(errors.DataNotFoundError):
            await sonic.stream("tr-999999999")

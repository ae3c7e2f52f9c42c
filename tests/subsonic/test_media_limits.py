"""What bounds a transcode, against a live plyr: `estimateContentLength` announcing enough
for a file of a fractional length (the track keeps whole seconds), a source that cannot
be read answered with an error rather than an empty 200, HEAD answered without
transcoding, at most two transcodes per listener, a client that stops reading left after
the idle time (its slot freed). The module's tracks are a newcomer's own."""

from __future__ import annotations

import asyncio
import hashlib
import io
import socket
from pathlib import Path
from urllib.parse import urlencode

import av
import pytest
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.db.models import Track
from plyr.media.streaming import audio_seconds
from plyr.serving import live
from plyr.subsonic import transcoding
from tests.subsonic.conftest import raw
from tests.subsonic.newcomers import newcomer
from tests.subsonic.schema import CLIENT, call, checked_xml, error_code
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import upload_published

FRACTIONAL = 6.45


def _token(password: str) -> dict[str, str]:
    salt = "feedc0de"
    return {"u": "alice.test", "t": hashlib.md5((password + salt).encode()).hexdigest(), "s": salt}  # noqa: S324


@pytest.fixture(scope="module")
async def tracks(
    browser: Browser,
    plyr: PlyrServer,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, int]:
    artist = await newcomer(browser, plyr, atproto_net, "limits")
    folder = tmp_path_factory.mktemp("limits-audio")
    files = {
        "fractional": make_audio(folder / "frac.flac", "flac", FRACTIONAL, 440),
        "broken": make_audio(folder / "broken.flac", "flac", 2.0, 550),
        "long": make_audio(folder / "long.mp3", "mp3", 240.0, 250, sample_rate=22050, channels=1),
    }
    async with artist.client(plyr) as http:
        return {
            name: int((await upload_published(http, path, title=f"limits {name}"))["id"])
            for name, path in files.items()
        }


async def _stored_path(plyr: PlyrServer, track_id: int) -> Path:
    async with plyr.runtime.sessions() as db:
        track = await db.get(Track, track_id)
        assert track is not None
        key = track.stream_key or track.original_key
    path: Path = plyr.runtime.storage.path_for(key)  # type: ignore[attr-defined]
    return path


async def _idle() -> None:
    async with asyncio.timeout(15):
        while transcoding.COUNTS.running:  # noqa: ASYNC110 - another thread's counter
            await asyncio.sleep(0.05)


async def test_the_estimate_covers_a_fractional_length(
    plyr: PlyrServer, tracks: dict[str, int], alice_password: str
) -> None:
    track_id = tracks["fractional"]
    assert abs((audio_seconds(await _stored_path(plyr, track_id)) or 0) - FRACTIONAL) < 0.05
    params = {
        **_token(alice_password),
        "id": f"tr-{track_id}",
        "format": "mp3",
        "maxBitRate": "128",
        "estimateContentLength": "true",
    }
    async with raw(plyr) as http:
        answer = await call(http, "stream", params)
        head = await http.head("/rest/stream", params={**CLIENT, **params})
    assert answer.status_code == 200
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert head.headers["content-length"] == answer.headers["content-length"]
    samples = 0
    with av.open(io.BytesIO(answer.content)) as container:
        stream = container.streams.audio[0]
        for packet in container.demux(stream):
            try:  # the padding after the last frame is junk a decoder skips
                samples += sum(frame.samples for frame in packet.decode())
            except av.error.InvalidDataError:
                continue
    assert samples / stream.sample_rate >= FRACTIONAL - 0.03  # the end is all there


async def test_head_runs_no_transcode(
    plyr: PlyrServer, tracks: dict[str, int], alice_password: str
) -> None:
    await _idle()
    before = (transcoding.COUNTS.finished, transcoding.COUNTS.stopped, transcoding.COUNTS.failed)
    song = f"tr-{tracks['long']}"
    async with raw(plyr) as http:
        auth = {**CLIENT, **_token(alice_password), "id": song}
        head = await http.head("/rest/stream", params={**auth, "format": "opus"})
        assert head.status_code == 200
        assert head.headers["content-type"] == "audio/ogg"
        assert head.headers["accept-ranges"] == "none"
        assert "content-length" not in head.headers  # chunked, as the GET
        plain = await http.head("/rest/stream", params=auth)
        stored = await http.head(f"/audio/{tracks['long']}")
        assert plain.status_code == 200
        assert plain.headers["content-length"] == stored.headers["content-length"]
        assert plain.headers["etag"] == stored.headers["etag"]
    after = (transcoding.COUNTS.finished, transcoding.COUNTS.stopped, transcoding.COUNTS.failed)
    assert after == before


async def test_an_unreadable_source_is_an_error(
    plyr: PlyrServer, tracks: dict[str, int], alice_password: str
) -> None:
    path = await _stored_path(plyr, tracks["broken"])
    path.write_bytes(b"\x00not audio at all" * 200)
    params = {**_token(alice_password), "id": f"tr-{tracks['broken']}", "format": "mp3"}
    async with raw(plyr) as http:
        for extra in ({}, {"estimateContentLength": "true"}):
            answer = await call(http, "stream", {**params, **extra})
            assert answer.status_code == 500
            assert answer.headers["content-type"] == "application/xml; charset=utf-8"
            assert error_code(checked_xml(answer.content)) == 0
        path.unlink()
        answer = await call(http, "stream", {**params, "f": "json"})
        assert answer.status_code == 500
        assert answer.json()["subsonic-response"]["error"]["code"] == 0
    await _idle()
    assert transcoding.SLOTS.busy == 0


async def _open_unread(plyr: PlyrServer, params: dict[str, str]) -> tuple[bytes, socket.socket]:
    """A GET whose client reads the status line and then nothing more."""
    host, port = plyr.url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, int(port)))
    query = urlencode({**CLIENT, **params})
    await loop.sock_sendall(sock, f"GET /rest/stream?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = await loop.sock_recv(sock, 512)
    return head, sock


async def test_two_transcodes_a_listener_and_idle_ones_end(
    plyr: PlyrServer, tracks: dict[str, int], alice_password: str
) -> None:
    await _idle()
    busy = transcoding.SLOTS.busy
    params = {**_token(alice_password), "id": f"tr-{tracks['long']}", "format": "opus"}
    live.IDLE_SECONDS = 1.5
    opened: list[socket.socket] = []
    try:
        for _ in range(2):
            head, sock = await _open_unread(plyr, params)
            opened.append(sock)
            assert head.startswith(b"HTTP/1.1 200")
        async with raw(plyr) as http:
            third = await call(http, "stream", params)
        assert third.status_code == 429
        assert error_code(checked_xml(third.content)) == 0
        # Nobody reads: both stop after the idle time, their slots free, the sockets open.
        await _idle()
        assert transcoding.SLOTS.busy == busy
        assert transcoding.LISTENERS.running == {}
        async with raw(plyr) as http:
            again = await call(http, "stream", {**params, "id": f"tr-{tracks['fractional']}"})
        assert again.status_code == 200
        assert again.headers["content-type"] == "audio/ogg"
    finally:
        live.IDLE_SECONDS = 60.0
        for sock in opened:
            sock.close()


async def test_a_slot_given_back_inside_the_lock_does_not_deadlock() -> None:
    """The collector may drop an unsent answer (whose `__del__` gives its slot back) while
    its thread holds the slots' lock: the lock is reentrant."""
    slots = transcoding.Slots(1)
    release = await slots.acquire(0.1)
    with slots._lock:
        release()  # with a plain Lock this would wait for ever
    assert slots.busy == 0

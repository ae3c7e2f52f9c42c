"""`stream`'s transcoding without a server: what `choose` picks for each wish, the PyAV
encoder's output decoded again (codec, bit rate, duration, a start offset), reading from
storage through `StoredFile` (the path S3 takes), the slots that cap transcodes, and
`LiveResponse` stopping its producer when the client leaves."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import av
import pytest

from plyr.media.streaming import LIVE_FORMATS, MP3_KBPS, encode_stream
from plyr.serving.live import LiveResponse
from plyr.storage.blocking import StoredFile
from plyr.storage.local import LocalStorage
from plyr.subsonic.errors import SubsonicError
from plyr.subsonic.transcoding import Slots, StoredAudio, choose
from tests.support.audio import make_audio

FLAC = StoredAudio("audio/ab/x.flac", "audio/flac", 900_000, 6.0, "flac")  # 1200 kbit/s
MP3_320 = StoredAudio("audio/ab/y.mp3", "audio/mpeg", 240_000, 6.0, "mp3")  # 320
OPUS_96 = StoredAudio("audio/ab/z.opus", "audio/ogg", 72_000, 6.0, "opus")  # 96


@pytest.fixture(scope="module")
def flac_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_audio(tmp_path_factory.mktemp("live") / "tone.flac", "flac", 6.0, 330)


def _decoded(data: bytes) -> tuple[str, str, float]:
    """(container, codec, seconds) of encoded bytes, decoded to the last sample."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return container.format.name, stream.codec_context.name, samples / stream.sample_rate


def test_choose_keeps_the_stored_file_when_it_fits() -> None:
    assert choose(FLAC, None, 0, 0) is None
    assert choose(MP3_320, "mp3", 320, 0) is None  # in the format, within the rate
    assert choose(MP3_320, "MP3", 0, 0) is None
    assert choose(OPUS_96, "ogg", 128, 0) is None  # Opus in Ogg is ogg
    assert choose(FLAC, "flac", 0, 0) is None  # plyr makes no FLAC, but this is one
    # A format plyr cannot make: the stored file, the rate wish dropped with it (Navidrome).
    assert choose(FLAC, "wma", 128, 0) is None


def test_choose_transcodes_what_is_asked() -> None:
    plan = choose(FLAC, "mp3", 0, 0)
    assert plan is not None
    assert (plan.target.name, plan.kbps) == ("mp3", 320)
    plan = choose(FLAC, "opus", 0, 0)
    assert plan is not None
    assert (plan.target.name, plan.kbps) == ("opus", 256)
    plan = choose(FLAC, "ogg", 96, 0)
    assert plan is not None
    assert (plan.target.name, plan.kbps) == ("opus", 96)
    plan = choose(MP3_320, None, 100, 0)  # the rate alone: the same format, rounded down
    assert plan is not None
    assert (plan.target.name, plan.kbps) == ("mp3", 96)
    plan = choose(FLAC, None, 128, 0)  # a format plyr cannot make: MP3
    assert plan is not None
    assert (plan.target.name, plan.kbps) == ("mp3", 128)
    plan = choose(OPUS_96, "mp3", 0, 0)  # never above the source's own rate
    assert plan is not None
    assert (plan.target.name, plan.kbps) == ("mp3", 96)
    plan = choose(MP3_320, "m4a", 8, 0)  # never under the codec's floor
    assert plan is not None
    assert (plan.target.name, plan.kbps) == ("m4a", 32)
    plan = choose(MP3_320, None, 0, 2.5)  # an offset: always a transcode, in kind
    assert plan is not None
    assert (plan.target.name, plan.kbps, plan.offset) == ("mp3", 320, 2.5)
    assert plan.seconds == 3.5
    # 3.5 s and the 1 s margin at 320 kbit/s, and room for headers.
    assert plan.estimated_length() == 180_000 + 4096
    assert plan.estimated_length(6.45) == (3.95 + 1) * 40_000 + 4096  # the exact length


@pytest.mark.parametrize(("name", "kbps"), [("mp3", 128), ("opus", 96), ("aac", 64), ("m4a", 160)])
def test_the_encoder_keeps_to_codec_rate_and_length(flac_file: Path, name: str, kbps: int) -> None:
    chunks: list[bytes] = []
    encode_stream(flac_file, LIVE_FORMATS[name], kbps, chunks.append)
    data = b"".join(chunks)
    container, codec, seconds = _decoded(data)
    assert (container, codec) == {
        "mp3": ("mp3", "mp3float"),
        "opus": ("ogg", "opus"),
        "aac": ("aac", "aac"),
        "m4a": ("mov,mp4,m4a,3gp,3g2,mj2", "aac"),
    }[name]
    assert abs(seconds - 6.0) < 0.1
    assert len(data) * 8 / seconds <= kbps * 1000 * 1.01  # the bytes sent, headers and all
    assert len(chunks) > 1  # handed out as made, not at the end


def test_an_offset_starts_there(flac_file: Path) -> None:
    chunks: list[bytes] = []
    encode_stream(flac_file, LIVE_FORMATS["mp3"], 128, chunks.append, offset=2.0)
    _, _, seconds = _decoded(b"".join(chunks))
    assert abs(seconds - 4.0) < 0.15


def test_stopped_between_packets(flac_file: Path) -> None:
    chunks: list[bytes] = []
    encode_stream(
        flac_file, LIVE_FORMATS["mp3"], 320, chunks.append, stopped=lambda: len(chunks) >= 2
    )
    assert len(chunks) == 2  # nothing more once stopped, not even the muxer's trailer


def test_mp3_rates_are_ones_a_frame_can_say() -> None:
    mp3 = LIVE_FORMATS["mp3"]
    assert [mp3.kbps(wish) for wish in (8, 33, 100, 129, 1000)] == [32, 32, 96, 128, 320]
    assert all(mp3.kbps(rate) == rate for rate in MP3_KBPS)


async def test_encoding_from_storage_through_stored_file(tmp_path: Path, flac_file: Path) -> None:
    """The S3 path: no file on disk to open, a file object reading storage in windows."""
    storage = LocalStorage(tmp_path / "media", "http://localhost")
    key = "audio/aa/tone.flac"
    data = await anyio.Path(flac_file).read_bytes()
    info = await storage.put(key, _chunks(data), "audio/flac")
    chunks: list[bytes] = []

    def run() -> None:
        with StoredFile(storage, key, info.size, window=8192) as file:
            encode_stream(file, LIVE_FORMATS["opus"], 64, chunks.append, offset=1.0)

    await anyio.to_thread.run_sync(run)
    _, codec, seconds = _decoded(b"".join(chunks))
    assert codec == "opus"
    assert abs(seconds - 5.0) < 0.15


async def _chunks(data: bytes) -> Any:
    yield data


async def test_slots_cap_transcodes_and_hand_over() -> None:
    slots = Slots(1)
    first = await slots.acquire(1)
    waiting = asyncio.create_task(slots.acquire(5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    assert slots.busy == 1
    with pytest.raises(SubsonicError) as refused:
        await slots.acquire(0.05)  # none free in time: error 0, HTTP 503
    assert (refused.value.code, refused.value.status) == (0, 503)
    first()
    second = await asyncio.wait_for(waiting, 1)  # handed straight to the waiter
    assert slots.busy == 1
    first()  # a second release of the same slot changes nothing
    assert slots.busy == 1
    gone = asyncio.create_task(slots.acquire(5))
    await asyncio.sleep(0.05)
    gone.cancel()  # its client left while waiting
    await asyncio.sleep(0)
    second()
    await asyncio.sleep(0.05)
    assert slots.busy == 0  # the slot did not go to the departed waiter


async def test_a_live_answer_stops_its_producer_when_the_client_leaves() -> None:
    made = 0
    ended = threading.Event()

    def produce(emit: Any, stopped: Any) -> None:
        nonlocal made
        try:
            while not stopped():
                emit(b"x" * 1024)
                made += 1
        finally:
            ended.set()

    closed: list[bool] = []
    response = LiveResponse(produce, headers=[], on_close=lambda: closed.append(True))
    sent: list[dict[str, Any]] = []
    gone = anyio.Event()

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if len(sent) == 5:
            gone.set()  # the client leaves after four chunks
        await anyio.sleep(0.01)

    await response({"type": "http"}, receive, send)
    assert ended.is_set()  # the answer returned only once the producer had stopped
    assert made < 20  # held back by the buffer, not run to exhaustion
    assert closed == [True]
    assert sent[0]["type"] == "http.response.start"
    assert (b"accept-ranges", b"none") in sent[0]["headers"]


async def test_a_live_answer_keeps_to_its_content_length() -> None:
    def short(emit: Any, stopped: Any) -> None:
        emit(b"abc")

    def long(emit: Any, stopped: Any) -> None:
        for _ in range(100):
            emit(b"0123456789")

    for produce, body in ((short, b"abc" + bytes(7)), (long, b"0123456789")):
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            await anyio.sleep_forever()
            raise AssertionError

        await LiveResponse(produce, headers=[], content_length=10)({}, receive, send)
        assert (b"content-length", b"10") in sent[0]["headers"]
        assert b"".join(m.get("body", b"") for m in sent[1:]) == body
        assert sent[-1]["more_body"] is False

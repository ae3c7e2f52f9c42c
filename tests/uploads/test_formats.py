"""Every accepted format: uploaded, published with its blob, streamed, and seekable in Chromium."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.async_api import Browser

from plyr.atproto import dagcbor
from plyr.atproto.devnet import Network
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload
from tests.support.uploads import follow_progress, public_record

pytestmark = pytest.mark.browser


FORMATS = {
    # format: (stream content type, file type in the record, transcoded?)
    "mp3": ("audio/mpeg", "mp3", False),
    "wav": ("audio/wav", "wav", False),
    "aiff": ("audio/mpeg", "mp3", True),
    "flac": ("audio/flac", "flac", False),
    "ogg-vorbis": ("audio/mpeg", "mp3", True),
    "ogg-opus": ("audio/ogg", "opus", False),
    "m4a-aac": ("audio/mp4", "m4a", False),
    "m4a-alac": ("audio/mpeg", "mp3", True),
    "webm-opus": ("audio/webm", "webm", False),
}


@pytest.mark.parametrize("fmt", list(FORMATS))
async def test_upload_every_format_publishes_and_streams(
    fmt: str, plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    stream_type, file_type, transcoded = FORMATS[fmt]
    source = make_audio(tmp_path / f"tone-{fmt}.bin", fmt, seconds=2.0, freq=330 + len(fmt))
    async with alice.client(plyr) as http:
        accepted = await upload(http, source, title=f"tone in {fmt}", tags="test, Tones ,#sine")
        assert accepted.status_code == 202, accepted.text
        events = await follow_progress(http, accepted.json()["progress_url"])
        final = events[-1]
        assert final["phase"] == "published", events
        assert final["error"] is None
        percents = [event["percent"] for event in events]
        assert percents == sorted(percents)  # progress never goes backwards
        track = (await http.get(f"/api/tracks/{final['track_id']}")).json()

        assert track["title"] == f"tone in {fmt}"
        assert track["tags"] == ["test", "tones", "sine"]
        assert track["file_type"] == file_type
        assert track["duration"] == 2
        assert track["gain_db"] is not None

        ranged = await http.get(track["audio_url"], headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 206
        assert ranged.headers["content-type"].startswith(stream_type)
        assert len(ranged.content) == 100
        whole = await http.get(track["audio_url"])
        original = await http.get(track["download_url"])
        assert (
            hashlib.sha256(original.content).digest()
            == hashlib.sha256(source.read_bytes()).digest()
        )
        assert (whole.content == original.content) is not transcoded

    record = await public_record(atproto_net, track["uri"])
    assert record["cid"] == track["cid"]
    value = record["value"]
    assert value["$type"] == "fm.plyr.track"
    assert value["title"] == f"tone in {fmt}"
    assert value["fileType"] == file_type
    assert value["duration"] == 2
    assert value["tags"] == ["test", "tones", "sine"]
    assert value["audioUrl"] == track["audio_url"]
    # Small files also go into the PDS as the record's blob: the bytes we stream. The PDS
    # names the type itself (audio/x-flac, audio/vnd.wave…); WebM it calls video/webm,
    # which the lexicon's audio/* refuses, so WebM tracks carry audioUrl only.
    if fmt == "webm-opus":
        assert "audioBlob" not in value
    else:
        blob = value["audioBlob"]
        assert blob["ref"]["$link"] == dagcbor.cid_for_bytes(whole.content, codec="raw")
        assert blob["mimeType"].startswith("audio/")
        assert blob["size"] == len(whole.content)


async def test_browser_seeks_in_every_streamed_format(
    plyr: PlyrServer, alice: SignedIn, browser: Browser, tmp_path: Path
) -> None:
    """Each stream plyr serves plays and seeks in Chromium's <audio> (ranges, durations)."""
    track_ids: dict[str, int] = {}
    async with alice.client(plyr) as http:
        for fmt in FORMATS:
            source = make_audio(
                tmp_path / f"seek-{fmt}.bin", fmt, seconds=6.0, freq=200 + len(fmt) * 7
            )
            accepted = await upload(http, source, title=f"seek {fmt}")
            final = (await follow_progress(http, accepted.json()["progress_url"]))[-1]
            assert final["phase"] == "published", (fmt, final)
            track_ids[fmt] = final["track_id"]
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{plyr.url}/")
    try:
        for fmt, track_id in track_ids.items():
            result = await page.evaluate(
                """async (src) => {
                    const audio = new Audio();
                    audio.preload = "auto";
                    audio.src = src;
                    await new Promise((ok, fail) => {
                        audio.onloadedmetadata = ok;
                        audio.onerror = () => fail(new Error("error " + audio.error?.code));
                    });
                    audio.currentTime = 4.5;
                    await new Promise((ok) => { audio.onseeked = ok; });
                    return { duration: audio.duration, position: audio.currentTime };
                }""",
                f"{plyr.url}/audio/{track_id}",
            )
            assert abs(result["duration"] - 6.0) < 0.15, (fmt, result)
            assert abs(result["position"] - 4.5) < 0.05, (fmt, result)
    finally:
        await context.close()

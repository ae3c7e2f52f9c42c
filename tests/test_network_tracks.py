"""Tracks written by other clients reach plyr through the real firehose of the local PDS:
indexed, their audio fetched (the record's blob from the PDS, or its audioUrl from a local
HTTP server), processed like an upload, and played through the app. Edits and deletes
follow; bad audio leaves a track unplayable with a reason and ingest goes on. SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.tid import next_tid
from plyr.db.models import Job
from plyr.db.visibility import PENDING_MESSAGE
from plyr.errors import ServiceError
from plyr.tracks.catalogue import published_tracks_page
from plyr.tracks.editing import edit_track
from plyr.tracks.fetching import fetch_track_audio
from tests.conftest import devnet_settings
from tests.support.audio import make_audio, make_image
from tests.support.databases import clear_tables
from tests.support.local_http import LocalServer
from tests.support.network_tracks import (
    audio_notice,
    eventually,
    other_client,
    plays,
    put_blob,
    put_track,
    settled,
    stored,
    track_fields,
    track_row,
    wait_until_following,
)
from tests.support.plyr_server import PlyrServer, running_plyr

MAX_AUDIO = 400_000  # the upload size limit of this plyr: a 3 s WAV is larger


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-network-tracks"),
        db_url,
        atproto_net,
        ingest_url=atproto_net.pds_url,
        ingest_enabled=True,
        max_upload_bytes=MAX_AUDIO,
    )
    async with running_plyr(settings, worker=True, ingest=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
def files(plyr: PlyrServer) -> Iterator[LocalServer]:
    """Another site serving audio for records' audioUrl (one per plyr: counts per run)."""
    local = LocalServer().start()
    yield local
    local.stop()


@pytest.fixture(scope="module")
async def carol(plyr: PlyrServer, atproto_net: Network) -> AsyncIterator[RepoClient]:
    """Carol never signs in to plyr: she writes to her PDS with another client."""
    async with other_client(atproto_net, "carol.test") as repo:
        await wait_until_following(plyr, repo)
        yield repo


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("network-audio")


async def test_tracks_of_another_client_are_indexed_and_play(
    plyr: PlyrServer, carol: RepoClient, files: LocalServer, audio: Path
) -> None:
    mp3 = make_audio(audio / "blob.mp3", "mp3", seconds=3, freq=330).read_bytes()
    flac = make_audio(audio / "blob.flac", "flac", seconds=2, freq=350).read_bytes()
    vorbis = make_audio(audio / "blob.ogg", "ogg-vorbis", seconds=2, freq=370).read_bytes()
    wav = make_audio(audio / "url.wav", "wav", seconds=1, freq=390, channels=1).read_bytes()
    files.route("/music/url.wav", body=wav, headers={"Content-Type": "audio/wav"})
    cover = make_image(audio / "blob-cover.png", "png", size=(80, 60)).read_bytes()

    blob_rkey = await put_track(
        plyr,
        carol,
        track_fields(
            "from a blob",
            audioBlob=await put_blob(carol, mp3, "audio/mpeg"),
            imageBlob=await put_blob(carol, cover, "image/png"),
            album="elsewhere",
            duration=3,
            description="written by another client",
            tags=["Night Drive", "#synth"],
            features=[{"did": carol.did, "handle": "carol.test"}],
        ),
    )
    url_rkey = await put_track(
        plyr,
        carol,
        track_fields("from a url", fileType="wav", audioUrl=f"{files.url}/music/url.wav"),
    )
    flac_rkey = await put_track(
        plyr,
        carol,
        track_fields(
            "lossless", fileType="flac", audioBlob=await put_blob(carol, flac, "audio/flac")
        ),
    )
    ogg_rkey = await put_track(
        plyr,
        carol,
        track_fields(
            "vorbis", fileType="ogg", audioBlob=await put_blob(carol, vorbis, "audio/ogg")
        ),
    )

    from_blob = await settled(plyr, carol.did, blob_rkey)
    assert (from_blob.audio_state, from_blob.audio_error) == ("ready", None)
    assert from_blob.title == "from a blob"
    assert from_blob.album == "elsewhere"
    assert from_blob.description == "written by another client"
    assert from_blob.features == [{"did": carol.did, "handle": "carol.test"}]
    assert from_blob.publish_state.value == "published"
    assert (
        from_blob.atproto_uri
        == f"at://{carol.did}/{plyr.settings.atproto_namespace}.track/{blob_rkey}"
    )
    assert from_blob.atproto_rev is not None
    assert from_blob.duration_seconds == 3
    assert from_blob.gain_db is not None
    assert await plays(plyr, from_blob.id) == mp3  # the blob, byte for byte
    assert from_blob.image_key is not None  # the artwork from the imageBlob
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
        artwork = await http.get(f"/images/{from_blob.id}")
        assert artwork.status_code == 200
        assert artwork.headers["content-type"] == "image/jpeg"
        page = await http.get(f"/tracks/{from_blob.id}")
        assert page.status_code == 200
        assert "from a blob" in page.text
        api = (await http.get(f"/api/tracks/{from_blob.id}")).json()
    assert api["tags"] == ["night drive", "synth"]

    from_url = await settled(plyr, carol.did, url_rkey)
    assert from_url.audio_state == "ready", from_url.audio_error
    assert from_url.audio_url == f"{files.url}/music/url.wav"
    assert from_url.file_type == "wav"
    assert await plays(plyr, from_url.id) == wav

    lossless = await settled(plyr, carol.did, flac_rkey)
    assert lossless.audio_state == "ready", lossless.audio_error
    assert await stored(plyr, lossless.original_key) == flac
    await plays(plyr, lossless.id)

    transcoded = await settled(plyr, carol.did, ogg_rkey)
    assert transcoded.audio_state == "ready", transcoded.audio_error
    assert transcoded.stream_key != transcoded.original_key  # browsers get an mp3 of it
    assert (transcoded.file_type, transcoded.stream_content_type) == ("mp3", "audio/mpeg")
    assert await stored(plyr, transcoded.original_key) == vorbis
    # An ID3 tag first (PyAV's muxer) or straight an MPEG-1 layer III frame (LAME's Info).
    assert (await plays(plyr, transcoded.id)).startswith((b"ID3", b"\xff\xfb"))

    listed, _ = await published_tracks_page(plyr.runtime, carol.did, before=None, limit=50)
    assert {t.id for t in listed} >= {from_blob.id, from_url.id, lossless.id, transcoded.id}


async def test_edits_follow_and_refetch_only_a_changed_source(
    plyr: PlyrServer, carol: RepoClient, files: LocalServer, audio: Path
) -> None:
    first = make_audio(audio / "first.wav", "wav", seconds=1, freq=410, channels=1).read_bytes()
    second = make_audio(audio / "second.wav", "wav", seconds=1, freq=430, channels=1).read_bytes()
    files.route("/music/first.wav", body=first)
    files.route("/music/second.wav", body=second)
    record = track_fields("before", fileType="wav", audioUrl=f"{files.url}/music/first.wav")
    rkey = await put_track(plyr, carol, record)
    before = await settled(plyr, carol.did, rkey)
    assert before.audio_state == "ready", before.audio_error
    assert files.count("/music/first.wav") == 1

    # New details, same audio: the row follows, nothing is fetched again.
    await put_track(plyr, carol, {**record, "title": "after", "tags": ["edited"]}, rkey)
    edited = await settled(plyr, carol.did, rkey, title="after")
    assert edited.id == before.id
    assert edited.original_key == before.original_key
    assert edited.atproto_cid != before.atproto_cid
    assert files.count("/music/first.wav") == 1
    await plays(plyr, edited.id)

    # Another URL: fetched again; the old file, used by nothing now, is deleted.
    moved = {**record, "title": "after", "audioUrl": f"{files.url}/music/second.wav"}
    await put_track(plyr, carol, moved, rkey)
    refetched = await settled(plyr, carol.did, rkey, audio_url=f"{files.url}/music/second.wav")
    assert refetched.audio_state == "ready", refetched.audio_error
    assert refetched.content_hash != before.content_hash
    assert await plays(plyr, refetched.id) == second

    async def old_file_gone() -> bool:
        return await plyr.runtime.storage.stat(before.original_key) is None

    await eventually(old_file_gone)

    # A deletion by the other client removes the track and its files.
    await carol.delete_record(f"{plyr.settings.atproto_namespace}.track", rkey)

    async def gone() -> bool:
        return await track_row(plyr, carol.did, rkey) is None

    await eventually(gone)

    async def files_gone() -> bool:
        return await plyr.runtime.storage.stat(refetched.original_key) is None

    await eventually(files_gone)
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
        assert (await http.get(f"/audio/{refetched.id}")).status_code == 404


async def test_bad_audio_is_unplayable_with_a_reason_and_ingest_goes_on(
    plyr: PlyrServer, carol: RepoClient, files: LocalServer, audio: Path
) -> None:
    ns = plyr.settings.atproto_namespace
    not_audio = await put_blob(carol, b"just some words, not a song\n" * 40, "audio/mpeg")
    text_rkey = await put_track(plyr, carol, track_fields("words", audioBlob=not_audio))
    big = make_audio(audio / "big.wav", "wav", seconds=3, freq=450).read_bytes()
    assert len(big) > MAX_AUDIO
    files.route("/music/big.wav", body=big)
    big_rkey = await put_track(
        plyr, carol, track_fields("too big", fileType="wav", audioUrl=f"{files.url}/music/big.wav")
    )
    oversized_blob = await put_blob(carol, big, "audio/wav")
    big_blob_rkey = await put_track(plyr, carol, track_fields("big blob", audioBlob=oversized_blob))
    # Records plyr leaves out: no audio at all; one that fails the lexicon.
    silent_rkey = await put_track(plyr, carol, track_fields("no audio"))
    invalid_rkey = next_tid()
    await carol.xrpc.procedure(
        "com.atproto.repo.putRecord",
        {
            "repo": carol.did,
            "collection": f"{ns}.track",
            "rkey": invalid_rkey,
            "validate": False,
            "record": {"$type": f"{ns}.track", "title": "", "artist": "x", "createdAt": "never"},
        },
    )
    good = make_audio(audio / "after.mp3", "mp3", seconds=2, freq=470).read_bytes()
    good_rkey = await put_track(
        plyr,
        carol,
        track_fields("still indexed", audioBlob=await put_blob(carol, good, "audio/mpeg")),
    )

    assert (await settled(plyr, carol.did, good_rkey)).audio_state == "ready"
    words = await settled(plyr, carol.did, text_rkey)
    assert words.audio_state == "unplayable"
    assert words.audio_error is not None
    assert "not an audio format we accept" in words.audio_error, words.audio_error
    too_big = await settled(plyr, carol.did, big_rkey)
    assert too_big.audio_state == "unplayable"
    assert "larger than 0.4 MB" in (too_big.audio_error or "")
    big_blob = await settled(plyr, carol.did, big_blob_rkey)
    assert "larger than 0.4 MB" in (big_blob.audio_error or "")
    assert await track_row(plyr, carol.did, silent_rkey) is None
    assert await track_row(plyr, carol.did, invalid_rkey) is None

    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
        audio_answer = await http.get(f"/audio/{words.id}")
        assert audio_answer.status_code == 409
        # Its page is there, saying why instead of offering a player.
        page = await http.get(f"/tracks/{words.id}", headers={"Accept": "text/html"})
        assert page.status_code == 200
        notice = audio_notice(page.text)
        assert notice == f"this track can't be played: {words.audio_error}"
        assert "words" in page.text
        assert "data-play-track" not in page.text
        assert f"/audio/{words.id}/download" not in page.text
    listed, _ = await published_tracks_page(plyr.runtime, carol.did, before=None, limit=100)
    assert not {t.id for t in listed} & {words.id, too_big.id, big_blob.id}
    assert not any(t.audio_state != "ready" for t in listed)
    # Its artist cannot edit it into a record without audio: refused, nothing queued.
    with pytest.raises(ServiceError) as refused:
        await edit_track(plyr.runtime, words.id, carol.did, {"title": "renamed"})
    assert (refused.value.status, refused.value.code) == (409, "unplayable")
    unchanged = await track_row(plyr, carol.did, text_rkey)
    assert unchanged is not None
    assert unchanged.title == "words"


async def test_a_source_that_is_down_is_retried_then_given_up(
    plyr: PlyrServer, carol: RepoClient, files: LocalServer, audio: Path
) -> None:
    late = make_audio(audio / "late.mp3", "mp3", seconds=2, freq=490).read_bytes()
    route = files.route("/music/late.mp3", status=503, body=b"down for maintenance")
    files.route("/music/never.mp3", status=502, body=b"bad gateway")
    late_rkey = await put_track(
        plyr, carol, track_fields("late", audioUrl=f"{files.url}/music/late.mp3")
    )
    never_rkey = await put_track(
        plyr, carol, track_fields("never", audioUrl=f"{files.url}/music/never.mp3")
    )

    async def retried() -> bool:
        return files.count("/music/late.mp3") >= 2

    await eventually(retried)
    row = await track_row(plyr, carol.did, late_rkey)
    assert row is not None
    assert row.audio_state == "pending"
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
        page = await http.get(f"/tracks/{row.id}")
    assert page.status_code == 200
    assert audio_notice(page.text) == PENDING_MESSAGE
    assert "data-play-track" not in page.text
    route.status, route.body = 200, late
    ready = await settled(plyr, carol.did, late_rkey)
    assert ready.audio_state == "ready", ready.audio_error
    assert await plays(plyr, ready.id) == late

    given_up = await settled(plyr, carol.did, never_rkey, seconds=60)
    assert given_up.audio_state == "unplayable"
    assert "HTTP 502" in (given_up.audio_error or "")
    assert files.count("/music/never.mp3") > 2
    async with plyr.runtime.sessions() as db:
        jobs = list(
            await db.scalars(
                select(Job.attempts).where(
                    Job.kind == "track.fetch_audio",
                    Job.payload["track_id"].as_integer() == given_up.id,
                )
            )
        )
    assert jobs
    assert max(jobs) > 1


async def test_a_record_shaped_by_the_real_plyr_fm_indexes_and_plays(
    plyr: PlyrServer, carol: RepoClient, files: LocalServer, audio: Path, atproto_net: Network
) -> None:
    """Their lexicon: labels, supportGate, featuredArtist with only a DID, no tags, no
    blob (only audioUrl, as their CDN serves it), imageUrl."""
    song = make_audio(audio / "plyrfm.mp3", "mp3", seconds=2, freq=510).read_bytes()
    files.route("/cdn/audio/abc.mp3", body=song, headers={"Content-Type": "audio/mpeg"})
    cover = make_image(audio / "cover.png", "png", size=(64, 64)).read_bytes()
    files.route("/cdn/images/abc.png", body=cover, headers={"Content-Type": "image/png"})
    bob = atproto_net.account("bob.test").did
    record = {
        "title": "a plyr.fm song",
        "artist": "carol",
        "audioUrl": f"{files.url}/cdn/audio/abc.mp3",
        "fileType": "mp3",
        "album": "their album",
        "duration": 2,
        "features": [{"did": bob}],
        "imageUrl": f"{files.url}/cdn/images/abc.png",
        "createdAt": "2025-11-02T10:20:30.146107Z",  # their timestamps carry microseconds
        "supportGate": {"type": "any"},
        "description": "liner notes",
        "labels": {
            "$type": "com.atproto.label.defs#selfLabels",
            "values": [{"val": "graphic-media"}],
        },
    }
    rkey = await put_track(plyr, carol, record)
    row = await settled(plyr, carol.did, rkey)
    assert row.audio_state == "ready", row.audio_error
    assert row.self_labels == ["graphic-media"]
    assert row.support_gate == {"type": "any"}
    assert row.features == [{"did": bob}]
    assert row.created_at.isoformat().startswith("2025-11-02T10:20:30")
    assert row.image_key is not None
    assert row.thumbnail_key is not None
    assert await plays(plyr, row.id) == song


async def test_fetching_again_is_a_no_op(
    plyr: PlyrServer, carol: RepoClient, files: LocalServer, audio: Path
) -> None:
    song = make_audio(audio / "once.mp3", "mp3", seconds=2, freq=530).read_bytes()
    files.route("/music/once.mp3", body=song)
    rkey = await put_track(
        plyr, carol, track_fields("once", audioUrl=f"{files.url}/music/once.mp3")
    )
    row = await settled(plyr, carol.did, rkey)
    assert row.audio_state == "ready", row.audio_error
    # What `plyr backfill` calls for each track: a ready track with the same source stays.
    await fetch_track_audio(plyr.runtime, row.id)
    assert files.count("/music/once.mp3") == 1
    again = await track_row(plyr, carol.did, rkey)
    assert again is not None
    assert (again.original_key, again.updated_at) == (row.original_key, row.updated_at)

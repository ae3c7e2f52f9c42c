"""How the SDK behaves on the wire, against scripted local servers: the token goes to the
configured plyr only (not to another host a redirect or a link points at, and never into
an error message), writes are not silently redirected, and paging fetches a page only
when the caller gets that far."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from plyrfm import Client
from plyrfm.config import load_config
from plyrfm.errors import InvalidRequest, PlyrError
from tests.clients.scripted import Reply, Scripted
from tests.support.audio import make_audio

TOKEN = "plyr_secret_token"
STATS = {"plays": 1, "tracks": 2, "artists": 3, "duration_seconds": 4}


@pytest.fixture
def elsewhere() -> Iterator[Scripted]:
    """A second scripted server: another host, as storage or a CDN would be."""
    server = Scripted()
    try:
        yield server
    finally:
        server.stop()


def track(track_id: int) -> dict[str, Any]:
    return {
        "id": track_id,
        "title": f"t{track_id}",
        "artist": "bob",
        "artist_did": "did:plc:bob",
        "album": None,
        "description": None,
        "tags": [],
        "features": [],
        "duration": 2,
        "file_type": "wav",
        "audio_url": f"/audio/{track_id}",
        "download_url": f"/audio/{track_id}/download",
        "image_url": None,
        "thumbnail_url": None,
        "gain_db": None,
        "play_count": 0,
        "publish_state": "published",
        "publish_error": None,
        "uri": None,
        "cid": None,
        "created_at": "2026-01-01T00:00:00Z",
    }


def test_a_redirect_to_another_host_does_not_take_the_token(
    scripted: Scripted, elsewhere: Scripted, tmp_path: Path
) -> None:
    audio = b"RIFF" + bytes(1000)
    stored = {"content-disposition": 'attachment; filename="take.wav"'}
    scripted.on("GET /audio/7/download", Reply(302, b"", {"location": f"{elsewhere.url}/blobs/7"}))
    elsewhere.on("GET /blobs/7", Reply(200, audio, stored))
    scripted.on("GET /api/stats", Reply(301, b"", {"location": "/api/stats/"}))
    scripted.on("GET /api/stats/", Reply(200, STATS))
    with Client(scripted.url, TOKEN) as client:
        saved = client.download(7, tmp_path)
        assert client.stats().plays == 1
    assert saved == tmp_path / "take.wav"
    assert saved.read_bytes() == audio
    assert [seen.authorization for seen in elsewhere.requests] == [None]
    # The same host keeps it, through its own redirect too.
    assert {seen.authorization for seen in scripted.requests} == {f"Bearer {TOKEN}"}
    assert len(scripted.requests) == 3


def test_an_exports_link_to_another_host_does_not_get_the_token(
    scripted: Scripted, elsewhere: Scripted, tmp_path: Path
) -> None:
    ready = {
        "id": "e1",
        "status": "ready",
        "progress": 1.0,
        "files": 3,
        "size_bytes": 4,
        "error": None,
        "created_at": "2026-01-01T00:00:00Z",
        "expires_at": None,
        "download_url": f"{elsewhere.url}/signed/e1.zip",
    }
    scripted.on("POST /api/me/exports", Reply(202, ready))
    elsewhere.on("GET /signed/e1.zip", Reply(200, b"PK\x05\x06" + bytes(18)))
    with Client(scripted.url, TOKEN) as client:
        archive = client.export(tmp_path / "mine.zip")
    assert archive.read_bytes().startswith(b"PK")
    assert [seen.authorization for seen in scripted.requests] == [f"Bearer {TOKEN}"]
    assert [seen.authorization for seen in elsewhere.requests] == [None]


def test_a_write_that_is_redirected_is_not_sent_on(scripted: Scripted, tmp_path: Path) -> None:
    # httpx would turn the POST into a GET on 301, and cannot send a streamed upload twice
    # on 308: the SDK says what happened instead.
    moved = "https://plyr.example/api/tracks/5/like"
    scripted.on("POST /api/tracks/5/like", Reply(301, b"", {"location": moved}))
    scripted.on("POST /api/tracks", Reply(308, b"", {"location": "/api/v2/tracks"}))
    audio = make_audio(tmp_path / "a.wav", "wav", seconds=0.5)
    with Client(scripted.url, TOKEN, max_retries=0) as client:
        with pytest.raises(PlyrError) as liked:
            client.like(5)
        with pytest.raises(PlyrError) as uploaded:
            client.upload(audio)
    assert str(liked.value) == (
        f"plyr at {scripted.url} redirects POST /api/tracks/5/like to {moved} (HTTP 301): "
        "use the address it moved to as the plyr URL"
    )
    assert liked.value.status == 301
    assert "/api/v2/tracks (HTTP 308)" in str(uploaded.value)
    assert [(seen.method, seen.path) for seen in scripted.requests] == [
        ("POST", "/api/tracks/5/like"),
        ("POST", "/api/tracks"),
    ]


def test_a_mangled_token_is_refused_without_being_shown(scripted: Scripted) -> None:
    for mangled in (f"{TOKEN[:6]}\n{TOKEN[6:]}", f"{TOKEN[:6]} {TOKEN[6:]}", TOKEN + "é"):
        with pytest.raises(InvalidRequest) as refused:
            Client(scripted.url, mangled)
        assert "secret" not in str(refused.value)
        assert "\n" not in str(refused.value)
    # Around it, spaces and a line break (a token file with CRLF) are only trimmed.
    scripted.on("GET /api/stats", Reply(200, STATS))
    with Client(scripted.url, f"  {TOKEN}\r\n") as client:
        client.stats()
    assert [seen.authorization for seen in scripted.requests] == [f"Bearer {TOKEN}"]
    assert TOKEN not in repr(load_config(scripted.url, TOKEN))


def test_paging_fetches_a_page_only_when_the_caller_gets_there(scripted: Scripted) -> None:
    scripted.on(
        "GET /api/tracks",
        Reply(200, {"tracks": [track(3), track(2)], "cursor": "c2"}),
        Reply(200, {"tracks": [], "cursor": "c1"}),  # a page may be empty yet not the last
        Reply(200, {"tracks": [track(1)], "cursor": None}),
    )
    with Client(scripted.url) as client:
        pages = client.tracks("bob.test", page_size=2)
        assert [t.id for t in islice(pages, 2)] == [3, 2]
        assert len(scripted.requests) == 1
        assert [t.id for t in pages] == [1]
    queries = [seen.query for seen in scripted.requests]
    assert queries == [
        "artist=bob.test&limit=2",
        "artist=bob.test&cursor=c2&limit=2",
        "artist=bob.test&cursor=c1&limit=2",
    ]

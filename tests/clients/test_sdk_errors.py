"""Every failure of the SDK is a typed PlyrError with a one-line message: against the live
plyr (an expired, a revoked or no token, a file that is not audio, an unknown track), and
against small local servers that answer what a test scripts (plyr down, 429/503 retried
honouring Retry-After, 5xx, dropped connections, answers that never come, an upload's
progress stream that breaks and falls back to polling)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from plyrfm import AsyncClient, Client, Timeout
from plyrfm.errors import (
    AuthenticationError,
    InvalidRequest,
    NotFound,
    NotSignedIn,
    PlyrError,
    RateLimited,
    ServerError,
    ServerUnreachable,
    UploadFailed,
)
from plyrfm.models import UploadProgress
from tests.clients.conftest import DeadTokens, TokenUser
from tests.clients.scripted import Reply, Scripted
from tests.support.audio import make_audio, make_text
from tests.support.local_http import silent_port  # noqa: F401 - a fixture
from tests.support.plyr_server import PlyrServer
from tests.support.ports import free_port

UNKNOWN_TRACK = 987_654_321


def one_line(error: PlyrError, prefix: str) -> str:
    text = str(error)
    assert "\n" not in text, text
    assert text.startswith(prefix), text
    assert "Traceback" not in text, text
    return text


# against the live plyr


@pytest.mark.browser
async def test_expired_and_revoked_tokens(plyr: PlyrServer, dead_tokens: DeadTokens) -> None:
    for token in (dead_tokens.expired, dead_tokens.revoked):
        async with AsyncClient(plyr.url, token) as client:
            with pytest.raises(AuthenticationError) as failed:
                await client.me()
            assert failed.value.status == 401
            assert failed.value.request_id
            one_line(failed.value, "authentication failed: ")
            with pytest.raises(AuthenticationError):
                [t async for t in client.likes()]


async def test_no_token_makes_no_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, scripted: Scripted
) -> None:
    monkeypatch.delenv("PLYR_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no config file either
    async with AsyncClient(scripted.url) as client:
        assert not client.signed_in
        for call in (client.me(), client.like(1), client.lists(), client.export(tmp_path)):
            with pytest.raises(NotSignedIn) as failed:
                await call
            one_line(failed.value, "not signed in: ")
            assert "plyrfm login" in str(failed.value)
        with pytest.raises(NotSignedIn):
            await client.upload(make_audio(tmp_path / "a.wav", "wav", seconds=0.5))
    assert scripted.requests == []


@pytest.mark.browser
async def test_a_file_that_is_not_audio(plyr: PlyrServer, bob: TokenUser, tmp_path: Path) -> None:
    text = make_text(tmp_path / "notes.mp3")
    async with httpx.AsyncClient(base_url=plyr.url) as http:  # what plyr says, asked directly
        with text.open("rb") as handle:
            direct = await http.post(
                "/api/tracks",
                files={"file": (text.name, handle)},
                headers={"authorization": f"Bearer {bob.token}"},
            )
    assert direct.status_code == 415, direct.text
    reason = direct.json()["error"]["message"]

    events: list[UploadProgress] = []
    async with AsyncClient(plyr.url, bob.token) as client:
        with pytest.raises(InvalidRequest) as failed:
            await client.upload(text, title="not music", on_progress=events.append)
        with pytest.raises(InvalidRequest) as missing:
            await client.upload(tmp_path / "nowhere.wav")
    assert failed.value.status == 415
    assert failed.value.code == "unsupported_format"
    assert str(failed.value) == f"invalid request: {reason}"
    assert {e.phase for e in events} == {"sending"}
    one_line(missing.value, "invalid request: the audio ")


@pytest.mark.browser
async def test_an_unknown_track(plyr: PlyrServer, bob: TokenUser, tmp_path: Path) -> None:
    async with AsyncClient(plyr.url, bob.token) as client:
        for call in (
            client.track(UNKNOWN_TRACK),
            client.like(UNKNOWN_TRACK),
            client.download(UNKNOWN_TRACK, tmp_path),
        ):
            with pytest.raises(NotFound) as failed:
                await call
            assert failed.value.status == 404
            one_line(failed.value, "not found: ")
    assert os.listdir(tmp_path) == []  # nothing left behind, not even a partial file


# against scripted local servers


STATS = {"plays": 1, "tracks": 2, "artists": 3, "duration_seconds": 4}
LIKE = {"track_id": 5, "liked": True, "likes": 1, "record_state": "pending", "uri": None}


def plyr_error(status: int, code: str, message: str) -> Reply:
    body = {"error": {"code": code, "message": message, "request_id": "req-1"}}
    return Reply(status, body, {"x-request-id": "req-1"})


def test_plyr_down_fails_fast_after_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with Client(url, "plyr_token", max_retries=2, backoff=0.05) as client:
        with pytest.raises(ServerUnreachable) as failed:
            client.me()
        with pytest.raises(ServerUnreachable):
            client.like(1)  # nothing was sent: a POST is retried too, and still fails
    assert time.monotonic() - started < 3
    assert str(failed.value) == f"plyr at {url} is not reachable (connection refused)"


def test_503_is_retried_after_what_retry_after_says(scripted: Scripted) -> None:
    scripted.on("GET /api/stats", plyr_error(503, "unavailable", "busy"), Reply(200, STATS))
    scripted.script["GET /api/stats"][0].headers["retry-after"] = "1"
    with Client(scripted.url, backoff=0.01) as client:
        stats = client.stats()
    assert stats.artists == 3
    first, second = scripted.requests
    assert scripted.count("GET /api/stats") == 2
    assert 1.0 <= second.at - first.at < 1.8  # Retry-After, not the 0.01 s backoff


def test_429_is_retried_for_a_post_then_raised_when_it_persists(scripted: Scripted) -> None:
    limited = plyr_error(429, "rate_limited", "too many requests; try again in 1 s")
    limited.headers["retry-after"] = "1"
    scripted.on("POST /api/tracks/5/like", limited, Reply(200, LIKE))
    scripted.on("DELETE /api/tracks/5/like", limited)
    with Client(scripted.url, "plyr_token", max_retries=1, backoff=0.01) as client:
        assert client.like(5).liked
        with pytest.raises(RateLimited) as failed:
            client.unlike(5)
    assert scripted.count("POST /api/tracks/5/like") == 2
    assert scripted.count("DELETE /api/tracks/5/like") == 2
    assert failed.value.retry_after == 1.0
    assert failed.value.status == 429
    assert failed.value.request_id == "req-1"
    assert failed.value.code == "rate_limited"
    assert str(failed.value) == "rate limited: too many requests; try again in 1 s"


def test_other_errors_are_not_retried(scripted: Scripted) -> None:
    scripted.on("GET /api/stats", plyr_error(500, "internal", "it broke\n  badly"))
    scripted.on("GET /api/tags", Reply(502, b"<html><h1>502 Bad Gateway</h1></html>"))
    scripted.on("GET /api/tracks/1", Reply(200, {"id": "not a track"}))
    with Client(scripted.url, backoff=0.01) as client:
        with pytest.raises(ServerError) as broke:
            client.stats()
        with pytest.raises(ServerError) as proxy:
            client.tags()
        with pytest.raises(ServerError) as garbled:
            client.track(1)
    assert str(broke.value) == "server error (HTTP 500): it broke badly"
    assert str(proxy.value) == "server error (HTTP 502): bad gateway"
    one_line(garbled.value, "server error: GET /api/tracks/{track_id} answered an unexpected")
    assert [seen.path for seen in scripted.requests] == ["/api/stats", "/api/tags", "/api/tracks/1"]


def test_a_dropped_connection_is_retried_only_when_safe(scripted: Scripted) -> None:
    scripted.on("GET /api/stats", Reply(drop=True), Reply(200, STATS))
    scripted.on("POST /api/tracks/5/like", Reply(drop=True), Reply(200, LIKE))
    with Client(scripted.url, "plyr_token", backoff=0.01) as client:
        assert client.stats().plays == 1
        with pytest.raises(ServerUnreachable) as failed:
            client.like(5)  # the server may have liked it: not sent twice
    assert scripted.count("GET /api/stats") == 2
    assert scripted.count("POST /api/tracks/5/like") == 1
    one_line(failed.value, f"plyr at {scripted.url} is not reachable (the connection broke")


def test_an_answer_that_never_comes_times_out(silent_port: int) -> None:  # noqa: F811
    url = f"http://127.0.0.1:{silent_port}"
    started = time.monotonic()
    timeout = Timeout(connect=2, read=0.5, write=2)
    client = Client(url, timeout=timeout, max_retries=1, backoff=0.01)
    with client, pytest.raises(ServerUnreachable) as failed:
        client.stats()
    took = time.monotonic() - started
    assert 1.0 <= took < 2.5, took  # two tries of 0.5 s
    assert str(failed.value) == f"plyr at {url} is not reachable (no answer within 0.5 s)"


async def test_a_post_that_hangs_is_not_sent_twice(scripted: Scripted, tmp_path: Path) -> None:
    scripted.on("POST /api/tracks", Reply(hang=True))
    audio = make_audio(tmp_path / "a.wav", "wav", seconds=0.5)
    async with AsyncClient(scripted.url, "plyr_token", timeout=0.5, backoff=0.01) as client:
        with pytest.raises(ServerUnreachable, match=r"no answer within 0\.5 s"):
            await client.upload(audio)
    assert scripted.count("POST /api/tracks") == 1


def progress(phase: str, percent: int, **more: Any) -> dict[str, Any]:
    base = {"message": phase, "warnings": [], "track_id": None, "error": None, "done": False}
    return {"phase": phase, "percent": percent, **base, **more}


def event(data: dict[str, Any]) -> bytes:
    return f"event: progress\r\ndata: {json.dumps(data)}\r\n\r\n".encode()


TRACK = {
    "id": 7,
    "title": "t",
    "artist": "bob",
    "artist_did": "did:plc:bob",
    "album": None,
    "description": None,
    "tags": [],
    "features": [],
    "duration": 2,
    "file_type": "wav",
    "audio_url": "/audio/7",
    "download_url": "/audio/7/download",
    "image_url": None,
    "thumbnail_url": None,
    "gain_db": None,
    "play_count": 0,
    "publish_state": "published",
    "publish_error": None,
    "uri": "at://did:plc:bob/fm.plyr.track/x",
    "cid": "bafy",
    "created_at": "2026-01-01T00:00:00Z",
}
ACCEPTED = {"upload_id": "u1", "progress_url": "/api/uploads/u1/progress", "status_url": "/"}


async def test_a_broken_progress_stream_falls_back_to_polling(
    scripted: Scripted, tmp_path: Path
) -> None:
    probing = event(progress("probing", 30))
    scripted.on("POST /api/tracks", Reply(202, ACCEPTED))
    # a keep-alive, then an event split across chunks mid-line, then the stream breaks
    chunks = [b": keep-alive\r\n\r\n", probing[:20], probing[20:], b"event: progress\r\nda"]
    sse = {"content-type": "text/event-stream"}
    scripted.on("GET /api/uploads/u1/progress", Reply(200, headers=sse, chunks=chunks))
    scripted.on(
        "GET /api/uploads/u1",
        Reply(200, progress("probing", 30)),
        Reply(200, progress("publishing", 95, track_id=7)),
        Reply(200, progress("published", 100, track_id=7, done=True)),
    )
    scripted.on("GET /api/tracks/7", Reply(200, TRACK))
    events: list[UploadProgress] = []
    audio = make_audio(tmp_path / "a.wav", "wav", seconds=0.5)
    async with AsyncClient(scripted.url, "plyr_token", backoff=0.01) as client:
        track = await client.upload(audio, tags=["a", "b"], on_progress=events.append)
    assert track.id == 7
    phases = [e.phase for e in events if e.phase != "sending"]
    assert phases == ["probing", "publishing", "published"]  # the poll's repeat not reported
    assert scripted.count("GET /api/uploads/u1/progress") == 1
    assert scripted.count("GET /api/uploads/u1") == 3


def test_a_failed_upload_raises_with_the_servers_reason(scripted: Scripted, tmp_path: Path) -> None:
    failed = progress("failed", 100, error="the audio could not be decoded", done=True)
    scripted.on("POST /api/tracks", Reply(202, ACCEPTED))
    scripted.on(
        "GET /api/uploads/u1/progress",
        Reply(200, event(progress("queued", 0)) + b": keep-alive\n\n" + event(failed)),
    )
    audio = make_audio(tmp_path / "a.wav", "wav", seconds=0.5)
    with Client(scripted.url, "plyr_token") as client, pytest.raises(UploadFailed) as raised:
        client.upload(audio)
    assert str(raised.value) == "upload failed: the audio could not be decoded"
    assert scripted.count("GET /api/uploads/u1") == 0

"""The AcoustID matcher against a real local HTTP server that answers like AcoustID's
lookup API (POST, form-encoded; JSON answers)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import numpy as np
import pytest

from plyr.media.fingerprint import Fingerprint, parse_fingerprint_file
from plyr.moderation.acoustid import AcoustIdMatcher, MatcherRejected
from plyr.moderation.matching import ExternalWork, MatcherUnavailable, MatchRange

ANSWER = {
    "status": "ok",
    "results": [
        {
            "id": "9ff43b6a-4f16-427c-93c2-92307ca505e0",
            "score": 0.934,
            "recordings": [
                {
                    "id": "cd2e7c47-16f5-46c6-a37c-a1eb7bf599ff",
                    "title": "Song",
                    "duration": 182,
                    "artists": [{"id": "a1", "name": "Someone"}, {"id": "a2", "name": "Else"}],
                },
                {"id": "0b2c1d8e-0000-4000-8000-000000000001"},
            ],
        },
        {"id": "11111111-1111-4111-8111-111111111111", "score": 0.41, "recordings": []},
        {"id": "22222222-2222-4222-8222-222222222222", "score": 0.35},
    ],
}


class AcoustIdStandIn:
    """Answers POST /v2/lookup with ``status`` and ``body``; keeps the forms it got."""

    def __init__(self) -> None:
        self.status = 200
        self.body: object = ANSWER
        self.hang = threading.Event()
        self.forms: list[dict[str, list[str]]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                stand_in.forms.append(parse_qs(self.rfile.read(length).decode()))
                if stand_in.hang.is_set():
                    stand_in.stopping.wait(10)
                    return
                data = stand_in.body if isinstance(stand_in.body, bytes) else None
                data = data or json.dumps(stand_in.body).encode()
                self.send_response(stand_in.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v2/lookup"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def service() -> Iterator[AcoustIdStandIn]:
    stand_in = AcoustIdStandIn()
    yield stand_in
    stand_in.stop()


FP = Fingerprint(np.random.default_rng(5).integers(0, 2**32, 900, dtype=np.uint32), 111.6)


async def test_lookup_maps_recordings_to_matches(service: AcoustIdStandIn) -> None:
    async with httpx.AsyncClient() as http:
        matcher = AcoustIdMatcher(http, service.url, "secret-key")
        found = await matcher.find(FP, min_score=40)
    (form,) = service.forms
    assert form["client"] == ["secret-key"]
    assert form["duration"] == ["112"]
    assert form["meta"] == ["recordings"]
    # the compressed fingerprint decodes to the very values sent
    sent = parse_fingerprint_file(f"DURATION=112\nFINGERPRINT={form['fingerprint'][0]}")
    assert np.array_equal(sent[0].fingerprint.values, FP.values)
    assert [(m.key, m.score) for m in found] == [
        ("acoustid:0b2c1d8e-0000-4000-8000-000000000001", 93),
        ("acoustid:cd2e7c47-16f5-46c6-a37c-a1eb7bf599ff", 93),
    ]
    song = found[1]
    assert song.external == ExternalWork("Song", "Someone, Else", song.key.split(":")[1])
    assert song.ranges == (MatchRange(0.0, 111.6, 0.0, 182.0),)
    assert found[0].external == ExternalWork(None, None, found[0].key.split(":")[1])


async def test_exclude_and_min_score(service: AcoustIdStandIn) -> None:
    async with httpx.AsyncClient() as http:
        matcher = AcoustIdMatcher(http, service.url, "k")
        assert await matcher.find(FP, min_score=94) == []
        only = await matcher.find(
            FP, min_score=1, exclude={"acoustid:0b2c1d8e-0000-4000-8000-000000000001"}
        )
    assert [m.key for m in only] == ["acoustid:cd2e7c47-16f5-46c6-a37c-a1eb7bf599ff"]


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, {"status": "error", "error": {"code": 14, "message": "rate limit"}}, "rate limit"),
        (429, {"status": "error", "error": {"code": 14, "message": "rate limit"}}, "rate limit"),
        (503, b"<html>down for maintenance</html>", "answered 503"),
        (200, {"status": "ok"}, "without results"),
    ],
)
async def test_service_errors_are_transient(
    service: AcoustIdStandIn, status: int, body: object, message: str
) -> None:
    service.status, service.body = status, body
    async with httpx.AsyncClient() as http:
        with pytest.raises(MatcherUnavailable, match=message):
            await AcoustIdMatcher(http, service.url, "k").find(FP, min_score=1)


async def test_a_refused_request_is_permanent(service: AcoustIdStandIn) -> None:
    """A 4xx (a bad key) is the request's fault: retrying it can't help."""
    service.status = 400
    service.body = {"status": "error", "error": {"code": 4, "message": "invalid API key"}}
    async with httpx.AsyncClient() as http:
        with pytest.raises(MatcherRejected, match="invalid API key"):
            await AcoustIdMatcher(http, service.url, "k").find(FP, min_score=1)


async def test_a_slow_or_absent_service_is_transient(service: AcoustIdStandIn) -> None:
    service.hang.set()
    async with httpx.AsyncClient() as http:
        with pytest.raises(MatcherUnavailable, match="timed out"):
            await AcoustIdMatcher(http, service.url, "k", timeout=0.3).find(FP, min_score=1)
        closed = service.url.replace(str(service.httpd.server_address[1]), "9")
        with pytest.raises(MatcherUnavailable, match="can't be reached"):
            await AcoustIdMatcher(http, closed, "k").find(FP, min_score=1)

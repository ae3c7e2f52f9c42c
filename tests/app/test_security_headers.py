"""Security headers on every response, and HEAD answered like GET (issue 14, item 4).

Pages, the API, static files, media and errors (404, 405, 422, 500) carry the CSP (no
inline script; framing refused except for the embeddable player), nosniff and the referrer
policy; HSTS only in production over https. HEAD gives GET's status and headers, without
the body, over the in-process client and a real uvicorn server alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from plyr.config import Settings
from plyr.db.models import Artist
from plyr.storage.base import content_key
from plyr.web.shared.security import content_security_policy, storage_origins
from tests.conftest import make_settings
from tests.support.ports import free_port
from tests.support.search_catalogue import catalogue_track
from tests.support.served_app import serving
from tests.support.serving import uvicorn_serving

AUDIO = bytes(range(256)) * 40  # 10 KiB stands in for a file: only its bytes matter here
TRACK_ID = 7
# Headers that differ between two answers to the same request.
VOLATILE = {"x-request-id", "date"}
# Bodies that differ between two answers to the same request, so their lengths do too:
# /health's `ms` timings (each `0.4` to `1234.5`). At most this many bytes apart.
VARYING_LENGTH = {"/health": 16}


async def add_track(app: FastAPI) -> str:
    """A published track whose audio is stored; returns the audio's storage key."""
    runtime = app.state.runtime
    key = content_key("audio", hashlib.sha256(AUDIO).hexdigest(), "mp3")

    async def chunks() -> AsyncIterator[bytes]:
        yield AUDIO

    await runtime.storage.put(key, chunks(), "audio/mpeg")
    async with runtime.sessions() as session:
        did = "did:plc:headers"
        session.add(Artist(did=did, handle="headers.test", pds_url="https://pds.test"))
        await session.flush()
        track = catalogue_track(TRACK_ID, did, "framed", "headers")
        track.original_key = key
        track.stream_content_type = "audio/mpeg"
        session.add(track)
        await session.commit()
    return key


def assert_secured(response: httpx.Response, *, framable: bool = False) -> str:
    """The headers every response carries; returns the CSP."""
    csp = response.headers.get("content-security-policy", "")
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives.get("script-src") == "'self'", where  # no unsafe-inline, no eval
    assert directives.get("object-src") == "'none'", where
    assert directives.get("default-src") == "'self'", where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "strict-origin-when-cross-origin", where
    assert "strict-transport-security" not in response.headers, where  # not in development
    if framable:
        assert directives.get("frame-ancestors") == "*", where
        assert "x-frame-options" not in response.headers, where
    else:
        assert directives.get("frame-ancestors") == "'none'", where
        assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get_list("content-security-policy") == [csp], where  # just one
    return csp


async def test_every_kind_of_response_is_secured(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    key = await add_track(app)
    html = {"accept": "text/html"}
    answers = {
        "/": 200,
        "/search?q=it's": 200,
        f"/tracks/{TRACK_ID}": 200,
        "/api/docs": 200,
        "/api/openapi.json": 200,
        "/api/search?q=x": 200,
        "/health": 200,
        "/static/css/plyr.css": 200,
        "/static/js/api-docs.js": 200,
        "/api/docs-assets/swagger-ui.css": 200,
        f"/audio/{TRACK_ID}": 200,
        f"/media/{key}": 200,
        "/no/such/page": 404,
        "/api/no/such/thing": 404,
        "/static/nothing.css": 404,
        "/api/test/items/not-a-number": 422,
        "/api/test/boom": 500,
        "/test/boom-page": 500,
    }
    for path, status in answers.items():
        response = await client.get(path, headers=html)
        assert response.status_code == status, (path, response.text[:300])
        assert_secured(response)
    ranged = await client.get(f"/audio/{TRACK_ID}", headers={"range": "bytes=0-99"})
    assert ranged.status_code == 206
    assert_secured(ranged)
    refused = await client.post("/health")
    assert refused.status_code == 405
    assert_secured(refused)

    embed = await client.get(f"/embed/track/{TRACK_ID}")
    assert embed.status_code == 200
    csp = assert_secured(embed, framable=True)
    assert "script-src 'self'" in csp
    missing = await client.get("/embed/track/999999")  # a deleted track's frame says so
    assert missing.status_code == 404
    assert_secured(missing, framable=True)


async def test_hsts_only_in_production_over_https(tmp_path: Path, db_url: str) -> None:
    production = make_settings(
        tmp_path, db_url, environment="production", public_url="https://plyr.example"
    )
    async with serving(production) as (_app, client):
        for path in ("/", "/api/search?q=x", "/static/css/plyr.css", "/api/test/boom"):
            response = await client.get(path)
            assert response.headers["strict-transport-security"].startswith("max-age="), path
            assert int(response.headers["strict-transport-security"][8:].split(";")[0]) >= 15552000
    plain = make_settings(tmp_path, db_url, environment="production", public_url="http://lan:8000")
    async with serving(plain) as (_app, client):
        assert "strict-transport-security" not in (await client.get("/")).headers
    # development: assert_secured checks its absence everywhere above


def test_media_may_come_from_the_configured_s3_origin(tmp_path: Path) -> None:
    def policy(**overrides: object) -> dict[str, str]:
        settings = make_settings(tmp_path, "sqlite+aiosqlite://", **overrides)
        csp = content_security_policy(settings, framable=False)
        return dict(part.strip().split(" ", 1) for part in csp.split(";"))

    local = policy()
    assert local["media-src"] == "'self' blob:"
    assert "https:" in local["img-src"].split()  # avatars on users' PDSes
    cdn = policy(storage_backend="s3", s3_public_base_url="https://cdn.example/bucket/")
    assert cdn["media-src"] == "'self' blob: https://cdn.example"
    assert "https://cdn.example" in cdn["img-src"]
    endpoint = policy(storage_backend="s3", s3_endpoint_url="http://127.0.0.1:8333")
    assert endpoint["media-src"] == "'self' blob: http://127.0.0.1:8333"
    virtual: Settings = make_settings(
        tmp_path,
        "sqlite+aiosqlite://",
        storage_backend="s3",
        s3_endpoint_url="https://s3.example:9000",
        s3_addressing_style="virtual",
    )
    assert storage_origins(virtual) == ["https://s3.example:9000", "https://*.s3.example:9000"]
    assert policy(storage_backend="s3")["media-src"].endswith("https://*.amazonaws.com")


def _comparable(response: httpx.Response, *, length: bool = True) -> dict[str, str]:
    ignored = VOLATILE if length else VOLATILE | {"content-length"}
    return {k: v for k, v in response.headers.items() if k not in ignored}


async def assert_head_is_get(client: httpx.AsyncClient, path: str, status: int) -> None:
    got = await client.get(path)
    head = await client.head(path)
    assert got.status_code == status, (path, got.text[:300])
    assert head.status_code == status, path
    assert head.content == b"", path
    slack = VARYING_LENGTH.get(path.partition("?")[0])
    assert _comparable(head, length=slack is None) == _comparable(got, length=slack is None), path
    if "content-length" in got.headers:
        # HEAD's length is that of the body its own GET made, which a varying body changes.
        length = int(head.headers["content-length"])
        assert abs(length - len(got.content)) <= (slack or 0), (path, length, len(got.content))


HEAD_CASES = {
    "/": 200,
    f"/tracks/{TRACK_ID}": 200,
    f"/embed/track/{TRACK_ID}": 200,
    "/api/search?q=framed": 200,
    f"/api/tracks/{TRACK_ID}": 200,
    # JSON outside /api: oEmbed's body is stable, /health's timings are not (VARYING_LENGTH).
    f"/oembed?url=http://127.0.0.1:8000/tracks/{TRACK_ID}": 200,  # make_settings' public URL
    "/health": 200,
    "/static/css/plyr.css": 200,
    f"/audio/{TRACK_ID}": 200,
    f"/audio/{TRACK_ID}/download": 200,
    f"/images/{TRACK_ID}": 404,  # no artwork: the error page
    "/no/such/page": 404,
    "/api/test/items/not-a-number": 422,
}


async def test_head_answers_like_get_without_a_body(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    key = await add_track(app)
    for path, status in {**HEAD_CASES, f"/media/{key}": 200}.items():
        await assert_head_is_get(client, path, status)

    # No GET there: HEAD is refused as GET would be, with what is allowed.
    for path in ("/api/test/items", "/logout"):
        head = await client.head(path)
        assert head.status_code == 405, path
        assert head.content == b""
        assert "POST" in head.headers["allow"]
        assert_secured(head)


async def test_head_over_a_real_server(app_client: tuple[FastAPI, httpx.AsyncClient]) -> None:
    """uvicorn checks content-length against what is sent: HEAD must keep GET's."""
    app, _client = app_client
    await add_track(app)
    port = free_port()
    async with (
        uvicorn_serving(app, port, lifespan="off"),
        # A loaded CI machine can take longer than httpx's default 5 s on a cold page.
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
    ):
        for path, status in HEAD_CASES.items():
            await assert_head_is_get(client, path, status)


async def test_outer_middleware_sees_head_and_the_route(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """What request metrics read after the call: the real method and the route template."""
    app, _client = app_client
    seen: list[tuple[str, str | None]] = []

    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)
        if scope["type"] == "http":
            seen.append((scope["method"], getattr(scope.get("route"), "path", None)))

    transport = httpx.ASGITransport(app=recorded)
    async with httpx.AsyncClient(transport=transport, base_url="http://plyr.test") as client:
        assert (await client.head("/api/test/items/5")).status_code == 200
        assert (await client.head("/tracks/1")).status_code == 404  # a page's route, no track
    assert seen == [("HEAD", "/api/test/items/{item_id}"), ("HEAD", "/tracks/{track_id}")]

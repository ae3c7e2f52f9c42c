"""The web app as a whole: /health, error shapes, request ids, OpenAPI, the home page.

The app runs in-process through its real lifespan (which opens the Runtime), on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from plyr.config import Settings
from plyr.db.models import Artist, PublishState, Track
from plyr.logs import configure_logging
from plyr.web.app import create_app
from plyr.web.errors import ApiError
from tests.conftest import free_port, make_settings
from tests.support.databases import clear_tables

UUID_HEX = re.compile(r"^[0-9a-f]{32}$")
LEAKY_MESSAGE = "db password is hunter2 and the stack says so"


class Item(BaseModel):
    name: str = Field(min_length=1)
    count: int = Field(ge=0)


def add_test_routes(app: FastAPI) -> None:
    """Routes that exist only in these tests, to drive validation and failure paths."""

    @app.get("/api/test/items/{item_id}")
    async def read_item(item_id: int, limit: int = Query(default=10, ge=1)) -> dict[str, int]:
        return {"item_id": item_id, "limit": limit}

    @app.post("/api/test/items")
    async def create_item(item: Item) -> Item:
        return item

    @app.get("/api/test/boom")
    async def boom() -> None:
        raise RuntimeError(LEAKY_MESSAGE)

    @app.get("/test/boom-page")
    async def boom_page() -> None:
        raise RuntimeError(LEAKY_MESSAGE)

    @app.get("/api/test/conflict")
    async def conflict() -> None:
        raise ApiError(409, "already_exists", "that thing is there already")


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its lifespan running, and a client that talks to it in-process."""
    app = create_app(settings, run_worker=False)
    add_test_routes(app)
    # raise_app_exceptions=False: see the 500 response the server sends, as a browser would.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://plyr.test") as client,
    ):
        yield app, client


@pytest.fixture
async def app_client(
    tmp_path: Path, db_url: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with serving(make_settings(tmp_path, db_url)) as (app, client):
        try:
            yield app, client
        finally:
            await clear_tables(app.state.runtime.engine)


@pytest.fixture
def client(app_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_client[1]


def assert_api_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """The stable error shape, with the request id in the body and the header agreeing."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message", "request_id"} <= set(error)
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["request_id"]
    assert response.headers["x-request-id"] == error["request_id"]
    return error  # type: ignore[no-any-return]


# --- /health -------------------------------------------------------------------------------


async def test_health_ok_with_database_and_storage(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["storage"]["ok"] is True
    assert UUID_HEX.match(response.headers["x-request-id"])


async def test_health_503_when_storage_is_broken(tmp_path: Path, db_url: str) -> None:
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a folder")
    settings = make_settings(tmp_path, db_url, storage_local_dir=blocker / "media")

    async with serving(settings) as (_, client):
        response = await client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    storage = body["checks"]["storage"]
    assert storage["ok"] is False
    assert "not writable" in storage["error"]
    assert str(blocker) in storage["error"]
    assert response.headers["x-request-id"]


async def test_health_503_when_database_is_unreachable(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/plyr"
    settings = make_settings(tmp_path, url)

    async with serving(settings) as (_, client):
        response = await client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    database = body["checks"]["database"]
    assert database["ok"] is False
    assert database["error"]
    assert body["checks"]["storage"]["ok"] is True


# --- error shapes --------------------------------------------------------------------------


async def test_unknown_api_path_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/no/such/thing", headers={"accept": "text/html"})

    error = assert_api_error(response, 404, "not_found")
    assert error["message"] == "there is nothing at this address"
    assert UUID_HEX.match(str(error["request_id"]))


async def test_wrong_method_is_a_json_405(client: httpx.AsyncClient) -> None:
    response = await client.post("/health")

    assert_api_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_api_error_keeps_its_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/test/conflict")

    error = assert_api_error(response, 409, "already_exists")
    assert error["message"] == "that thing is there already"


async def test_unknown_page_is_a_friendly_html_404(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/no/such/page", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert ">page not found</h1>" in page
    assert 'href="/"' in page
    assert "/no/such/page" in page  # says what was asked for
    assert 'action="/search"' in page  # and offers a way to look for it
    assert response.headers["x-request-id"] in page
    assert "Traceback" not in page
    assert "Not Found" not in page  # lowercase copy, not the HTTP reason phrase


async def test_json_clients_get_json_404_off_the_api_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page", headers={"accept": "application/json"})

    assert_api_error(response, 404, "not_found")


async def test_validation_error_lists_the_fields(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/test/items/not-a-number", params={"limit": 0})

    error = assert_api_error(response, 422, "invalid_input")
    details = error["details"]
    assert isinstance(details, list)
    by_field = {detail["field"]: detail["reason"] for detail in details}
    assert set(by_field) == {"path.item_id", "query.limit"}
    assert all(isinstance(reason, str) and reason for reason in by_field.values())

    ok = await client.get("/api/test/items/7", params={"limit": 3})
    assert ok.status_code == 200
    assert ok.json() == {"item_id": 7, "limit": 3}


async def test_validation_error_on_a_json_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/test/items", json={"name": "", "count": -1})

    error = assert_api_error(response, 422, "invalid_input")
    fields = {detail["field"] for detail in error["details"]}  # type: ignore[attr-defined]
    assert fields == {"body.name", "body.count"}

    broken = await client.post(
        "/api/test/items", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_api_error(broken, 422, "invalid_input")


async def test_unhandled_exception_is_a_500_that_leaks_nothing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/test/boom", headers={"x-request-id": "trace-0001-boom"})

    error = assert_api_error(response, 500, "internal_error")
    assert error["request_id"] == "trace-0001-boom"
    assert "details" not in error
    assert LEAKY_MESSAGE not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text


async def test_unhandled_exception_on_a_page_is_an_html_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/test/boom-page", headers={"accept": "text/html"})

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "something broke" in response.text
    assert 'href="/"' in response.text
    assert LEAKY_MESSAGE not in response.text
    assert response.headers["x-request-id"] in response.text


# --- request ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_id", ["abc12345", "edge-lb.7f3a_99-XYZ", "0123456789abcdef0123456789abcdef"]
)
async def test_incoming_request_id_is_echoed(client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.get("/api/missing", headers={"x-request-id": request_id})

    assert response.headers["x-request-id"] == request_id
    assert response.json()["error"]["request_id"] == request_id


@pytest.mark.parametrize(
    "request_id",
    [
        "<script>alert(1)</script>",
        "a" * 500,
        "has spaces in it",
        "semi;colon=injection",
        "short",
        "",
    ],
)
async def test_unsafe_request_id_is_replaced(client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.get("/api/missing", headers={"x-request-id": request_id})

    replaced = response.headers["x-request-id"]
    assert replaced != request_id
    assert UUID_HEX.match(replaced)
    assert response.json()["error"]["request_id"] == replaced
    assert "<script>" not in response.text


async def test_each_request_gets_its_own_id(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/health")).headers["x-request-id"] for _ in range(5)}

    assert len(ids) == 5


@pytest.fixture
def production_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The logging `plyr serve` sets up (JSON lines on stderr, here a buffer), undone after."""
    stderr = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", stderr)
        configure_logging("INFO", "json")
    try:
        yield stderr
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


async def test_logs_carry_the_request_id(
    client: httpx.AsyncClient, production_logs: io.StringIO
) -> None:
    await client.get("/health", headers={"x-request-id": "log-trace-health-1"})
    await client.get("/api/test/boom", headers={"x-request-id": "log-trace-boom-2"})

    entries = [json.loads(line) for line in production_logs.getvalue().splitlines()]
    access = [entry for entry in entries if entry["logger"] == "plyr.access"]
    health = next(entry for entry in access if entry["msg"] == "GET /health 200")
    assert health["request_id"] == "log-trace-health-1"
    assert isinstance(health["duration_ms"], float)
    boom_access = next(entry for entry in access if entry["msg"] == "GET /api/test/boom 500")
    assert boom_access["request_id"] == "log-trace-boom-2"
    # The traceback goes to the log (not the client), tagged with the same request id.
    failure = next(entry for entry in entries if entry["level"] == "error")
    assert failure["request_id"] == "log-trace-boom-2"
    assert LEAKY_MESSAGE in str(failure["exc"])


async def test_access_log_record_per_request(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "plyr.access"):
        response = await client.get("/api/missing", headers={"x-request-id": "caplog-id-42"})

    assert response.headers["x-request-id"] == "caplog-id-42"
    (record,) = [r for r in caplog.records if r.name == "plyr.access"]
    assert record.getMessage() == "GET /api/missing 404"
    assert record.levelno == logging.INFO


# --- OpenAPI and pages ---------------------------------------------------------------------


async def test_openapi_schema_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "plyr"
    assert "/health" in schema["paths"]
    assert "/" not in schema["paths"]  # pages are not part of the API


async def test_docs_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower()
    assert "/api/openapi.json" in response.text
    # Everything the docs page loads comes from plyr itself, never a CDN.
    assert "cdn." not in response.text
    assert "https://" not in response.text.replace("https://fastapi.tiangolo.com", "")
    for asset in ("/api/docs-assets/swagger-ui-bundle.js", "/api/docs-assets/swagger-ui.css"):
        assert asset in response.text
        fetched = await client.get(asset)
        assert fetched.status_code == 200
        assert len(fetched.content) > 10_000


async def test_home_page_lists_published_tracks(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    empty = await client.get("/")
    assert empty.status_code == 200
    assert empty.headers["content-type"].startswith("text/html")
    assert "plyr" in empty.text
    assert "nothing published yet" in empty.text

    now = datetime.now(UTC)
    async with app.state.runtime.sessions() as session:
        session.add(Artist(did="did:plc:home", handle="home.test", pds_url="https://pds.test"))
        for index, (title, state) in enumerate(
            [
                ("a published song", PublishState.published),
                ("a song still processing", PublishState.processing),
                ("a song that failed", PublishState.failed),
            ]
        ):
            session.add(
                Track(
                    artist_did="did:plc:home",
                    title=title,
                    artist_name="home artist",
                    file_type="mp3",
                    content_hash=f"{index}" * 64,
                    original_key=f"audio/{index}.mp3",
                    rkey=f"rkey{index}",
                    publish_state=state,
                    created_at=now - timedelta(minutes=index),
                )
            )
        await session.commit()

    page = (await client.get("/")).text
    assert "a published song" in page
    assert "home artist" in page
    assert "a song still processing" not in page
    assert "a song that failed" not in page
    assert "1 artists" in page


async def test_static_files_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/css/plyr.css")

    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]


async def test_home_and_artist_pages_page_by_keyset(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """120 tracks, 50 a page: three pages that neither repeat nor skip a track, including
    tracks that share a creation time (the id breaks the tie); a bad cursor is page one."""
    app, client = app_client
    now = datetime.now(UTC)
    async with app.state.runtime.sessions() as session:
        session.add(Artist(did="did:plc:pager", handle="pager.test", pds_url="https://pds.test"))
        for index in range(120):
            session.add(
                Track(
                    artist_did="did:plc:pager",
                    title=f"paged song {index:03d}",
                    artist_name="pager",
                    file_type="mp3",
                    content_hash=f"{index:064d}",
                    original_key=f"audio/p{index}.mp3",
                    rkey=f"p{index}",
                    publish_state=PublishState.published,
                    atproto_uri=f"at://did:plc:pager/fm.plyr.track/p{index}",
                    created_at=now - timedelta(minutes=index // 3),  # three share each minute
                )
            )
        await session.commit()

    title = re.compile(r"paged song (\d{3})")
    for start in ("/", "/artists/pager.test"):
        seen: list[str] = []
        url: str | None = start
        pages = 0
        while url is not None:
            page = await client.get(url)
            assert page.status_code == 200
            found = title.findall(page.text)
            assert found, url
            seen += list(dict.fromkeys(found))
            older = re.search(r'href="([^"]*before=[^"]+)"[^>]*rel="next"', page.text)
            url = older.group(1).replace("&amp;", "&") if older else None
            pages += 1
        assert pages == 3
        assert len(seen) == 120
        assert len(set(seen)) == 120
        bad = await client.get(f"{start}{'&' if '?' in start else '?'}before=not-a-cursor")
        assert bad.status_code == 200
        assert title.findall(bad.text)[0] == seen[0]

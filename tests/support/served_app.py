"""plyr's app in-process through its real lifespan, with extra routes that exist only in tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from plyr.config import Settings
from plyr.web.app import create_app
from plyr.web.shared.errors import ApiError

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
        httpx.AsyncClient(transport=transport, base_url="http://plyr.test", timeout=30) as client,
    ):
        yield app, client


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

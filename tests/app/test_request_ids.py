"""Request ids: echoed when safe, replaced when not, carried into the logs."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import httpx
import pytest

from plyr.logs import configure_logging
from tests.support.served_app import LEAKY_MESSAGE, UUID_HEX


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

"""/health: the database and storage checks, 200 when both answer and 503 when not."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import make_settings
from tests.support.ports import free_port
from tests.support.served_app import UUID_HEX, serving


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

"""A rate-limited answer says when to come back: 429 `rate_limited` with `Retry-After` in
seconds (what the `plyrfm` SDK waits for before it retries), as the OpenAPI says."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from plyr.db.models import Artist
from tests.conftest import make_settings
from tests.support.databases import clear_tables
from tests.support.served_app import assert_api_error, serving
from tests.support.token_sessions import token_for

DID = "did:plc:ratelimitedaaaaaaaaaaaaa"


async def _writes(app: FastAPI, client: httpx.AsyncClient, count: int) -> list[httpx.Response]:
    runtime = app.state.runtime
    async with runtime.sessions() as db:
        db.add(Artist(did=DID, handle="limited.test", pds_url="https://pds.test"))
        await db.commit()
    headers = {"Authorization": f"Bearer {await token_for(runtime, DID)}"}
    return [
        await client.patch("/api/preferences", json={"theme": "dark"}, headers=headers)
        for _ in range(count)
    ]


async def test_a_429_carries_retry_after(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path, db_url, rate_limit_writes_per_minute=2)
    async with serving(settings) as (app, client):
        try:
            answers = await _writes(app, client, 3)
        finally:
            await clear_tables(app.state.runtime.engine)
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert_api_error(answers[2], 429, "rate_limited")
    retry_after = int(answers[2].headers["retry-after"])
    assert 0 < retry_after <= 60
    assert f"try again in {retry_after} s" in answers[2].json()["error"]["message"]
    assert "retry-after" not in answers[1].headers

    documented = app.openapi()["paths"]["/api/preferences"]["patch"]["responses"]["429"]
    assert documented["headers"]["Retry-After"]["schema"]["type"] == "integer"

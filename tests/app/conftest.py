"""Fixtures of the app tests: the app on SQLite and PostgreSQL, and an httpx client to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import make_settings
from tests.support.databases import clear_tables
from tests.support.served_app import serving


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

"""Fixtures of the streaming tests: stored objects, and a client for the app serving them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.stored_objects import Objects, asgi_client, streaming_app


@pytest.fixture
def objects(tmp_path: Path) -> Objects:
    return Objects(tmp_path / "media")


@pytest.fixture
async def client(objects: Objects) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(streaming_app(objects.storage)) as client:
        yield client

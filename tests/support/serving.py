"""An ASGI app served by uvicorn inside the test's event loop, on a loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import uvicorn
from fastapi import FastAPI


@asynccontextmanager
async def uvicorn_serving(
    app: FastAPI, port: int, *, lifespan: Literal["on", "off"]
) -> AsyncIterator[None]:
    """`app` served by uvicorn on 127.0.0.1:`port` until the block ends."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan=lifespan)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task

"""FastAPI dependencies: the process runtime and a database session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def runtime_of(request: Request) -> Runtime:
    """`get_runtime` as a dependency: FastAPI runs a plain function's dependency in a worker
    thread (a hop to the thread pool and back on every request); an async one in place."""
    return get_runtime(request)


async def get_session(
    runtime: Annotated[Runtime, Depends(runtime_of)],
) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]

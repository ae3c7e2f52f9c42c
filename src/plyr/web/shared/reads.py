"""One database connection for everything a page reads.

The domain functions a page calls each open a session (`runtime.sessions()`); on their
own each session is a pool checkout, a ping (PostgreSQL), a BEGIN and a ROLLBACK around
its one or two statements: the track page opened seven. `reading(runtime)` gives the page
a Runtime whose sessions all join one connection, so the same domain functions cost their
statements and nothing more. On PostgreSQL that connection is in autocommit: no BEGIN and
ROLLBACK round trips around the reads (each statement is its own snapshot, as it is in a
READ COMMITTED transaction anyway); SQLite sends no BEGIN for reads in the first place.

Reads only: such a session refuses to flush a change or to commit (in a transaction the
change would be rolled back at the end, in autocommit it would be written at once). A page
that changes anything uses the app's runtime.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session

from plyr.atproto.identity import IdentityResolver
from plyr.runtime import Runtime

READS_ONLY = "a page's read connection does not write: use the app's runtime"


class ReadOnlySession(Session):
    def flush(self, objects: Sequence[Any] | None = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise RuntimeError(READS_ONLY)

    def commit(self) -> None:
        raise RuntimeError(READS_ONLY)


@dataclass
class ReadingRuntime(Runtime):
    """The app's runtime with every session on one connection; its identity resolver and
    HTTP client are the app's own (made on first use there, closed with it)."""

    base: Runtime | None = field(default=None, repr=False)

    @property
    def identity(self) -> IdentityResolver:
        assert self.base is not None
        return self.base.identity

    @property
    def http(self) -> httpx.AsyncClient:
        assert self.base is not None
        return self.base.http


@contextlib.asynccontextmanager
async def reading(runtime: Runtime) -> AsyncIterator[Runtime]:
    """A Runtime for one page's reads: one connection (its transaction, if any, rolled
    back at the end)."""
    async with runtime.engine.connect() as conn:
        if not runtime.settings.is_sqlite:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.begin()
        sessions = async_sessionmaker(
            bind=conn,
            sync_session_class=ReadOnlySession,
            expire_on_commit=False,
            # Sessions join the connection's transaction and never end it.
            join_transaction_mode="rollback_only",
        )
        yield ReadingRuntime(
            settings=runtime.settings,
            engine=runtime.engine,
            sessions=sessions,
            storage=runtime.storage,
            base=runtime,
        )

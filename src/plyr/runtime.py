"""The long-lived parts one process shares: settings, database engine, sessions, storage.

The web app, the worker and the CLI all open one Runtime; nothing else builds engines.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from plyr.atproto.identity import IdentityResolver
from plyr.atproto.lexicon import LexiconRegistry, load_lexicons
from plyr.atproto.netguard import guarded_client
from plyr.config import Settings
from plyr.db import changes
from plyr.db.engine import create_engine, create_sessionmaker
from plyr.storage import Storage, create_storage, public_sync


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: Storage

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        with contextlib.suppress(OSError):  # preflight names a folder that cannot be made
            settings.ensure_data_dir()
        engine = create_engine(
            settings.effective_database_url,
            echo=settings.database_echo,
            pool_size=settings.database_pool_size,
        )
        # Commits that change what listeners see: told to this process's page cache and,
        # through a file in the data folder, to the other processes on the machine.
        changes.watch(engine, changes.signal_path(settings.data_dir))
        sessions = create_sessionmaker(engine)
        # Public tracks' files linked for nginx and the fast path, in step with commits.
        public_sync.watch(engine, sessions, settings)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            storage=create_storage(settings),
        )

    _identity: IdentityResolver | None = field(default=None, repr=False)
    _http: httpx.AsyncClient | None = field(default=None, repr=False)

    @property
    def identity(self) -> IdentityResolver:
        """Handle and DID resolution, with its cache; made on first use."""
        if self._identity is None:
            self._identity = IdentityResolver(self.settings)
        return self._identity

    @property
    def http(self) -> httpx.AsyncClient:
        """A guarded client for URLs users control (PDSes, authorization servers)."""
        if self._http is None:
            self._http = guarded_client(self.settings, timeout=15.0)
        return self._http

    @property
    def lexicons(self) -> LexiconRegistry:
        """plyr's lexicons under the configured namespace (loaded once per namespace)."""
        return load_lexicons(self.settings.atproto_namespace)

    async def close(self) -> None:
        if self._identity is not None:
            await self._identity.aclose()
        if self._http is not None:
            await self._http.aclose()
        await self.storage.close()
        await self.engine.dispose()

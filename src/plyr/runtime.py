"""The long-lived parts one process shares: settings, database engine, sessions, storage.

The web app, the worker and the CLI all open one Runtime; nothing else builds engines.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from plyr.atproto.lexicon import LexiconRegistry, load_lexicons
from plyr.config import Settings
from plyr.db.engine import create_engine, create_sessionmaker
from plyr.storage import Storage, create_storage


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: Storage

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        engine = create_engine(
            settings.effective_database_url,
            echo=settings.database_echo,
            pool_size=settings.database_pool_size,
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine),
            storage=create_storage(settings),
        )

    @property
    def lexicons(self) -> LexiconRegistry:
        """plyr's lexicons under the configured namespace (loaded once per namespace)."""
        return load_lexicons(self.settings.atproto_namespace)

    async def close(self) -> None:
        await self.storage.close()
        await self.engine.dispose()

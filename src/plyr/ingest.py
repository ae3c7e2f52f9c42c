"""The ingest role: follow the network's event stream and hand plyr's records to the code
that indexes them.

Features register a handler for the collections they own (`@record_handler("like")` for
`<namespace>.like`); records without a handler are logged and skipped. `plyr serve` runs
this inside the web process; `plyr ingest` runs it alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from plyr.atproto.firehose import FirehoseFollower, RecordEvent
from plyr.atproto.firehose_verify import IdentityKeys
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

IngestHandler = Callable[[Runtime, RecordEvent], Awaitable[None]]


class RecordSkipped(Exception):
    """An indexer's answer for a record it will not index (fails its lexicon, names a track
    plyr does not know, an author that does not resolve…): the reason goes to the log and,
    under `plyr backfill`, to the report. The stream goes on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_handlers: dict[str, IngestHandler] = {}


def record_handler(name: str) -> Callable[[IngestHandler], IngestHandler]:
    """Register the indexer of `<namespace>.<name>` records (e.g. "track", "actor.profile")."""

    def register(handler: IngestHandler) -> IngestHandler:
        if name in _handlers:
            raise ValueError(f"an ingest handler for {name!r} is already registered")
        _handlers[name] = handler
        return handler

    return register


def handler_for(namespace: str, collection: str) -> IngestHandler | None:
    return _handlers.get(collection.removeprefix(namespace + "."))


def build_follower(runtime: Runtime) -> FirehoseFollower | None:
    settings = runtime.settings
    if not settings.ingest_url:
        return None
    namespace = settings.atproto_namespace

    async def dispatch(event: RecordEvent) -> None:
        handler = handler_for(namespace, event.collection)
        if handler is None:
            log.debug("no indexer for %s (%s)", event.collection, event.uri)
            return
        try:
            await handler(runtime, event)
        except RecordSkipped as skipped:
            log.info("skipping %s %s: %s", event.action, event.uri, skipped.reason)
        except Exception:
            # One bad record must not stop the stream; the record can be re-indexed by repair.
            log.exception("indexing %s %s failed", event.action, event.uri)

    # Commits are checked against each DID's signing key, resolved (and cached) by the
    # process's identity resolver.
    keys = IdentityKeys(runtime.identity)
    return FirehoseFollower(settings.ingest_url, namespace, dispatch, runtime.sessions, keys=keys)


async def run_ingest(runtime: Runtime, stop: asyncio.Event) -> None:
    follower = build_follower(runtime)
    if follower is None:
        log.info("ingest off: PLYR_INGEST_URL is not set")
        return
    await follower.run(stop)

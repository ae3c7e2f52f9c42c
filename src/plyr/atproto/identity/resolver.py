"""IdentityResolver: handle -> DID -> DID document -> PDS, verified both ways and cached.

It ties the parts together: `handle` (handle -> DID), `did` (DID -> document), and
`cache`. A handle counts only when the DID document names it back in `alsoKnownAs`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType

from plyr.atproto.identity.cache import Miss, TtlCache
from plyr.atproto.identity.did import DidResolver
from plyr.atproto.identity.document import DidDocument, Identity
from plyr.atproto.identity.errors import DidNotFound, HandleMismatch, HandleNotFound, IdentityError
from plyr.atproto.identity.fetching import IdentityFetcher
from plyr.atproto.identity.handle import HandleResolver
from plyr.atproto.netguard import guarded_client
from plyr.config import Settings

__all__ = [
    "MAX_CACHE_ENTRIES",
    "NEGATIVE_CACHE_SECONDS",
    "IdentityResolver",
]

log = logging.getLogger(__name__)

MAX_CACHE_ENTRIES = 10_000
NEGATIVE_CACHE_SECONDS = 60.0


class IdentityResolver:
    """Resolves handles and DIDs for plyr; one per process, shared (it holds a client).

    `dev_pds_url` (default: `settings.atproto_dev_pds_url`) and `dev_well_known_base` only
    apply on the development network, where `.test` handles exist in no DNS: they resolve
    through the local PDS's `com.atproto.identity.resolveHandle`, and, when
    `dev_well_known_base` is given, through `<base>/.well-known/atproto-did` with the
    handle as the Host header (the HTTPS method pointed at a local server; tests use it).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        dev_pds_url: str | None = None,
        dev_well_known_base: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_CACHE_ENTRIES,
        negative_cache_seconds: float = NEGATIVE_CACHE_SECONDS,
    ) -> None:
        dev_network = settings.atproto_dev_network and settings.environment != "production"
        if (dev_pds_url or dev_well_known_base) and not dev_network:
            raise ValueError("dev_pds_url and dev_well_known_base need atproto_dev_network on")
        self._ttl = settings.identity_cache_seconds
        self._negative_ttl = min(negative_cache_seconds, settings.identity_cache_seconds)
        dev_pds: str | None = None
        dev_base: str | None = None
        if dev_network:
            pds = dev_pds_url or settings.atproto_dev_pds_url
            dev_pds = pds.rstrip("/") if pds else None
            base = dev_well_known_base
            dev_base = base.rstrip("/") if base else None
        self._client = guarded_client(settings)
        fetcher = IdentityFetcher(self._client, settings.identity_timeout_seconds)
        self._handle_resolver = HandleResolver(
            fetcher,
            timeout=settings.identity_timeout_seconds,
            max_bytes=settings.identity_max_bytes,
            dev_network=dev_network,
            dev_pds_url=dev_pds,
            dev_well_known_base=dev_base,
        )
        self._did_resolver = DidResolver(
            fetcher,
            plc_url=settings.plc_url.rstrip("/"),
            max_bytes=settings.identity_max_bytes,
            dev_network=dev_network,
        )
        self._handles: TtlCache[str, str | Miss] = TtlCache(max_entries, clock)
        self._documents: TtlCache[str, DidDocument | Miss] = TtlCache(max_entries, clock)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> IdentityResolver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- public API ---------------------------------------------------------------------

    async def resolve(self, identifier: str) -> Identity:
        """A handle or a DID to a verified identity.

        For a handle, the DID document must name it back (else HandleMismatch). For a DID,
        the handle its document claims is checked the other way; `handle` is None when it
        does not point back at the DID.
        """
        text = identifier.strip()
        if text.startswith("did:"):
            return await self._resolve_did_identity(text)
        handle = self._handle_resolver.normalise(text)
        did = await self.resolve_handle(handle)
        document = await self.resolve_did(did)
        if handle not in document.handles:
            raise HandleMismatch(
                f"@{handle} points at {did}, but that account does not claim the handle "
                "(its DID document does not list it)"
            )
        return Identity(did=did, handle=handle, pds_url=document.pds_url, document=document)

    async def resolve_handle(self, handle: str) -> str:
        """The DID a handle points at (not yet checked the other way: see `resolve`)."""
        handle = self._handle_resolver.normalise(handle)
        cached = self._handles.get(handle)
        if isinstance(cached, Miss):
            raise HandleNotFound(cached.message)
        if cached is not None:
            return cached
        try:
            did = await self._handle_resolver.lookup(handle)
        except HandleNotFound as exc:
            self._handles.put(handle, Miss(exc.message), self._negative_ttl)
            raise
        self._handles.put(handle, did, self._ttl)
        return did

    async def resolve_did(self, did: str) -> DidDocument:
        did = self._did_resolver.check(did)
        cached = self._documents.get(did)
        if isinstance(cached, Miss):
            raise DidNotFound(cached.message)
        if cached is not None:
            return cached
        try:
            document = await self._did_resolver.fetch_document(did)
        except DidNotFound as exc:
            self._documents.put(did, Miss(exc.message), self._negative_ttl)
            raise
        self._documents.put(did, document, self._ttl)
        return document

    def invalidate(self, did_or_handle: str) -> None:
        """Forget what is cached about a DID (its document and handles) or a handle."""
        key = did_or_handle.strip()
        if key.startswith("did:"):
            self._documents.pop(key)
            self._handles.drop_values(lambda value: value == key)
        else:
            self._handles.pop(key.removeprefix("@").lower())

    def clear_cache(self) -> None:
        self._handles.clear()
        self._documents.clear()

    # -- DID → identity -----------------------------------------------------------------

    async def _resolve_did_identity(self, did: str) -> Identity:
        document = await self.resolve_did(did)
        handle = document.handle
        if handle is not None:
            try:
                verified = await self.resolve_handle(handle) == document.id
            except IdentityError as exc:
                log.debug("handle %s of %s does not verify: %s", handle, did, exc)
                verified = False
            if not verified:
                handle = None
        return Identity(did=document.id, handle=handle, pds_url=document.pds_url, document=document)

"""A short cache of the pages every signed-out visitor sees alike, with ETag/304.

A page route opts in with `SharedPage` (home, a track, an artist). This ASGI middleware
then keeps its rendered answer for `TTL_SECONDS` and serves it again, before routing, to
any GET or HEAD of the same URL (scheme, host and query string included) that carries
neither plyr's session cookie nor an Authorization header; a request with either always
goes to the page and its answer is never kept, so no one is ever served a page rendered
for somebody else. Only a 200 without Set-Cookie is kept.

Such answers carry an ETag (a hash of the body), `Cache-Control: no-cache` (browsers and
proxies keep the page but ask again each time; a matching If-None-Match gets 304) and
`Vary: Cookie`; the same routes answer signed-in visitors `private, no-cache`.

What may be stale, and for how long:
- a commit that writes anything these pages read (a new or edited track, a takedown, a
  like, a comment, a list, a profile, a preference, a flag: `plyr.db.changes`) drops every
  kept page at once: in this process when it commits (a render that overlapped the commit
  is not kept), in another process on the same machine (a worker, ingest, the CLI, another
  web process) at the next request, which sees the data folder's signal file touched;
- play counts (`tracks.play_count`): up to `TTL_SECONDS`, since a counted play does not
  drop the cache;
- the home page's catalogue numbers and this week's top tracks: their own 5 s cache
  (`plyr.listening`) plus up to `TTL_SECONDS` here;
- artwork an operator flags: at once in this process (a page is kept only with the
  sensitive-image snapshot it was rendered with), within the snapshot's 15 s elsewhere;
- writes of a process on another machine (web processes over one PostgreSQL, each with its
  own data folder): up to `TTL_SECONDS`.

When a kept page expires under load, the requests that arrive while one of them renders
it again wait for that render instead of each rendering it (one render per URL at a time).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plyr.auth.sessions import COOKIE_NAME
from plyr.cache import on_catalogue_change
from plyr.db import changes
from plyr.runtime import Runtime
from plyr.social import sensitive

TTL_SECONDS = 5.0
MAX_BYTES = 16 * 1024 * 1024  # all kept pages of one process
MAX_PAGE = 1024 * 1024
SHARED_MARK = "shared_page"

Key = tuple[str, bytes, str, str, bytes]  # scheme, host, root path, path, query string
Headers = list[tuple[bytes, bytes]]

SHARED_HEADERS: Headers = [(b"cache-control", b"no-cache"), (b"vary", b"Cookie")]
PRIVATE_HEADERS: Headers = [(b"cache-control", b"private, no-cache"), (b"vary", b"Cookie")]
_REPLACED = frozenset({b"etag", b"cache-control", b"vary"})


async def _mark_shared(request: Request) -> None:
    # The mark holds the flagged-artwork snapshot the page is rendered with (the page asks
    # it through `hide_art`): a page rendered across a reload of it is not kept.
    runtime: Runtime = request.app.state.runtime
    await sensitive.refresh_if_stale(runtime)
    request.state.shared_page = sensitive.snapshot_version(runtime)


# On a page route: its answer is the same for every signed-out visitor and may be kept.
SharedPage = Annotated[None, Depends(_mark_shared)]


@dataclass(slots=True)
class Entry:
    headers: Headers  # the page's own, with the ETag and caching headers
    body: bytes
    etag: bytes
    stored_at: float
    generation: int
    art_version: float
    route: Any  # the matched route, for the request metrics of later hits


class PageStore:
    """One process's kept pages of one database, least recently used dropped first. A
    page stays after it expires (until dropped for room): it tells that its URL is a
    shared page, whose concurrent misses wait for one render."""

    def __init__(self, signal: Path) -> None:
        self.signal = signal  # touched by other processes' commits (`plyr.db.changes`)
        self.signal_seen = changes.signal_version(signal)
        self.entries: OrderedDict[Key, Entry] = OrderedDict()
        self.size = 0
        self.generation = 0  # moves on every change: older entries are not served
        self.enabled = True
        self.in_flight: dict[Key, asyncio.Future[None]] = {}
        # Answers from here and pages rendered and kept (for the bench and the tests).
        self.hits = 0
        self.kept = 0

    def changed(self) -> None:
        self.generation += 1

    def notice_other_processes(self) -> None:
        """Another process committed a change since the last look (one stat())."""
        version = changes.signal_version(self.signal)
        if version != self.signal_seen:
            self.signal_seen = version
            self.changed()

    def fresh(self, key: Key, art_version: float) -> Entry | None:
        entry = self.entries.get(key)
        if (
            entry is None
            or not self.enabled
            or entry.generation != self.generation
            or entry.art_version != art_version
            or time.monotonic() - entry.stored_at >= TTL_SECONDS
        ):
            return None
        self.entries.move_to_end(key)
        return entry

    def put(self, key: Key, entry: Entry) -> None:
        self.kept += 1
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self.entries[key] = entry
        self.size += len(entry.body)
        while self.size > MAX_BYTES and self.entries:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)


_stores: weakref.WeakKeyDictionary[AsyncEngine, PageStore] = weakref.WeakKeyDictionary()


def store_for(runtime: Runtime) -> PageStore:
    store = _stores.get(runtime.engine)
    if store is None:
        signal = changes.signal_path(runtime.settings.data_dir)
        store = _stores[runtime.engine] = PageStore(signal)
        changes.watch(runtime.engine, signal)  # Runtime.open did; a Runtime made otherwise
        changes.listen(runtime.engine, store.changed)
    return store


def _everything_changed() -> None:
    for store in list(_stores.values()):
        store.changed()


on_catalogue_change(_everything_changed)  # takedowns, hidden accounts: at once


def _signed_out(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return False
        if name == b"cookie" and COOKIE_NAME.encode() in value:
            return False  # a session cookie, valid or not: the page decides, nothing kept
    return True


def _key(scope: Scope) -> Key:
    host = b""
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
            break
    return (
        scope["scheme"],
        host,
        scope.get("root_path", ""),
        scope["path"],
        scope.get("query_string", b""),
    )


def _etag_matches(scope: Scope, etag: bytes) -> bool:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            tags = [t.strip().removeprefix(b"W/") for t in value.split(b",")]
            return etag in tags or b"*" in tags
    return False


def _mark(scope: Scope) -> float | None:
    """The flagged-artwork snapshot a shared page was rendered with; None for other routes."""
    state = scope.get("state")
    mark = state.get(SHARED_MARK) if isinstance(state, dict) else None
    return mark if isinstance(mark, float) else None


def _marked(scope: Scope) -> bool:
    return _mark(scope) is not None


def _with(headers: Headers, extra: Headers) -> Headers:
    return [(k, v) for k, v in headers if k.lower() not in _REPLACED] + extra


async def _answer(scope: Scope, send: Send, entry: Entry) -> None:
    if _etag_matches(scope, entry.etag):
        headers = [(b"etag", entry.etag), *SHARED_HEADERS]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": entry.headers})
    body = b"" if scope["method"] == "HEAD" else entry.body
    await send({"type": "http.response.body", "body": body})


class PageCacheMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or runtime is None:
            await self.app(scope, receive, send)
            return
        if not _signed_out(scope):
            await self.app(scope, receive, _private(scope, send))
            return
        store = store_for(runtime)
        store.notice_other_processes()
        key = _key(scope)
        entry = store.fresh(key, sensitive.snapshot_version(runtime))
        flight = store.in_flight.get(key)
        if entry is None and flight is not None:
            await asyncio.shield(flight)  # the same page is being rendered: use that
            entry = store.fresh(key, sensitive.snapshot_version(runtime))
        if entry is not None:
            store.hits += 1
            scope["route"] = entry.route
            await _answer(scope, send, entry)
            return
        # A HEAD of a URL not known as a shared page goes as everywhere else, unless it is
        # one; then it is rendered as a GET (the ETag is of the body HEAD leaves out).
        if (
            scope["method"] == "HEAD"
            and key not in store.entries
            and not await self._head_of_shared_page(scope, receive, send)
        ):
            return
        await self._render(scope, receive, send, runtime, store, key)

    async def _head_of_shared_page(self, scope: Scope, receive: Receive, send: Send) -> bool:
        shared = False

        async def probe(message: Message) -> None:
            nonlocal shared
            if message["type"] == "http.response.start" and _keepable(scope, message):
                shared = True
            if not shared:
                await send(message)

        await self.app(scope, receive, probe)
        return shared

    async def _render(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        runtime: Runtime,
        store: PageStore,
        key: Key,
    ) -> None:
        generation = store.generation
        # A URL known to be a shared page: later arrivals wait for this render.
        lead = key in store.entries and key not in store.in_flight
        if lead:
            store.in_flight[key] = asyncio.get_running_loop().create_future()
        head = scope["method"] == "HEAD"
        page_scope = {**scope, "method": "GET"} if head else scope
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _keepable(page_scope, message):
                    start = message  # kept back until the body is complete
                    return
                await send(message)
                return
            if start is None:  # not a shared page after all: as it is (HEAD: no body)
                await (_send_without_body(send, message) if head else send(message))
                return
            if message["type"] != "http.response.body":
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
            art_version = _mark(page_scope) or 0.0  # set: only a marked page gets here
            entry = Entry(
                headers=_with(start.get("headers", []), [(b"etag", etag), *SHARED_HEADERS]),
                body=body,
                etag=etag,
                stored_at=time.monotonic(),
                generation=generation,
                art_version=art_version,
                route=page_scope.get("route"),
            )
            if (
                store.enabled
                and store.generation == generation
                and sensitive.snapshot_version(runtime) == art_version
                and len(body) <= MAX_PAGE
            ):
                store.put(key, entry)
            await _answer(scope, send, entry)

        try:
            await self.app(page_scope, receive, capture)
        finally:
            if head:  # what routing added, for the request metrics
                scope.update({k: v for k, v in page_scope.items() if k != "method"})
            if lead:
                store.in_flight.pop(key).set_result(None)


def _keepable(scope: Scope, start: Message) -> bool:
    """A shared page's answer that may be kept: 200, and no cookie set."""
    return (
        _marked(scope)
        and start["status"] == 200
        and not any(k.lower() == b"set-cookie" for k, _ in start.get("headers", ()))
    )


async def _send_without_body(send: Send, message: Message) -> None:
    if message["type"] != "http.response.body":
        await send(message)
    elif not message.get("more_body", False):
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _private(scope: Scope, send: Send) -> Send:
    """A signed-in visitor's answer from a shared page's route: theirs alone."""

    async def send_private(message: Message) -> None:
        if message["type"] == "http.response.start" and _marked(scope):
            message["headers"] = _with(message.get("headers", []), PRIVATE_HEADERS)
        await send(message)

    return send_private

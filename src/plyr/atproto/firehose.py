"""Follow a repository event stream (`com.atproto.sync.subscribeRepos`) and hand plyr's
records to a handler.

Frames are two DAG-CBOR objects (header, body); `#commit` bodies carry the changed records
as CAR blocks. A commit that touches plyr's namespace is verified first
(`firehose_verify`: the signature by the DID's key, the ops against the partial tree,
the tree before it); one that fails is dropped and logged. The records of collections in
plyr's namespace go to the handler, and the sequence number is stored after each handled
commit so a restart resumes where it stopped. Handlers must be idempotent: after a crash
the last few events may be delivered again. `#identity` events make the DID's key be
resolved again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import libipld
import websockets
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from plyr.atproto import dagcbor
from plyr.atproto.dagcbor import CidLink
from plyr.atproto.firehose_verify import (
    CommitRejected,
    Revisions,
    SigningKeys,
    verify_commit_event,
)
from plyr.atproto.repo_car import RepoVerificationError, read_car
from plyr.db.models import IngestCursor, utcnow

log = logging.getLogger(__name__)

Action = Literal["create", "update", "delete"]
MAX_FRAME_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RecordEvent:
    seq: int
    did: str
    action: Action
    collection: str
    rkey: str
    cid: str | None
    record: dict[str, Any] | None  # None for deletes
    time: str
    # The commit's repo revision (a TID: later commits sort after earlier ones).
    rev: str | None = None

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{self.collection}/{self.rkey}"


RecordHandler = Callable[[RecordEvent], Awaitable[None]]


class FrameError(ValueError):
    """A frame that does not decode as the protocol says."""


def subscribe_url(service: str, cursor: int | None) -> str:
    """`http(s)://host` or `ws(s)://host` → the subscribeRepos WebSocket URL."""
    parts = urlsplit(service)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in {"ws", "wss"}:
        raise ValueError(f"cannot follow {service!r}: not an http(s) or ws(s) URL")
    query = f"cursor={cursor}" if cursor is not None else ""
    return urlunsplit((scheme, parts.netloc, "/xrpc/com.atproto.sync.subscribeRepos", query, ""))


def decode_frame(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        parts = libipld.decode_dag_cbor_multi(data)
    except Exception as exc:  # libipld raises plain ValueErrors and friends
        raise FrameError(f"undecodable frame: {exc}") from exc
    if len(parts) != 2 or not all(isinstance(part, dict) for part in parts):
        raise FrameError("a frame is a header and a body")
    header, body = parts
    return header, body


def record_events(
    body: dict[str, Any], namespace: str, blocks: Mapping[CidLink, bytes] | None = None
) -> list[RecordEvent]:
    """The operations of one `#commit` body that touch collections under `namespace`.

    `blocks` are the commit's blocks once `verify_commit_event` has checked them; without
    them the body's CAR is read here (every block still checked against its CID)."""
    prefix = namespace + "."
    ops = [op for op in body.get("ops") or [] if str(op.get("path", "")).startswith(prefix)]
    if not ops:
        return []
    if blocks is None:
        try:
            blocks = read_car(body["blocks"]).blocks if body.get("blocks") else {}
        except RepoVerificationError as exc:
            log.warning("commit %s: %s", body.get("seq"), exc.reason)
            return []
    events: list[RecordEvent] = []
    for op in ops:
        collection, _, rkey = str(op["path"]).partition("/")
        action = op.get("action")
        if action not in ("create", "update", "delete"):
            continue
        cid = op.get("cid")
        cid_text = _cid_text(cid) if cid is not None else None
        record: dict[str, Any] | None = None
        if action != "delete":
            link = CidLink(cid) if isinstance(cid, bytes) else None
            block = blocks.get(link) if link is not None else None
            if block is None:
                log.warning("commit %s lacks the block for %s", body.get("seq"), op["path"])
                continue
            try:
                value = dagcbor.ipld_to_json(dagcbor.decode_record(block))
            except ValueError as exc:
                log.warning("commit %s: %s does not decode: %s", body.get("seq"), op["path"], exc)
                continue
            if not isinstance(value, dict):
                continue
            record = value
        events.append(
            RecordEvent(
                seq=int(body["seq"]),
                did=str(body["repo"]),
                action=action,
                collection=collection,
                rkey=rkey,
                cid=cid_text,
                record=record,
                time=str(body.get("time", "")),
                rev=str(body["rev"]) if body.get("rev") else None,
            )
        )
    return events


def _cid_text(cid: Any) -> str:
    if isinstance(cid, bytes):
        return str(dagcbor.CidLink.from_raw(cid))
    return str(cid)


@dataclass
class FirehoseFollower:
    """Reads one service's event stream into `handler`, reconnecting with backoff.

    With `keys`, every commit that touches the namespace is verified first (signature,
    ops against the tree: `firehose_verify`); one that fails is dropped and logged.
    """

    service_url: str
    namespace: str
    handler: RecordHandler
    sessions: async_sessionmaker[AsyncSession]
    source: str = ""
    max_backoff: float = 60.0
    save_every_seconds: float = 1.0
    events_seen: int = 0
    _pending_seq: int | None = None
    _last_save: float = 0.0
    connected: asyncio.Event | None = None
    keys: SigningKeys | None = None
    commits_dropped: int = 0
    # Each repository's last verified rev: a replayed older commit is dropped.
    revisions: Revisions = field(default_factory=Revisions)

    def __post_init__(self) -> None:
        self.source = self.source or f"subscribeRepos:{self.service_url}"
        self.connected = asyncio.Event()

    async def load_cursor(self) -> int | None:
        async with self.sessions() as session:
            row = await session.get(IngestCursor, self.source)
            return row.cursor if row else None

    async def save_cursor(self, seq: int) -> None:
        async with self.sessions() as session:
            row = await session.get(IngestCursor, self.source)
            if row is None:
                session.add(IngestCursor(source=self.source, cursor=seq))
            elif seq > row.cursor:
                row.cursor = seq
                row.updated_at = utcnow()
            await session.commit()

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                await self._follow_once(stop)
                failures = 0
            except (OSError, websockets.WebSocketException, FrameError, TimeoutError) as exc:
                failures += 1
                delay = min(self.max_backoff, 0.5 * 2 ** min(failures, 8)) * random.uniform(  # noqa: S311
                    0.8, 1.2
                )
                log.warning("firehose %s: %s; reconnecting in %.1fs", self.service_url, exc, delay)
                assert self.connected is not None
                self.connected.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)

    async def _follow_once(self, stop: asyncio.Event) -> None:
        cursor = await self.load_cursor()
        url = subscribe_url(self.service_url, cursor)
        async with websockets.connect(url, max_size=MAX_FRAME_BYTES, open_timeout=10) as socket:
            assert self.connected is not None
            self.connected.set()
            log.info("following %s from cursor %s", self.service_url, cursor)
            if self.keys is None:
                log.info("commit signatures from %s are not checked (no key source)", url)
            stopping = asyncio.ensure_future(stop.wait())
            try:
                while True:
                    receiving = asyncio.ensure_future(socket.recv())
                    done, _ = await asyncio.wait(
                        {receiving, stopping}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if stopping in done:
                        receiving.cancel()
                        return
                    message = receiving.result()
                    if isinstance(message, str):
                        raise FrameError("text frame on a binary stream")
                    await self._handle_frame(message)
            finally:
                stopping.cancel()
                await self.flush_cursor()

    async def _handle_frame(self, data: bytes) -> None:
        header, body = decode_frame(data)
        if header.get("op") == -1:
            raise FrameError(f"stream error {body.get('error')}: {body.get('message')}")
        kind = header.get("t")
        if kind == "#info":
            log.info("firehose info: %s %s", body.get("name"), body.get("message"))
            return
        if kind == "#identity" and self.keys is not None and isinstance(body.get("did"), str):
            self.keys.forget(body["did"])  # a new key or handle: resolve again next time
        handled = False
        if kind == "#commit":
            for event in await self._verified_events(body):
                self.events_seen += 1
                await self.handler(event)
                handled = True
        if isinstance(body.get("seq"), int):
            await self._advance(int(body["seq"]), force=handled)

    async def _verified_events(self, body: dict[str, Any]) -> list[RecordEvent]:
        prefix = self.namespace + "."
        ops = body.get("ops")
        if not isinstance(ops, list) or not any(
            isinstance(op, dict) and str(op.get("path", "")).startswith(prefix) for op in ops
        ):
            return []  # nothing of ours: not worth a signature check or a DID lookup
        try:
            blocks = await verify_commit_event(body, self.keys, self.revisions)
        except CommitRejected as exc:
            self.commits_dropped += 1
            log.warning(
                "dropping commit seq %s of %s: %s", body.get("seq"), body.get("repo"), exc.reason
            )
            return []
        return record_events(body, self.namespace, blocks)

    async def _advance(self, seq: int, *, force: bool) -> None:
        # A commit we acted on is saved at once; the rest of the stream (other apps'
        # records) at most once a second, so a busy relay does not mean a write per event.
        self._pending_seq = seq
        now = time.monotonic()
        if force or now - self._last_save >= self.save_every_seconds:
            await self.flush_cursor()
            self._last_save = now

    async def flush_cursor(self) -> None:
        if self._pending_seq is not None:
            await self.save_cursor(self._pending_seq)
            self._pending_seq = None


def parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


async def stored_cursor(sessions: async_sessionmaker[AsyncSession], source: str) -> int | None:
    async with sessions() as session:
        result = await session.execute(
            select(IngestCursor.cursor).where(IngestCursor.source == source)
        )
        return result.scalar_one_or_none()

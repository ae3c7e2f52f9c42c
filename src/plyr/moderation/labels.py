"""Labels plyr's labeler issues: signed, stored in order (`Label.seq`), served by the XRPC
surface (`plyr/xrpc/`): `queryLabels` pages them, `subscribeLabels` replays and follows them.

A label is `{ver: 1, src, uri, cid?, val, neg?, cts, exp?}`, signed as the spec says: the
DAG-CBOR bytes of the label without `sig`, SHA-256, a low-S ECDSA signature by the key named
`#atproto_label` in the labeler's DID document. As the reference labeler (Ozone) does, `neg`
is written only when true and `cid`/`exp` only when set; what is served is exactly what was
signed. Rows are never changed: retracting a label adds a negation (`neg`), and what holds for
a subject is the newest row per value.

Issuing what already holds is a no-op (the held row comes back), and so is negating what
does not hold (None). One (uri, cid, val) holds at a time: a negation names the CID that
was labelled, and a label issued for a record's new CID negates the old CID's first.
Labels issued in this process wake the streams' poller (`plyr.xrpc.label_feed`) at once
(after the transaction commits); it also polls, so labels from another process (the CLI,
a worker) reach the streams within `POLL_SECONDS`.

Without a labeler identity (`PLYR_LABELER_DID`, or on the development network the one
`serve --devnet` makes) `issue` logs and issues nothing, and nothing issues it later.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from plyr.atproto import dagcbor
from plyr.db.models import Label
from plyr.moderation import labeler
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

# The label values plyr declares in its app.bsky.labeler.service record.
COPYRIGHT_VIOLATION = "copyright-violation"
TAKEDOWN = "takedown"
SENSITIVE_ARTWORK = "sensitive-artwork"

MAX_VAL_BYTES = 128
MAX_LIMIT = 250
DEFAULT_LIMIT = 50
MAX_PATTERNS = 50
MAX_PATTERN_LENGTH = 2048
POLL_SECONDS = 0.4


class InvalidQuery(ValueError):
    """A query parameter the labeler refuses (the message says which and why)."""


def unsigned_label(row: Label) -> dict[str, Any]:
    """The label as signed: no `sig`, `neg` only when true, `cid`/`exp` only when set."""
    label: dict[str, Any] = {"ver": 1, "src": row.src, "uri": row.uri}
    if row.cid:
        label["cid"] = row.cid
    label["val"] = row.val
    if row.neg:
        label["neg"] = True
    label["cts"] = row.cts
    if row.exp:
        label["exp"] = row.exp
    return label


def label_cbor_view(row: Label) -> dict[str, Any]:
    """The label for event-stream frames: `sig` as bytes."""
    return {**unsigned_label(row), "sig": bytes(row.sig)}


def label_json_view(row: Label) -> dict[str, Any]:
    """The label for JSON answers: `sig` as `{"$bytes": base64}` (unpadded, as atproto says)."""
    sig = base64.b64encode(bytes(row.sig)).rstrip(b"=").decode()
    return {**unsigned_label(row), "sig": {"$bytes": sig}}


def signed_bytes(row: Label) -> bytes:
    """The bytes the signature covers."""
    return dagcbor.encode_ipld(unsigned_label(row))


async def _held(db: AsyncSession, src: str, uri: str, val: str) -> Label | None:
    """The label that holds for (src, uri, val) now: the newest row, unless it is a negation."""
    newest = await db.scalar(
        select(Label)
        .where(Label.src == src, Label.uri == uri, Label.val == val)
        .order_by(Label.seq.desc())
        .limit(1)
    )
    return newest if newest is not None and not newest.neg else None


async def held(runtime: Runtime, db: AsyncSession, uri: str, val: str) -> Label | None:
    """The label of this plyr's labeler that holds for (uri, val) now, if any."""
    src = labeler.labeler_did(runtime.settings)
    return None if src is None else await _held(db, src, uri, val)


async def held_on(runtime: Runtime, db: AsyncSession, uri: str) -> list[Label]:
    """Every label of this plyr's labeler that holds on `uri` now, oldest first."""
    src = labeler.labeler_did(runtime.settings)
    if src is None:
        return []
    rows = await db.scalars(
        select(Label).where(Label.src == src, Label.uri == uri).order_by(Label.seq)
    )
    newest: dict[str, Label] = {}
    for row in rows:
        newest[row.val] = row
    return sorted((row for row in newest.values() if not row.neg), key=lambda row: row.seq)


async def issue(
    runtime: Runtime,
    db: AsyncSession,
    *,
    uri: str,
    cid: str | None,
    val: str,
    neg: bool = False,
) -> Label | None:
    """Sign a label (or its negation) and add it to `db`'s transaction; None when this plyr
    has no labeler identity configured (`PLYR_LABELER_DID`, or the devnet's own): the label
    is then only logged, never issued later, or when negating what does not hold. Issuing a
    label that already holds (same cid) adds nothing and returns the held row; issuing it
    for another cid negates the held one first. A negation names the held label's cid (the
    `cid` passed is ignored)."""
    src = labeler.labeler_did(runtime.settings)
    if src is None:
        log.info("no labeler identity (PLYR_LABELER_DID): %s on %s not issued", val, uri)
        return None
    if not val or len(val.encode()) > MAX_VAL_BYTES:
        raise ValueError(f"a label value is 1 to {MAX_VAL_BYTES} bytes")
    held = await _held(db, src, uri, val)
    if neg:
        if held is None:
            return None
        # Consumers key labels by (uri, cid, val): the negation names the CID labelled,
        # whatever the record's CID is now.
        return await _add(runtime, db, src, uri, held.cid, val, neg=True)
    if held is not None and held.cid == cid:
        return held
    if held is not None:
        # The record changed (a new CID): the old version's label is negated first, so one
        # (uri, cid, val) holds at a time and a later negation clears everything.
        await _add(runtime, db, src, uri, held.cid, val, neg=True)
    return await _add(runtime, db, src, uri, cid, val, neg=False)


async def _add(
    runtime: Runtime, db: AsyncSession, src: str, uri: str, cid: str | None, val: str, *, neg: bool
) -> Label:
    row = Label(src=src, uri=uri, cid=cid, val=val, neg=neg, cts=labeler.now_datetime())
    row.sig = labeler.signing_key(runtime.settings).sign(signed_bytes(row))
    db.add(row)
    await db.flush()
    _wake_after_commit(runtime.engine, db)
    return row


# --- waking the streams -------------------------------------------------------------------

_wakers: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Event] = weakref.WeakKeyDictionary()


def _wake(engine: AsyncEngine) -> None:
    waker = _wakers.pop(engine, None)
    if waker is not None:
        waker.set()


def _wake_after_commit(engine: AsyncEngine, db: AsyncSession) -> None:
    session = db.sync_session
    if session.info.get("labels_wake"):
        return
    session.info["labels_wake"] = True

    def committed(_session: Any) -> None:
        session.info.pop("labels_wake", None)
        _wake(engine)

    event.listen(session, "after_commit", committed, once=True)


async def wait_for_new(runtime: Runtime) -> None:
    """Return when this process commits a label, or after `POLL_SECONDS` (to poll for labels
    other processes issued)."""
    waker = _wakers.get(runtime.engine)
    if waker is None:
        waker = _wakers[runtime.engine] = asyncio.Event()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(waker.wait(), POLL_SECONDS)


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelPage:
    labels: list[Label]
    cursor: str | None


def parse_patterns(patterns: list[str]) -> list[tuple[str, bool]]:
    """(text, is_prefix) per pattern: a full URI, or a prefix ending with one `*`."""
    if not patterns:
        raise InvalidQuery("uriPatterns is required: a URI, or a prefix ending with *")
    if len(patterns) > MAX_PATTERNS:
        raise InvalidQuery(f"at most {MAX_PATTERNS} uriPatterns")
    parsed: list[tuple[str, bool]] = []
    for pattern in patterns:
        if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
            raise InvalidQuery(f"a uriPattern is 1 to {MAX_PATTERN_LENGTH} characters")
        star = pattern.find("*")
        if star != -1 and star != len(pattern) - 1:
            raise InvalidQuery(f"a * may only end a uriPattern: {pattern[:100]!r}")
        parsed.append((pattern[:-1], True) if star != -1 else (pattern, False))
    return parsed


def parse_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise InvalidQuery("cursor is the seq of the last label seen (a non-negative integer)")
    return int(cursor)


def parse_limit(limit: str | None) -> int:
    if limit is None or limit == "":
        return DEFAULT_LIMIT
    if not limit.isascii() or not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise InvalidQuery(f"limit is an integer from 1 to {MAX_LIMIT}")
    return int(limit)


async def query(
    runtime: Runtime,
    *,
    uri_patterns: list[str],
    sources: list[str] | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> LabelPage:
    """Labels (negations too, in the order issued) whose subject matches a pattern, after
    `cursor`; the page's cursor is the last label's seq. Raises InvalidQuery."""
    patterns = parse_patterns(uri_patterns)
    after = parse_cursor(cursor)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit is an integer from 1 to {MAX_LIMIT}")
    matches = [
        Label.uri.startswith(text, autoescape=True) if prefix else Label.uri == text
        for text, prefix in patterns
    ]
    statement = select(Label).where(Label.seq > after, or_(*matches))
    if sources:
        statement = statement.where(Label.src.in_(sources))
    statement = statement.order_by(Label.seq).limit(limit)
    async with runtime.sessions() as db:
        rows = list((await db.scalars(statement)).all())
    return LabelPage(rows, str(rows[-1].seq) if rows else None)


async def since(runtime: Runtime, seq: int, limit: int = 500) -> list[Label]:
    """Every label after `seq`, in order: what a stream sends next."""
    async with runtime.sessions() as db:
        rows = await db.scalars(
            select(Label).where(Label.seq > seq).order_by(Label.seq).limit(limit)
        )
        return list(rows.all())


async def latest_seq(runtime: Runtime) -> int:
    async with runtime.sessions() as db:
        newest = await db.scalar(select(Label.seq).order_by(Label.seq.desc()).limit(1))
    return int(newest or 0)


async def current_labels(runtime: Runtime, uri: str) -> list[Label]:
    """The labels that hold on `uri` now (plyr's own, after negations), oldest first."""
    async with runtime.sessions() as db:
        return await held_on(runtime, db, uri)

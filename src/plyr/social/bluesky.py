"""Sharing a track to Bluesky: an `app.bsky.feed.post` in the user's own repository, with
the track's page as its link card (`app.bsky.embed.external`).

Posting needs `repo:app.bsky.feed.post?action=create` and `blob:image/*` in the user's
grant, asked for by a scope upgrade as teal.fm scrobbling is (`client_shares`); without
them `share_track` answers 403 `bluesky_scope_missing`, the code the page starts the
upgrade on. `share_track` checks what it can at once (the track may be shared, the text
fits, the post validates), chooses the post's record key (a TID) and commits a
`bluesky.share` job; the job uploads the artwork thumbnail as the card's image and
creates the record under that key, retrying while the PDS is down. A retry after a lost
answer finds the post there and stops, so nothing is posted twice. The post's address is
known from the start (`post_url`). A track taken down, or of a hidden account, is not
shared, by its artist either: the link would only answer 451.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from plyr.atproto import syntax
from plyr.atproto.lexicon import (
    LexiconRegistry,
    LexiconValidationError,
    grapheme_length,
    grapheme_prefix,
)
from plyr.atproto.repo import RepoClient
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import PayloadTooLarge, ScopeMissing
from plyr.auth.record_writes import pds_writes
from plyr.auth.sessions import granted_session, repo_for
from plyr.auth.signin import client_shares
from plyr.config import Settings
from plyr.db.models import Artist, AuthSession, Job, JobStatus, PublishState, Track
from plyr.db.visibility import Unavailable, unavailable_reason
from plyr.errors import ServiceError
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, PermanentJobError, job_handler
from plyr.runtime import Runtime
from plyr.social.sensitive import is_sensitive
from plyr.storage.base import ObjectNotFound

log = logging.getLogger(__name__)

POST_COLLECTION: Final = "app.bsky.feed.post"
JOB_KIND: Final = "bluesky.share"
SCOPE_MISSING: Final = "bluesky_scope_missing"
# A PDS may be down for a long while: with the backoff cap this keeps trying for days.
SHARE_MAX_ATTEMPTS: Final = 40
MAX_GRAPHEMES: Final = 300  # app.bsky.feed.post#text
THUMB_MAX_BYTES: Final = 1_000_000  # app.bsky.embed.external#external.thumb
DESCRIPTION_MAX: Final = 300
SHARES_PER_HOUR: Final = 30  # per user and per address, the API and the page's form alike
# http(s) URLs in the post's text become link facets; punctuation after one is prose.
_URL = re.compile(r"https?://[^\s<>\"]+")
_TRAILING = ".,;:!?'\")]}"


@dataclass(frozen=True, slots=True)
class Share:
    """A share on its way: the post's AT-URI and bsky.app address, and its job."""

    uri: str
    url: str
    job_id: int


@dataclass(frozen=True, slots=True)
class ShareOutcome:
    state: Literal["posted", "pending"]
    uri: str
    url: str
    cid: str | None = None


def track_link(settings: Settings, track_id: int) -> str:
    return f"{settings.public_url.rstrip('/')}/tracks/{track_id}"


def post_url(did: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{did}/post/{rkey}"


def _now() -> str:
    """RFC 3339 in UTC with milliseconds and a Z, the form every ATProto reader accepts."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_text(title: str, artist: str, link: str) -> str:
    """`<title> — <artist>` and the link on the next line, shortened to fit one post."""
    head = f"{title} — {artist}"
    room = MAX_GRAPHEMES - grapheme_length(link) - 1
    if grapheme_length(head) > room:
        head = grapheme_prefix(head, max(room - 1, 0)).rstrip() + "…"
    return f"{head}\n{link}"


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for every http(s) URL in `text`; offsets count UTF-8 bytes."""
    facets: list[dict[str, Any]] = []
    for match in _URL.finditer(text):
        url = match.group().rstrip(_TRAILING)
        if not syntax.is_valid_uri(url):
            continue
        start = len(text[: match.start()].encode())
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": start + len(url.encode())},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    return facets


def card_text(track: Track) -> tuple[str, str]:
    """The link card's title (`<title> — <artist>`) and description."""
    description = (track.description or "").strip() or (
        f"from {track.album}" if track.album else "listen on plyr"
    )
    if len(description) > DESCRIPTION_MAX:
        description = description[: DESCRIPTION_MAX - 1].rstrip() + "…"
    return f"{track.title} — {track.artist_name}", description


def build_post(
    registry: LexiconRegistry,
    *,
    text: str,
    link: str,
    card: tuple[str, str],
    created_at: str,
    thumb: dict[str, Any] | None = None,
    langs: list[str] | None = None,
    labels: list[str] | None = None,
) -> dict[str, Any]:
    """The post, validated against `app.bsky.feed.post` (LexiconValidationError if not).
    `labels` are the track's content warnings: the post carries them as its self-labels,
    so Bluesky warns about (and blurs) the card as plyr does the track."""
    title, description = card
    external: dict[str, Any] = {"uri": link, "title": title, "description": description}
    if thumb is not None:
        external["thumb"] = thumb
    fields: dict[str, Any] = {
        "text": text,
        "embed": {"$type": "app.bsky.embed.external", "external": external},
        "createdAt": created_at,
    }
    facets = link_facets(text)
    if facets:
        fields["facets"] = facets
    if langs:
        fields["langs"] = langs
    if labels:
        fields["labels"] = {
            "$type": "com.atproto.label.defs#selfLabels",
            "values": [{"val": value} for value in labels],
        }
    return registry.build_record(POST_COLLECTION, fields)


def warnings_of(track: Track) -> list[str]:
    """The track's content warnings a post can carry (system values `!…` are the
    account's business, not a post's)."""
    return [value for value in track.self_labels or [] if not value.startswith("!")][:10]


def _check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ServiceError(422, "empty_post", "write something to post")
    count = grapheme_length(text)
    if count > MAX_GRAPHEMES:
        raise ServiceError(
            422,
            "post_too_long",
            f"a bluesky post holds at most {MAX_GRAPHEMES} characters; this one has {count}",
        )
    return text


async def _shareable(db: AsyncSession, track_id: int, did: str) -> Track:
    track = await db.get(Track, track_id)
    owner = track is not None and track.artist_did == did
    if track is None or (track.publish_state == PublishState.processing and not owner):
        raise ServiceError(404, "not_found", "there is no such track")
    reason = unavailable_reason(track, await db.get(Artist, track.artist_did))
    if reason is not None:
        raise Unavailable(reason)
    if track.publish_state == PublishState.processing:
        raise ServiceError(409, "not_ready", "this track is still being processed")
    return track


async def share_track(
    runtime: Runtime,
    session: AuthSession,
    track_id: int,
    text: str | None = None,
    langs: list[str] | None = None,
) -> Share:
    """Check the share and commit its job; the post's key and address are fixed here."""
    settings = runtime.settings
    if not client_shares(settings, session.scope):
        raise ServiceError(
            403,
            SCOPE_MISSING,
            "plyr may not post to bluesky for you yet: allow it at your pds, then share again",
        )
    did = session.did
    async with runtime.sessions() as db:
        track = await _shareable(db, track_id, did)
        link = track_link(settings, track.id)
        body = (
            _check_text(text)
            if text is not None
            else default_text(track.title, track.artist_name, link)
        )
        created_at, rkey = _now(), next_tid()
        try:  # the same post the job writes, less the thumbnail: bad input fails now
            build_post(
                runtime.lexicons,
                text=body,
                link=link,
                card=card_text(track),
                created_at=created_at,
                langs=langs,
                labels=warnings_of(track),
            )
        except LexiconValidationError as exc:
            raise ServiceError(422, "invalid_post", f"{exc.path}: {exc.reason}") from exc
        job = await enqueue(
            db,
            JOB_KIND,
            {
                "did": did,
                "session_id": session.id,
                "track_id": track.id,
                "rkey": rkey,
                "text": body,
                "langs": langs or [],
                "created_at": created_at,
            },
            dedupe_key=f"share:bluesky:{did}:{rkey}",
            max_attempts=SHARE_MAX_ATTEMPTS,
        )
        await db.commit()
    return Share(f"at://{did}/{POST_COLLECTION}/{rkey}", post_url(did, rkey), job.id)


async def await_share(runtime: Runtime, share: Share, seconds: float) -> ShareOutcome:
    """The share's outcome within `seconds`: posted, or still pending (the job keeps
    trying); ServiceError when it failed for good (403 `bluesky_scope_missing` when the
    PDS refused for want of the scope)."""
    deadline = time.monotonic() + seconds
    while True:
        async with runtime.sessions() as db:
            job = await db.get(Job, share.job_id)
        if job is None:
            raise ServiceError(404, "not_found", "no such share")
        if job.status == JobStatus.succeeded:
            cid = (job.result or {}).get("cid")
            return ShareOutcome("posted", share.uri, share.url, cid)
        if job.status == JobStatus.failed:
            message = job.last_error or "the post could not be written"
            if message.startswith(SCOPE_MISSING):
                raise ServiceError(403, SCOPE_MISSING, message.removeprefix(f"{SCOPE_MISSING}: "))
            raise ServiceError(502, "share_failed", message)
        if time.monotonic() >= deadline:
            return ShareOutcome("pending", share.uri, share.url)
        await asyncio.sleep(0.1)


# --- the job ----------------------------------------------------------------------------


async def _sharing_session(
    db: AsyncSession, settings: Settings, did: str, preferred_id: str | None
) -> AuthSession | None:
    """A live session of `did` that may post: the one that shared, else the newest."""
    return await granted_session(
        db, did, lambda scope: client_shares(settings, scope), preferred_id
    )


async def _thumbnail(runtime: Runtime, repo: RepoClient, track: Track) -> dict[str, Any] | None:
    """The artwork thumbnail as a blob in the user's repository; None when the track has
    none, it is flagged sensitive, or it does not fit a link card."""
    key = track.thumbnail_key
    if key is None or await is_sensitive(runtime, track):
        return None
    info = await runtime.storage.stat(key)
    if info is None or info.size > THUMB_MAX_BYTES:
        log.info("no thumbnail for the share of track %s (%s)", track.id, info)
        return None
    try:
        content = b"".join([chunk async for chunk in runtime.storage.get_range(key)])
    except ObjectNotFound:
        return None
    try:
        return await repo.upload_blob(content, info.content_type or "image/webp")
    except PayloadTooLarge:  # a PDS with a tiny blob limit: the card goes without
        return None


@job_handler(JOB_KIND, max_attempts=SHARE_MAX_ATTEMPTS)
async def write_share(ctx: JobContext) -> dict[str, Any] | None:
    runtime: Runtime = ctx.services["runtime"]
    payload = ctx.payload
    did, rkey = str(payload["did"]), str(payload["rkey"])
    async with runtime.sessions() as db:
        track = await db.get(Track, int(payload["track_id"]))
        artist = await db.get(Artist, track.artist_did) if track is not None else None
        session = await _sharing_session(db, runtime.settings, did, payload.get("session_id"))
        for row in (track, session):
            if row is not None:
                db.expunge(row)
    if track is None:
        raise PermanentJobError("the track was deleted before it was shared")
    if unavailable_reason(track, artist) is not None:
        raise PermanentJobError("the track was taken down before it was shared")
    if session is None:
        raise PermanentJobError(f"{SCOPE_MISSING}: no sign-in of yours may post to bluesky")
    url = post_url(did, rkey)
    try:
        async with pds_writes():
            repo = await repo_for(runtime, session)
            existing = await repo.get_record(POST_COLLECTION, rkey)
            if existing is not None:  # posted by an attempt whose answer was lost
                return {"uri": existing.uri, "cid": existing.cid, "url": url}
            record = build_post(
                runtime.lexicons,
                text=str(payload["text"]),
                link=track_link(runtime.settings, track.id),
                card=card_text(track),
                created_at=str(payload["created_at"]),
                thumb=await _thumbnail(runtime, repo, track),
                langs=list(payload.get("langs") or []) or None,
                labels=warnings_of(track),
            )
            ref = await repo.create_record(POST_COLLECTION, rkey, record)
    except PermanentJobError as exc:
        if isinstance(exc.__cause__, ScopeMissing):
            raise PermanentJobError(
                f"{SCOPE_MISSING}: your pds refused the post: plyr may not post to bluesky"
            ) from exc
        raise
    return {
        "uri": ref.uri,
        "cid": ref.cid,
        "url": url,
        "thumb": "thumb" in record["embed"]["external"],
    }

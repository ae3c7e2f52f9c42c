"""Indexing `fm.plyr.track` records from the network: the firehose follower and
`plyr backfill` hand every track record to `index_track` (`@record_handler("track")`).

A record written by another client (or by the real plyr.fm, or by plyr before its database
was lost) becomes a Track row at once, published, with the record's fields, and
`audio_state = "pending"`; the `track.fetch_audio` job (`plyr.tracks.fetching`) then
fetches and prepares its audio. Listings leave the track out until its audio is ready.

- A record is left out (`RecordSkipped`, with the reason) when it fails the lexicon, names
  neither audioBlob nor audioUrl, or its author's DID does not resolve. Within a valid
  record, a part plyr would refuse from its own form (a tag, synced lyrics that are not
  LRC) is left out and the rest indexed.
- Edits follow: the fields are updated; the audio is fetched again only when its source
  changed (the blob's CID or, without a blob, the URL), the artwork only when its own did.
  A URL pointing at plyr itself is plyr's own copy, never a new source.
- plyr's own records coming back (the row already holds this CID), events older than the
  indexed revision, and rows plyr is still processing or publishing are left alone.
- A deletion removes the row (its likes and comments go with it; list entries naming it
  stay, as entries of a track plyr does not know, as the lists' records say) and, in a
  `track.delete` job, the stored files no other track uses. The record is not touched.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.artists import sync_artist
from plyr.atproto.firehose import RecordEvent
from plyr.atproto.lexicon import LexiconValidationError
from plyr.atproto.syntax import parse_datetime
from plyr.config import Settings
from plyr.db.models import Artist, ListItem, PublishState, Track, utcnow
from plyr.db.text import storable
from plyr.db.visibility import AUDIO_PENDING
from plyr.errors import ServiceError
from plyr.ingest import RecordSkipped, record_handler
from plyr.jobs.queue import enqueue
from plyr.runtime import Runtime
from plyr.social.tags import MAX_TAGS, normalise_tags, set_tags
from plyr.tracks import lyrics
from plyr.tracks.downloads import blob_cid_of
from plyr.tracks.fetching import enqueue_fetch, media_keys
from plyr.tracks.labels import values_from_record
from plyr.tracks.queue import drop_tracks
from plyr.tracks.records import audio_url, image_url

log = logging.getLogger(__name__)

# Rows plyr itself is writing to the PDS: the job's write wins, the event is an echo.
_IN_FLIGHT = (PublishState.processing, PublishState.publishing)
MAX_FEATURES = 10


def pending_hash(did: str, rkey: str) -> str:
    """The content hash a track holds until its audio is fetched: unique per record (the
    artist's hashes are unique) and never a SHA-256 hex digest, so no file matches it."""
    return "pending-" + hashlib.sha256(f"{did}/{rkey}".encode()).hexdigest()[:48]


@record_handler("track")
async def index_track(runtime: Runtime, event: RecordEvent) -> None:
    """Index one track event (create, update or delete) of any client."""
    if event.action == "delete":
        await _remove(runtime, event)
        return
    record = _valid(runtime, event)
    await _ensure_artist(runtime, event.did)
    async with runtime.sessions() as db:
        row = await db.scalar(_locked_row(event))
        if row is not None and _left_alone(row, event):
            return
        try:
            if row is None:
                row = _new_track(event, record)
                db.add(row)
                await db.flush()
                _fill(runtime.settings, row, event, record)
                await _link_list_entries(db, row)
                await enqueue_fetch(db, row)
            else:
                await _update(runtime.settings, db, row, event, record)
            await set_tags(db, row.id, _tags(record.get("tags")))
            await db.commit()
        except IntegrityError as exc:  # e.g. a concurrent index of the same record
            await db.rollback()
            raise RecordSkipped(f"it conflicts with what is indexed ({exc.orig})") from exc


def _locked_row(event: RecordEvent) -> Select[Track]:
    """The event's row, locked until the commit (PostgreSQL; SQLite has one writer): an
    edit or publish in plyr, or a fetch finishing, between our read and our write would
    otherwise be overwritten by what we read."""
    return (
        select(Track)
        .where(Track.artist_did == event.did, Track.rkey == event.rkey)
        .with_for_update()
    )


def _valid(runtime: Runtime, event: RecordEvent) -> dict[str, Any]:
    record = event.record or {}
    try:
        runtime.lexicons.validate_record(event.collection, record)
    except LexiconValidationError as exc:
        raise RecordSkipped(f"not a valid track record ({exc})") from exc
    if blob_cid_of(record.get("audioBlob")) is None and not record.get("audioUrl"):
        raise RecordSkipped("the record has neither audioBlob nor audioUrl")
    texts = [record.get(name) for name in ("title", "artist", "album", "description")]
    texts += [record.get("fileType"), record.get("audioUrl"), record.get("imageUrl")]
    texts += _strings(record.get("tags"))
    words = record.get("lyrics")
    texts += [words.get(part) for part in ("plain", "synced")] if isinstance(words, dict) else []
    if not storable(*(text for text in texts if isinstance(text, str))):
        raise RecordSkipped("a text field holds a NUL character")
    return record


async def _ensure_artist(runtime: Runtime, did: str) -> None:
    """The author must have a row; someone plyr never saw is looked up (DID document)."""
    async with runtime.sessions() as db:
        if await db.get(Artist, did) is not None:
            return
    try:
        await sync_artist(runtime, did)
    except Exception as exc:  # an unresolvable DID: nothing to attach the track to
        raise RecordSkipped(f"its author {did} does not resolve ({exc})") from exc


def _left_alone(row: Track, event: RecordEvent) -> bool:
    """plyr is writing this row's record itself, or the row holds this version or a later
    one (plyr's own write coming back; an event arriving late)."""
    if row.publish_state in _IN_FLIGHT or row.atproto_cid == event.cid:
        return True
    return event.rev is not None and row.atproto_rev is not None and event.rev <= row.atproto_rev


def _when(value: object) -> datetime:
    """The record's createdAt, at the latest now: a date in the future must not pin a track
    to the top of every newest-first listing."""
    try:
        when = parse_datetime(str(value))
    except (TypeError, ValueError):
        return utcnow()
    return min(when, utcnow())


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _tags(value: object) -> list[str]:
    """The record's tags as plyr keeps them; one plyr would refuse from a form is skipped."""
    tags: list[str] = []
    for raw in _strings(value):
        try:
            tags += [tag for tag in normalise_tags([raw]) if tag not in tags]
        except ServiceError:
            continue
    return tags[:MAX_TAGS]


def _features(value: object) -> list[dict[str, Any]]:
    """Featured artists as the record names them: a DID, perhaps a handle and a name."""
    features: list[dict[str, Any]] = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("did"), str):
            continue
        kept = {key: item[key] for key in ("did", "handle", "displayName") if key in item}
        features.append(kept)
    return features[:MAX_FEATURES]


def _own(url: object, own: str) -> str | None:
    """A URL of the record, or None when it is plyr's own address for this track (plyr
    holds that copy: it is no source to fetch from)."""
    if not isinstance(url, str) or not url or url == own:
        return None
    return url


def _new_track(event: RecordEvent, record: dict[str, Any]) -> Track:
    return Track(
        artist_did=event.did,
        rkey=event.rkey,
        title=str(record["title"])[:256],
        artist_name=str(record["artist"])[:256],
        file_type=str(record["fileType"])[:16],
        content_hash=pending_hash(event.did, event.rkey),
        original_key="",
        features=[],
        self_labels=[],
        publish_state=PublishState.published,
        audio_state=AUDIO_PENDING,
        created_at=_when(record.get("createdAt")),
    )


def _fill(settings: Settings, row: Track, event: RecordEvent, record: dict[str, Any]) -> None:
    """The record's fields and sources on the row (it has its id), and the version."""
    row.title = str(record["title"])[:256]
    row.artist_name = str(record["artist"])[:256]
    row.album = str(record.get("album") or "")[:256] or None
    row.description = str(record.get("description") or "") or None
    row.features = _features(record.get("features"))
    duration = record.get("duration")
    if row.audio_state == AUDIO_PENDING and isinstance(duration, int):
        row.duration_seconds = duration  # until the audio is probed
    row.self_labels = values_from_record(record.get("labels"))
    row.lyrics = lyrics.from_record(record.get("lyrics"))  # a synced text not LRC: left out
    gate = record.get("supportGate")
    row.support_gate = dict(gate) if isinstance(gate, dict) else None
    row.audio_blob_cid = blob_cid_of(record.get("audioBlob"))
    row.audio_url = _own(record.get("audioUrl"), audio_url(settings, row.id))
    row.image_blob_cid = blob_cid_of(record.get("imageBlob"))
    row.image_url = _own(record.get("imageUrl"), image_url(settings, row.id))
    row.created_at = _when(record.get("createdAt"))
    row.atproto_uri = event.uri
    row.atproto_cid = event.cid
    row.atproto_rev = event.rev
    row.publish_state = PublishState.published
    row.publish_error = None
    row.updated_at = utcnow()


def _audio_source(row: Track) -> tuple[str | None, str | None]:
    """The source that counts: the blob when there is one, else the URL."""
    return (row.audio_blob_cid, None) if row.audio_blob_cid else (None, row.audio_url)


def _image_source(row: Track) -> tuple[str | None, str | None]:
    return (row.image_blob_cid, None) if row.image_blob_cid else (None, row.image_url)


async def _update(
    settings: Settings, db: AsyncSession, row: Track, event: RecordEvent, record: dict[str, Any]
) -> None:
    """An edit: new fields; media fetched again only where the record's source changed."""
    before = (_audio_source(row), _image_source(row), row.audio_url, row.image_url)
    _fill(settings, row, event, record)
    audio_changed = _audio_source(row) != before[0]
    # A record naming plyr's own artwork URL and no blob (a client that dropped imageBlob,
    # e.g. one following the real plyr.fm's lexicon) still has the artwork plyr holds.
    own_image = record.get("imageUrl") == image_url(settings, row.id)
    image_changed = _image_source(row) != before[1] and not (
        own_image and _image_source(row) == (None, None)
    )
    if audio_changed and (row.audio_blob_cid or row.audio_url):
        old = media_keys(row)
        row.content_hash = pending_hash(row.artist_did, row.rkey)
        row.original_key, row.stream_key, row.stream_content_type = "", None, None
        row.image_key = row.thumbnail_key = row.waveform_key = None
        row.audio_state, row.audio_error = AUDIO_PENDING, None
        row.file_type = str(record["fileType"])[:16]
        await _drop_files_later(db, row.artist_did, old)
    elif image_changed:
        old = [key for key in (row.image_key, row.thumbnail_key) if key]
        row.image_key = row.thumbnail_key = None
        await _drop_files_later(db, row.artist_did, old)
    if audio_changed or image_changed or (row.audio_url, row.image_url) != before[2:]:
        await enqueue_fetch(db, row)


async def _drop_files_later(db: AsyncSession, did: str, keys: list[str]) -> None:
    """Delete the files no track uses any more, after the commit (a `track.delete` job
    with no record to delete: it removes unused files only)."""
    if keys:
        await enqueue(db, "track.delete", {"did": did, "rkey": None, "keys": keys})


async def _link_list_entries(db: AsyncSession, row: Track) -> None:
    """Entries of lists indexed before the track (a backfill reads repos in any order) now
    name a track plyr knows."""
    await db.execute(
        update(ListItem)
        .where(ListItem.subject_uri == row.atproto_uri, ListItem.track_id.is_(None))
        .values(track_id=row.id)
    )


async def _remove(runtime: Runtime, event: RecordEvent) -> None:
    async with runtime.sessions() as db:
        row = await db.scalar(_locked_row(event))
        if row is None or row.publish_state in _IN_FLIGHT:
            return  # unknown, or plyr is writing it again (the job's write wins)
        if event.rev is not None and row.atproto_rev is not None and event.rev <= row.atproto_rev:
            return  # a late delete of a version written again since
        keys = media_keys(row)
        # List entries stay, naming a track plyr does not know, as the lists' records do.
        await db.execute(update(ListItem).where(ListItem.track_id == row.id).values(track_id=None))
        await drop_tracks(db, [row.id])
        await db.delete(row)
        await _drop_files_later(db, event.did, keys)
        await db.commit()
    log.info("track %s deleted from the network: unindexed", event.uri)

"""Labels follow a track's record when it changes.

A label names one record version (URI and CID). When an artist edits a labelled track (a
taken-down one, one with flagged artwork) publishing writes a new record version: the
`moderation.relabel` job, enqueued by kind by `plyr.tracks.publishing` after each write,
issues every label that holds on the URI for the new CID (`labels.issue` negates the old
CID's label first, so one version is labelled at a time and a later reversal negates all of
it), and labels `sensitive-artwork` if the track shows flagged artwork (a track published
after its image was flagged).

`moderation.sensitive_backfill` labels the tracks of images flagged before flags became
labels; a starting worker enqueues it when some such track lacks its label.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import or_, select

from plyr.db.models import SensitiveImage, Track
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, job_handler
from plyr.moderation import labeler, labels, sensitive_labels
from plyr.runtime import Runtime
from plyr.social import sensitive

log = logging.getLogger(__name__)

RELABEL = "moderation.relabel"  # the kind tracks/publishing.py enqueues by name
SENSITIVE_BACKFILL = "moderation.sensitive_backfill"


async def relabel_track(runtime: Runtime, track_id: int) -> dict[str, Any]:
    """Carry the labels held on the track's URI over to its current CID; label flagged
    artwork. The values issued."""
    if labeler.labeler_did(runtime.settings) is None:
        return {"issued": []}
    await sensitive.refresh_if_stale(runtime)
    issued: list[str] = []
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        if track is None or track.atproto_uri is None or track.atproto_cid is None:
            return {"issued": []}
        uri, cid = track.atproto_uri, track.atproto_cid
        held = {row.val: row for row in await labels.held_on(runtime, db, uri)}
        wanted = [val for val, row in held.items() if row.cid != cid]
        if labels.SENSITIVE_ARTWORK not in held and sensitive.flagged_in_snapshot(runtime, track):
            wanted.append(labels.SENSITIVE_ARTWORK)
        for val in wanted:
            await labels.issue(runtime, db, uri=uri, cid=cid, val=val)
            issued.append(val)
        await db.commit()
    if issued:
        log.info("track %s: %s issued for %s", track_id, ", ".join(issued), cid)
    return {"issued": issued}


async def _flagged(runtime: Runtime) -> list[SensitiveImage]:
    async with runtime.sessions() as db:
        return list((await db.scalars(select(SensitiveImage))).all())


async def backfill_sensitive(runtime: Runtime) -> dict[str, Any]:
    """Label every published track showing flagged artwork that lacks its label."""
    images = await _flagged(runtime)
    async with runtime.sessions() as db:
        labelled = await sensitive_labels.label_tracks_showing(runtime, db, images)
        await db.commit()
    return {"labelled": labelled}


async def sensitive_backfill_on_start(runtime: Runtime) -> bool:
    """Enqueue `moderation.sensitive_backfill` when a published track showing flagged artwork
    has no label for its current record. Cheap: flagged images are few (one query when there
    are none)."""
    if labeler.labeler_did(runtime.settings) is None:
        return False
    images = await _flagged(runtime)
    matches = sensitive_labels.showing(images)
    if not matches:
        return False
    async with runtime.sessions() as db:
        tracks = await db.execute(
            select(Track.atproto_uri, Track.atproto_cid).where(
                or_(*matches),
                Track.atproto_uri.is_not(None),
                Track.atproto_cid.is_not(None),
            )
        )
        for uri, cid in tracks.all():
            held = await labels.held(runtime, db, str(uri), labels.SENSITIVE_ARTWORK)
            if held is None or held.cid != cid:
                await enqueue(db, SENSITIVE_BACKFILL, {}, dedupe_key=SENSITIVE_BACKFILL)
                await db.commit()
                return True
    return False


def _runtime(ctx: JobContext) -> Runtime:
    runtime: Runtime = ctx.services["runtime"]
    return runtime


@job_handler(RELABEL)
async def relabel_job(ctx: JobContext) -> dict[str, Any]:
    return await relabel_track(_runtime(ctx), int(ctx.payload["track_id"]))


@job_handler(SENSITIVE_BACKFILL)
async def sensitive_backfill_job(ctx: JobContext) -> dict[str, Any]:
    return await backfill_sensitive(_runtime(ctx))

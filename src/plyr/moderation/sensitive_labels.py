"""Sensitive artwork as labels: flagging an image (`plyr.social.sensitive`, which sits below
moderation and cannot issue labels) also labels `sensitive-artwork` every published track
record that shows it (the record's URI and CID); clearing the flag negates the labels of the
tracks it no longer covers. The API and the CLI call these instead of `sensitive` directly;
both are audited ("image.flag", "image.unflag") with the labels they issued.

The flag commits first, the labels right after it: a crash between the two leaves a flag
without its labels, and flagging again (a no-op for the flag, see `sensitive.flag`) issues
them, since issuing what already holds adds nothing. Tracks published later with flagged
artwork, and images flagged before labels existed, are labelled by `plyr.moderation.relabel`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from plyr.db.models import Label, SensitiveImage, Track
from plyr.moderation import audit, labeler, labels
from plyr.runtime import Runtime
from plyr.social import sensitive


def showing(
    images: Sequence[sensitive.FlaggedImage | SensitiveImage],
) -> list[ColumnElement[bool]]:
    """The conditions on Track that select the tracks showing any of `images`."""
    matches: list[ColumnElement[bool]] = []
    for image in images:
        if image.image_key:
            matches += [Track.image_key == image.image_key, Track.thumbnail_key == image.image_key]
        url = image.url
        if url:
            matches.append(Track.image_url == url)
    return matches


async def label_tracks_showing(
    runtime: Runtime, db: AsyncSession, images: Sequence[sensitive.FlaggedImage | SensitiveImage]
) -> list[str]:
    """Label every published track showing one of `images` (in `db`'s transaction); the URIs
    newly labelled (tracks already labelled for their current CID add nothing)."""
    matches = showing(images)
    if not matches:
        return []
    tracks = await db.scalars(
        select(Track).where(
            or_(*matches),
            Track.atproto_uri.is_not(None),
            Track.atproto_cid.is_not(None),
        )
    )
    labelled = []
    for track in tracks.all():
        uri, cid = track.atproto_uri, track.atproto_cid
        assert uri is not None
        held = await labels.held(runtime, db, uri, labels.SENSITIVE_ARTWORK)
        if held is not None and held.cid == cid:
            continue
        if await labels.issue(runtime, db, uri=uri, cid=cid, val=labels.SENSITIVE_ARTWORK):
            labelled.append(uri)
    return labelled


async def flag_image(
    runtime: Runtime, image: str, reason: str | None = None, by: str | None = None
) -> sensitive.FlaggedImage:
    flagged = await sensitive.flag(runtime, image, reason, by)
    async with runtime.sessions() as db:
        labelled = await label_tracks_showing(runtime, db, [flagged])
        audit.record(
            db,
            actor=by or "cli",
            action="image.flag",
            subject=f"image:{flagged.target}",
            reason=reason,
            labelled=labelled,
        )
        await db.commit()
    return flagged


async def unflag_image(runtime: Runtime, image: str, by: str | None = None) -> bool:
    """Clear the flag; negate the label of every labelled track no longer flagged."""
    before = await sensitive.list_flagged(runtime)  # few: the audit names what was cleared
    if not await sensitive.unflag(runtime, image):  # refreshes what is flagged
        return False
    still = {row.id for row in await sensitive.list_flagged(runtime)}
    target = next((row.target for row in before if row.id not in still), image)
    src = labeler.labeler_did(runtime.settings)
    negated: list[str] = []
    async with runtime.sessions() as db:
        if src is not None:
            labelled = await db.scalars(
                select(Track).where(
                    Track.atproto_uri.in_(
                        select(Label.uri).where(
                            Label.src == src, Label.val == labels.SENSITIVE_ARTWORK
                        )
                    )
                )
            )
            for track in labelled.all():
                if track.atproto_uri is None or sensitive.flagged_in_snapshot(runtime, track):
                    continue
                row = await labels.issue(
                    runtime,
                    db,
                    uri=track.atproto_uri,
                    cid=track.atproto_cid,
                    val=labels.SENSITIVE_ARTWORK,
                    neg=True,
                )
                if row is not None:
                    negated.append(track.atproto_uri)
        audit.record(
            db,
            actor=by or "cli",
            action="image.unflag",
            subject=f"image:{target}",
            negated=negated,
        )
        await db.commit()
    return True

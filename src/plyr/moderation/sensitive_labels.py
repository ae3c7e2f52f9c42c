"""Sensitive artwork as labels: flagging an image (`plyr.social.sensitive`, which sits below
moderation and cannot issue labels) also labels `sensitive-artwork` every published track
record that shows it (the record's URI and CID); clearing the flag negates the labels of the
tracks it no longer covers. The API and the CLI call these instead of `sensitive` directly.

The flag commits first, the labels right after it: a crash between the two leaves a flag
without its labels, and flagging again (a no-op for the flag, see `sensitive.flag`) issues
them, since issuing what already holds adds nothing.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from plyr.db.models import Label, Track
from plyr.moderation import labeler, labels
from plyr.runtime import Runtime
from plyr.social import sensitive


async def flag_image(
    runtime: Runtime, image: str, reason: str | None = None, by: str | None = None
) -> sensitive.FlaggedImage:
    flagged = await sensitive.flag(runtime, image, reason, by)
    matches = []
    if flagged.image_key:
        matches += [Track.image_key == flagged.image_key, Track.thumbnail_key == flagged.image_key]
    if flagged.url:
        matches.append(Track.image_url == flagged.url)
    if not matches:
        return flagged
    async with runtime.sessions() as db:
        tracks = await db.scalars(
            select(Track).where(
                or_(*matches), Track.atproto_uri.is_not(None), Track.atproto_cid.is_not(None)
            )
        )
        for track in tracks.all():
            assert track.atproto_uri is not None
            await labels.issue(
                runtime,
                db,
                uri=track.atproto_uri,
                cid=track.atproto_cid,
                val=labels.SENSITIVE_ARTWORK,
            )
        await db.commit()
    return flagged


async def unflag_image(runtime: Runtime, image: str) -> bool:
    """Clear the flag; negate the label of every labelled track no longer flagged."""
    cleared = await sensitive.unflag(runtime, image)  # refreshes what is flagged
    src = labeler.labeler_did(runtime.settings)
    if src is None:
        return cleared
    async with runtime.sessions() as db:
        labelled = await db.scalars(
            select(Track).where(
                Track.atproto_uri.in_(
                    select(Label.uri).where(Label.src == src, Label.val == labels.SENSITIVE_ARTWORK)
                )
            )
        )
        for track in labelled.all():
            if track.atproto_uri is None or sensitive.flagged_in_snapshot(runtime, track):
                continue
            await labels.issue(
                runtime,
                db,
                uri=track.atproto_uri,
                cid=track.atproto_cid,
                val=labels.SENSITIVE_ARTWORK,
                neg=True,
            )
        await db.commit()
    return cleared

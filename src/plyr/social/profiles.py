"""The plyr profile (`fm.plyr.actor.profile`, key `self`): a bio. Display name and avatar
come from the user's Bluesky profile (plyr/artists.py)."""

from __future__ import annotations

from sqlalchemy import select

from plyr.db.models import Profile, utcnow
from plyr.db.text import require_storable
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social import sync

PROFILE_RKEY = "self"
MAX_BIO = 2560
MAX_BIO_GRAPHEMES = 256


async def get_bio(runtime: Runtime, did: str) -> str | None:
    async with runtime.sessions() as db:
        return await db.scalar(select(Profile.bio).where(Profile.did == did))


async def get_profile(runtime: Runtime, did: str) -> Profile | None:
    async with runtime.sessions() as db:
        row = await db.scalar(select(Profile).where(Profile.did == did))
        if row is not None:
            db.expunge(row)
        return row


async def set_bio(
    runtime: Runtime, did: str, bio: str | None, session_id: str | None = None
) -> Profile:
    cleaned = (bio or "").strip() or None
    require_storable("bio", cleaned)
    if cleaned is not None:
        record = {"createdAt": "2000-01-01T00:00:00.000Z", "bio": cleaned}
        if not runtime.lexicons.is_valid_record(
            runtime.lexicons.collection("actor.profile"),
            {"$type": runtime.lexicons.collection("actor.profile"), **record},
        ):
            raise ServiceError(
                422,
                "invalid_bio",
                f"a bio is at most {MAX_BIO_GRAPHEMES} characters ({MAX_BIO} bytes)",
            )
    async with runtime.sessions() as db:
        row = await db.scalar(select(Profile).where(Profile.did == did))
        if row is None:
            row = Profile(did=did, rkey=PROFILE_RKEY, bio=cleaned)
            db.add(row)
        else:
            row.bio = cleaned
            row.updated_at = utcnow()
        await sync.changed(db, row, session_id)
        await db.commit()
        db.expunge(row)
        return row

"""Artists (every signed-in identity): kept in step with their DID document and profile,
and found by handle or DID."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select

from plyr.atproto.identity import Identity
from plyr.db.models import Artist, utcnow
from plyr.db.text import storable
from plyr.errors import ServiceError
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

BSKY_PROFILE = "app.bsky.actor.profile"
PROFILE_MAX_BYTES = 256 * 1024


async def bluesky_profile(runtime: Runtime, identity: Identity) -> dict[str, Any]:
    """The user's `app.bsky.actor.profile/self` record, or {} when there is none."""
    query = urlencode({"repo": identity.did, "collection": BSKY_PROFILE, "rkey": "self"})
    url = f"{identity.pds_url}/xrpc/com.atproto.repo.getRecord?{query}"
    try:
        response = await runtime.http.get(url)
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("cannot read the Bluesky profile of %s: %s", identity.did, exc)
        return {}
    if response.status_code != 200 or len(response.content) > PROFILE_MAX_BYTES:
        return {}
    try:
        value = response.json().get("value")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def blob_url(pds_url: str, did: str, cid: str) -> str:
    return f"{pds_url}/xrpc/com.atproto.sync.getBlob?" + urlencode({"did": did, "cid": cid})


async def sync_artist(runtime: Runtime, did: str) -> Artist:
    """Create or update the artist row from the DID document and the Bluesky profile."""
    runtime.identity.invalidate(did)  # a sign-in is when handles and PDS moves show up
    identity = await runtime.identity.resolve(did)
    profile = await bluesky_profile(runtime, identity)
    display_name = profile.get("displayName")
    avatar = profile.get("avatar")
    avatar_url = None
    if isinstance(avatar, dict):
        link = avatar.get("ref", {}).get("$link") if isinstance(avatar.get("ref"), dict) else None
        if isinstance(link, str):
            avatar_url = blob_url(identity.pds_url, did, link)
    async with runtime.sessions() as db:
        artist = await db.get(Artist, did)
        if artist is None:
            artist = Artist(did=did, handle=identity.display_handle, pds_url=identity.pds_url)
            db.add(artist)
        artist.handle = identity.display_handle
        artist.pds_url = identity.pds_url
        artist.display_name = display_name[:640] if isinstance(display_name, str) else None
        artist.avatar_url = avatar_url
        artist.updated_at = utcnow()
        await db.commit()
        await db.refresh(artist)
        db.expunge(artist)
        return artist


async def get_artist(runtime: Runtime, did: str) -> Artist | None:
    async with runtime.sessions() as db:
        return await db.get(Artist, did)


async def find_artist(runtime: Runtime, handle_or_did: str) -> Artist:
    key = handle_or_did.removeprefix("@").lower()
    if not storable(key):  # no handle or DID has one; PostgreSQL would refuse the query
        raise ServiceError(404, "not_found", "no such artist on plyr")
    async with runtime.sessions() as db:
        column = Artist.did if key.startswith("did:") else Artist.handle
        artist = await db.scalar(select(Artist).where(column == key).limit(1))
        if artist is None:
            raise ServiceError(404, "not_found", f"no artist @{key} on plyr yet")
        db.expunge(artist)
        return artist

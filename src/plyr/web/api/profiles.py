"""Profiles and liked tracks over the JSON API: a user's bio, display name and avatar;
setting your bio (the `self` profile record); a user's liked tracks when they show them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from plyr.artists import find_artist
from plyr.db.models import Artist, Profile
from plyr.runtime import Runtime
from plyr.social import likes, profiles
from plyr.social.profiles import MAX_BIO
from plyr.tracks.catalogue import listed_artist
from plyr.web.api.bounds import SLACK
from plyr.web.shared.caller import CallerDep, CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import ApiError, error_responses
from plyr.web.shared.examples import ALICE, PERSON, TRACK_SUMMARY, with_examples
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.views import Person, TrackSummary, person, record_uri, track_summary

router = APIRouter(tags=["social"])


class ProfileOut(Person):
    model_config = with_examples(
        {
            **PERSON,
            "bio": "field recordings and slow synths from the harbour",
            "record_state": "published",
            "uri": f"at://{ALICE}/fm.plyr.actor.profile/self",
        }
    )

    bio: str | None
    record_state: str | None  # None: no plyr profile record yet
    uri: str | None


def profile_out(runtime: Runtime, artist: Artist, row: Profile | None) -> ProfileOut:
    return ProfileOut(
        **person(artist).model_dump(),
        bio=row.bio if row else None,
        record_state=row.record_state.value if row else None,
        uri=record_uri(runtime, "actor.profile", row) if row else None,
    )


class ProfileIn(BaseModel):
    model_config = with_examples({"bio": "field recordings and slow synths from the harbour"})

    bio: Annotated[str | None, Field(max_length=MAX_BIO * SLACK)] = None


@router.get("/api/profile/{handle_or_did}", responses=error_responses(401, 404, 422, 451))
async def get_profile(
    handle_or_did: str, runtime: RuntimeDep, caller: OptionalCaller
) -> ProfileOut:
    """A user's bio, display name and avatar (451 when an operator hid the account)."""
    viewer, admin = viewer_of(runtime, caller)
    artist = listed_artist(await find_artist(runtime, handle_or_did), viewer, admin=admin)
    return profile_out(runtime, artist, await profiles.get_profile(runtime, artist.did))


@router.put("/api/profile", responses=error_responses(400, 401, 403, 422, 429))
async def set_profile(
    body: ProfileIn, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> ProfileOut:
    """Set your bio (empty clears it); written to your PDS as the `self` profile record."""
    await limit_writes(runtime, request, caller.did)
    row = await profiles.set_bio(runtime, caller.did, body.bio, caller.session.id)
    artist = await find_artist(runtime, caller.did)
    return profile_out(runtime, artist, row)


class LikedOut(BaseModel):
    model_config = with_examples({"user": PERSON, "tracks": [TRACK_SUMMARY]})

    user: Person
    tracks: list[TrackSummary]


@router.get(
    "/api/users/{handle}/liked",
    responses=error_responses(
        401,
        404,
        422,
        451,
        described={404: "no such user, or they keep their liked tracks private"},
    ),
)
async def liked_tracks(handle: str, runtime: RuntimeDep, caller: OptionalCaller) -> LikedOut:
    """A user's liked tracks, when they show them (you always see your own)."""
    viewer, admin = viewer_of(runtime, caller)
    artist = listed_artist(await find_artist(runtime, handle), viewer, admin=admin)
    own = caller is not None and caller.did == artist.did
    if not own and not await likes.liked_page_visible(runtime, artist.did):
        raise ApiError(404, "liked_private", f"@{artist.handle} keeps their liked tracks private")
    found = await likes.liked_tracks(runtime, artist.did)
    return LikedOut(user=person(artist), tracks=[track_summary(runtime, t) for t in found])

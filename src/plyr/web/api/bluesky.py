"""Sharing a track to Bluesky over the JSON API: `POST /api/tracks/{id}/share/bluesky`.
Thin over `plyr.social.bluesky`; the post is written by a durable job, and the answer says
whether it is already in the user's repository (201) or still on its way (202)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from plyr.social import bluesky
from plyr.web.shared.caller import CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import ALICE, CID, with_examples
from plyr.web.shared.limits import enforce, limit_writes
from plyr.web.shared.params import PathId

router = APIRouter(tags=["social"])

# How long the request waits for the job (which usually runs at once) before answering 202.
WAIT_SECONDS = 8.0


class ShareIn(BaseModel):
    model_config = with_examples(
        {"text": "new track: harbour lights 🌊 https://plyr.example/tracks/42", "langs": ["en"]}
    )

    text: Annotated[
        str | None,
        Field(
            max_length=3000,
            description="the post's text (at most 300 characters); default: title, artist "
            "and the track's link. Links in it become link facets.",
        ),
    ] = None
    langs: Annotated[
        list[Annotated[str, Field(max_length=64)]] | None,
        Field(max_length=3, description="languages of the text (BCP 47), at most 3"),
    ] = None


class ShareOut(BaseModel):
    model_config = with_examples(
        {
            "state": "posted",
            "uri": f"at://{ALICE}/app.bsky.feed.post/3lbx2v7hnqs2k",
            "url": "https://bsky.app/profile/alice.example.com/post/3lbx2v7hnqs2k",
            "cid": CID,
        }
    )

    state: Literal["posted", "pending"] = Field(
        description="posted: in your repository; pending: plyr keeps trying your pds"
    )
    uri: str = Field(description="the post's AT-URI (its key is fixed before it is written)")
    url: str = Field(description="the post on bsky.app")
    cid: str | None = None


@router.post(
    "/api/tracks/{track_id}/share/bluesky",
    status_code=201,
    responses={
        202: {"model": ShareOut, "description": "accepted: your pds did not answer yet"},
        **error_responses(
            400,
            401,
            403,
            404,
            409,
            422,
            429,
            451,
            502,
            described={
                403: "`bluesky_scope_missing`: plyr may not post for you yet (allow it with "
                "a new authorization: POST /settings/sharing), or the CSRF token is wrong",
                409: "the track is still being processed",
                502: "your pds refused the post (`share_failed`; `message` says why)",
            },
        ),
    },
)
async def share_to_bluesky(
    track_id: PathId,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
    body: ShareIn | None = None,
) -> ShareOut:
    """Post the track to your Bluesky account: a post with the text and a link card (title,
    artist, the track's page, its artwork), written to your own repository."""
    await limit_writes(runtime, request, caller.did)
    await enforce(runtime, request, caller.did, "bluesky-share", bluesky.SHARES_PER_HOUR, 3600)
    body = body or ShareIn()
    share = await bluesky.share_track(runtime, caller.session, track_id, body.text, body.langs)
    outcome = await bluesky.await_share(runtime, share, WAIT_SECONDS)
    if outcome.state == "pending":
        response.status_code = 202
    return ShareOut(state=outcome.state, uri=outcome.uri, url=outcome.url, cid=outcome.cid)

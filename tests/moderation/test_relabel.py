"""Labels follow the record version they name, on SQLite and PostgreSQL, with track records
really in alice's repository on the local network: a negation names the CID that was
labelled; an edited (re-published) track's labels move to its new CID and a reversal then
clears every version for a consumer that keys labels by (uri, cid, val); artwork flagged
before a track was published, or before flags became labels, is labelled by the relabel job
and the backfill; every signature checked by @atproto/crypto against the PLC's document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from plyr.atproto import dagcbor
from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.db.models import Artist, Job, PublishState, SensitiveImage, Track
from plyr.jobs.registry import _HANDLERS
from plyr.moderation import labels, relabel, sensitive_labels
from plyr.runtime import Runtime
from plyr.social import sensitive
from tests.support.labeler import node_reference, serve_labeler
from tests.support.plyr_server import PlyrServer

QUERY = "/xrpc/com.atproto.label.queryLabels"


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    async for server in serve_labeler(atproto_net, db_url, tmp_path_factory.mktemp("relabel")):
        yield server


async def put_track_record(atproto_net: Network, rkey: str, title: str) -> tuple[str, str]:
    account = atproto_net.account("alice.test")
    async with httpx.AsyncClient() as http:
        session = await PasswordSession.create(
            http, atproto_net.pds_url, account.handle, account.password
        )
        repo = RepoClient(XrpcClient(http, atproto_net.pds_url, session), account.did)
        written = await repo.put_record(
            "fm.plyr.track", rkey, {"title": title, "createdAt": "2026-01-01T00:00:00.000Z"}
        )
    return written.uri, written.cid


async def published_track(plyr: PlyrServer, atproto_net: Network, image_key: str) -> Track:
    account = atproto_net.account("alice.test")
    rkey = next_tid()
    uri, cid = await put_track_record(atproto_net, rkey, "first")
    async with plyr.runtime.sessions() as db:
        if await db.get(Artist, account.did) is None:
            db.add(Artist(did=account.did, handle=account.handle, pds_url=atproto_net.pds_url))
        track = Track(
            artist_did=account.did,
            title="first",
            artist_name="alice",
            file_type="mp3",
            content_hash=rkey,
            original_key=f"audio/{rkey}.mp3",
            image_key=image_key,
            rkey=rkey,
            atproto_uri=uri,
            atproto_cid=cid,
            publish_state=PublishState.published,
        )
        db.add(track)
        await db.commit()
    return track


async def edit(plyr: PlyrServer, atproto_net: Network, track: Track, title: str) -> str:
    """What publishing does after an edit: a new record version, its CID on the row."""
    _, cid = await put_track_record(atproto_net, str(track.rkey), title)
    async with plyr.runtime.sessions() as db:
        row = await db.get(Track, track.id)
        assert row is not None
        row.atproto_cid = cid
        await db.commit()
    assert cid != track.atproto_cid
    return cid


async def issue(runtime: Runtime, **fields: Any) -> None:
    async with runtime.sessions() as db:
        await labels.issue(runtime, db, **fields)
        await db.commit()


async def served(plyr: PlyrServer, uri: str) -> list[dict[str, Any]]:
    # 30 s, not httpx's 5: a loaded two-core CI machine has timed the default out.
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
        response = await http.get(QUERY, params={"uriPatterns": uri})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["labels"]
    return found


def consumer_view(items: list[dict[str, Any]]) -> set[tuple[str, str | None, str]]:
    """What an appview keyed by (uri, cid, val) holds after applying the labels in order."""
    held: set[tuple[str, str | None, str]] = set()
    for item in items:
        key = (item["uri"], item.get("cid"), item["val"])
        if item.get("neg"):
            held.discard(key)
        else:
            held.add(key)
    return held


def verify(plyr: PlyrServer, atproto_net: Network, items: list[dict[str, Any]]) -> None:
    verdict = node_reference(
        {
            "op": "verify",
            "plc": atproto_net.plc_url,
            "did": plyr.settings.labeler_did,
            "labels": items,
        }
    )
    assert verdict["results"] == [True] * len(items)


async def test_a_negation_names_the_cid_that_was_labelled(plyr: PlyrServer) -> None:
    uri = f"at://did:plc:negcid/fm.plyr.track/{next_tid()}"
    first, later = dagcbor.record_cid({"v": 1}), dagcbor.record_cid({"v": 2})
    await issue(plyr.runtime, uri=uri, cid=first, val=labels.TAKEDOWN)
    # The caller knows only the record's current CID.
    await issue(plyr.runtime, uri=uri, cid=later, val=labels.TAKEDOWN, neg=True)
    items = await served(plyr, uri)
    assert [(item["cid"], item.get("neg", False)) for item in items] == [
        (first, False),
        (first, True),
    ]
    assert consumer_view(items) == set()


async def test_an_edited_tracks_labels_follow_its_record_and_a_reversal_clears_them(
    plyr: PlyrServer, atproto_net: Network
) -> None:
    track = await published_track(plyr, atproto_net, f"images/{next_tid()}.png")
    uri, old = str(track.atproto_uri), str(track.atproto_cid)
    await issue(plyr.runtime, uri=uri, cid=old, val=labels.TAKEDOWN)
    assert relabel.RELABEL in _HANDLERS  # publishing enqueues it by this kind

    new = await edit(plyr, atproto_net, track, "edited while taken down")
    assert await relabel.relabel_track(plyr.runtime, track.id) == {"issued": [labels.TAKEDOWN]}
    held = await labels.current_labels(plyr.runtime, uri)
    assert [(row.val, row.cid) for row in held] == [(labels.TAKEDOWN, new)]
    items = await served(plyr, uri)
    assert consumer_view(items) == {(uri, new, labels.TAKEDOWN)}
    # Running again (a retried job) adds nothing.
    assert await relabel.relabel_track(plyr.runtime, track.id) == {"issued": []}
    assert len(await served(plyr, uri)) == len(items)

    # The restore negates with whatever CID it has: the label it names is the one held.
    await issue(plyr.runtime, uri=uri, cid=old, val=labels.TAKEDOWN, neg=True)
    items = await served(plyr, uri)
    assert consumer_view(items) == set()
    assert await labels.current_labels(plyr.runtime, uri) == []
    verify(plyr, atproto_net, items)


async def test_artwork_flagged_before_publishing_is_labelled_on_publish(
    plyr: PlyrServer, atproto_net: Network
) -> None:
    image = f"images/{next_tid()}.png"
    await sensitive_labels.flag_image(plyr.runtime, image, "gore", by="did:plc:operator")
    track = await published_track(plyr, atproto_net, image)
    uri = str(track.atproto_uri)
    assert await labels.current_labels(plyr.runtime, uri) == []

    assert await relabel.relabel_track(plyr.runtime, track.id) == {
        "issued": [labels.SENSITIVE_ARTWORK]
    }
    held = await labels.current_labels(plyr.runtime, uri)
    assert [(row.val, row.cid) for row in held] == [(labels.SENSITIVE_ARTWORK, track.atproto_cid)]
    await sensitive_labels.unflag_image(plyr.runtime, image, by="did:plc:operator")
    assert await labels.current_labels(plyr.runtime, uri) == []


async def test_images_flagged_before_labels_are_backfilled(
    plyr: PlyrServer, atproto_net: Network
) -> None:
    image = f"images/{next_tid()}.png"
    track = await published_track(plyr, atproto_net, image)
    bystander = await published_track(plyr, atproto_net, f"images/{next_tid()}.png")
    # A flag from before flags became labels: the row only.
    async with plyr.runtime.sessions() as db:
        db.add(SensitiveImage(image_key=image, reason="old", flagged_by="cli"))
        await db.commit()
    await sensitive.refresh(plyr.runtime)

    assert await relabel.sensitive_backfill_on_start(plyr.runtime)
    async with plyr.runtime.sessions() as db:
        kinds = (await db.scalars(select(Job.kind))).all()
    assert relabel.SENSITIVE_BACKFILL in kinds
    done = await relabel.backfill_sensitive(plyr.runtime)
    assert done == {"labelled": [track.atproto_uri]}
    held = await labels.current_labels(plyr.runtime, str(track.atproto_uri))
    assert [(row.val, row.cid) for row in held] == [(labels.SENSITIVE_ARTWORK, track.atproto_cid)]
    assert await labels.current_labels(plyr.runtime, str(bystander.atproto_uri)) == []
    # Nothing left to label: the next start enqueues nothing.
    async with plyr.runtime.sessions() as db:
        for job in (await db.scalars(select(Job))).all():
            await db.delete(job)
        await db.commit()
    assert not await relabel.sensitive_backfill_on_start(plyr.runtime)
    await sensitive_labels.unflag_image(plyr.runtime, image)

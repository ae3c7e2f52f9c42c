"""Three people use plyr for a while, through its API with real PDS writes: two artists
upload tracks (an album, tags, a feature, a content warning, artwork, an edit), everyone
likes, comments (one edited), makes and reorders playlists, and sets a bio. A third
writes two records with another client that plyr must leave out."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.atproto.syntax import format_datetime
from plyr.atproto.tid import next_tid
from plyr.auth.sessions import csrf_token
from plyr.db.models import (
    Comment,
    Job,
    JobStatus,
    Like,
    ListItem,
    MusicList,
    Profile,
    PublishState,
    RecordState,
    Track,
    utcnow,
)
from tests.backfill.accounts import Account, put_unvalidated, repo_of
from tests.support.audio import make_audio, make_image
from tests.support.browser import sign_in_to_plyr
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, public_record, upload
from tests.support.sign_in_tab import sign_in_tab

UPLOAD_SECONDS = 90

ALBUM = "rebuild album"


@dataclass(frozen=True)
class Leftouts:
    """The records written past plyr that a rebuild must report, not index."""

    bad_comment: str  # fails its lexicon
    stray_like: str  # likes a track that does not exist


async def sign_in_as(browser: Browser, plyr: PlyrServer, account: Account) -> SignedIn:
    async with sign_in_tab(browser) as page:
        cookie = await sign_in_to_plyr(page, plyr.url, account.handle, account.password)
    session_id = hashlib.sha256(cookie.encode()).hexdigest()
    secret = plyr.settings.secret_key_bytes()
    return SignedIn(account.handle, account.did, cookie, csrf_token(secret, session_id))


async def upload_published(
    http: Any, path: Path, *, image: Path | None = None, **fields: str
) -> dict[str, Any]:
    """Upload a file and wait until its record is in the PDS; returns the track."""
    accepted = await upload(http, path, image=image, **fields)
    assert accepted.status_code == 202, accepted.text
    upload_id = accepted.json()["upload_id"]
    async with asyncio.timeout(UPLOAD_SECONDS):
        while True:
            status = (await http.get(f"/api/uploads/{upload_id}")).json()
            assert status["phase"] != "failed", status
            if status.get("track_id") and status["done"]:
                track = await ok(await http.get(f"/api/tracks/{status['track_id']}"))
                if track["publish_state"] == "published":
                    return track
            await asyncio.sleep(0.1)


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json()) if response.content else {}


async def act(plyr: PlyrServer, ana: SignedIn, ben: SignedIn, cai: SignedIn, folder: Path) -> None:
    """Everything the three do through plyr."""

    def audio(name: str, freq: int) -> Path:
        return make_audio(folder / f"{name}.mp3", "mp3", seconds=2, freq=freq)

    cover = make_image(folder / "cover.png", "png", (320, 320))
    async with ana.client(plyr) as http:
        first = await upload_published(
            http,
            audio("first", 330),
            image=cover,
            title="first light",
            album=ALBUM,
            tags="ambient, field recording",
            description="recorded at dawn",
        )
        second = await upload_published(
            http,
            audio("second", 390),
            title="second wind",
            album=ALBUM,
            tags="ambient",
            features=ben.handle,
            self_labels="graphic-media",
        )
        single = await upload_published(http, audio("single", 450), title="single", tags="drone")
        await ok(
            await http.patch(
                f"/api/tracks/{single['id']}",
                json={"title": "single (edit)", "tags": ["drone", "live"]},
            )
        )
        (album,) = await ok_list(await http.get("/api/lists", params={"type": "album"}))
        detail = await ok(await http.get(f"/api/lists/{album['id']}"))
        items = [entry["item_id"] for entry in detail["entries"]]
        await ok(await http.put(f"/api/lists/{album['id']}/order", json={"item_ids": items[::-1]}))
        await ok(await http.put("/api/profile", json={"bio": "ana makes ambient things"}))

    async with ben.client(plyr) as http:
        ben_one = await upload_published(http, audio("ben-one", 510), title="ben one", tags="noise")
        ben_two = await upload_published(
            http, audio("ben-two", 570), title="ben two", album="ben's ep", description="loud"
        )
        for track in (first, second):
            await ok(await http.post(f"/api/tracks/{track['id']}/like"))
        comments = f"/api/tracks/{first['id']}/comments"
        await ok(await http.post(comments, json={"text": "lovely", "timestamp_ms": 1500}), 201)
        intro = await ok(
            await http.post(comments, json={"text": "intro!", "timestamp_ms": 200}), 201
        )
        await ok(await http.patch(f"/api/comments/{intro['id']}", json={"text": "intro!!"}))
        await ok(await http.put("/api/profile", json={"bio": "ben: noise, mostly"}))

    async with cai.client(plyr) as http:
        for track in (first, ben_one):
            await ok(await http.post(f"/api/tracks/{track['id']}/like"))
        await ok(
            await http.post(
                f"/api/tracks/{ben_two['id']}/comments",
                json={"text": "too loud?", "timestamp_ms": 0},
            ),
            201,
        )
        order = [first, ben_one, single, ben_two]
        made = await ok(
            await http.post(
                "/api/lists",
                json={
                    "type": "playlist",
                    "name": "late night",
                    "track_ids": [t["id"] for t in order],
                },
            ),
            201,
        )
        ids = [entry["item_id"] for entry in made["entries"]]
        path = f"/api/lists/{made['id']}"
        await ok(
            await http.put(f"{path}/order", json={"item_ids": [ids[2], ids[0], ids[3], ids[1]]})
        )
        await ok(await http.delete(f"{path}/items/{ids[3]}"))
        await ok(await http.patch(path, json={"name": "early morning"}))
        gone = await ok(
            await http.post("/api/lists", json={"type": "playlist", "name": "tmp"}), 201
        )
        assert (await http.delete(f"/api/lists/{gone['id']}")).status_code == 204
        gym = await ok(
            await http.post(
                "/api/lists", json={"type": "playlist", "name": "gym", "track_ids": [ben_two["id"]]}
            ),
            201,
        )
        await ok(
            await http.post(f"/api/lists/{gym['id']}/items", json={"track_id": second["id"]}), 201
        )

    async with ana.client(plyr) as http:
        await ok(await http.post(f"/api/tracks/{ben_one['id']}/like"))


async def ok_list(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json())


async def settled(plyr: PlyrServer, seconds: float = 120) -> None:
    """Every job (processing, publishing, record syncs) has run."""
    async with asyncio.timeout(seconds):
        while True:
            async with plyr.runtime.sessions() as db:
                busy = await db.scalar(
                    select(Job.id)
                    .where(Job.status.in_((JobStatus.queued, JobStatus.running)))
                    .limit(1)
                )
            if busy is None:
                return
            await asyncio.sleep(0.1)


async def all_published(plyr: PlyrServer) -> None:
    """Every row is in its PDS as the index shows it, and no job gave up."""
    async with plyr.runtime.sessions() as db:
        for model in (Like, Comment, MusicList, Profile):
            states = list(await db.scalars(select(model.record_state)))
            assert set(states) <= {RecordState.published}, (model.__name__, states)
        tracks = list(await db.scalars(select(Track.publish_state)))
        assert set(tracks) == {PublishState.published}, tracks
        failed = list(
            await db.execute(select(Job.kind, Job.last_error).where(Job.status == JobStatus.failed))
        )
        assert not failed, failed


async def pds_matches_index(plyr: PlyrServer, net: Network, dids: list[str]) -> None:
    """Before any backfill, each list's record in its PDS holds the entries the index
    shows: a difference here is plyr's own record.sync losing a change, not the rebuild."""
    async with plyr.runtime.sessions() as db:
        rows = (
            await db.execute(
                select(MusicList.id, MusicList.atproto_uri).where(MusicList.did.in_(dids))
            )
        ).all()
        expected = {
            uri: list(
                await db.scalars(
                    select(ListItem.subject_uri)
                    .where(ListItem.list_id == list_id)
                    .order_by(ListItem.position, ListItem.id)
                )
            )
            for list_id, uri in rows
        }
    for uri, items in expected.items():
        record = await public_record(net, uri)
        assert record is not None, f"{uri} is not in its PDS"
        held = [item["subject"]["uri"] for item in record["value"]["items"]]
        if held != items:
            raise AssertionError(
                f"plyr's own record.sync left {uri} behind its index (before any backfill): "
                f"index {items}, PDS {held}; {await _sync_history(plyr, uri)}"
            )


async def _sync_history(plyr: PlyrServer, uri: str) -> str:
    """The row and the record.sync jobs of a list, to tell which write was lost."""
    rkey = uri.rsplit("/", 1)[-1]
    async with plyr.runtime.sessions() as db:
        row = await db.scalar(select(MusicList).where(MusicList.atproto_uri == uri))
        jobs = (
            await db.scalars(select(Job).where(Job.kind == "record.sync").order_by(Job.id))
        ).all()
    seen = [
        (
            job.id,
            job.status.value,
            job.attempts,
            job.result,
            job.last_error,
            job.created_at.isoformat(),
            job.started_at and job.started_at.isoformat(),
            job.finished_at and job.finished_at.isoformat(),
        )
        for job in jobs
        if job.payload.get("rkey") == rkey
    ]
    state = row and (row.sync_version, row.record_state.value, row.atproto_cid, row.updated_at)
    return f"row {state}; jobs {seen}"


async def write_elsewhere(net: Network, account: Account, namespace: str) -> Leftouts:
    """Two records another client writes without any check."""
    now = format_datetime(utcnow())
    async with repo_of(net, account) as repo:
        bad = next_tid()
        track = f"at://{account.did}/{namespace}.track/{next_tid()}"
        missing = {
            "uri": track,
            "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
        }
        await put_unvalidated(
            repo,
            f"{namespace}.comment",
            bad,
            {"subject": missing, "text": "", "timestampMs": -5, "createdAt": now},
        )
        stray = next_tid()
        await put_unvalidated(
            repo, f"{namespace}.like", stray, {"subject": missing, "createdAt": now}
        )
    return Leftouts(
        bad_comment=f"at://{account.did}/{namespace}.comment/{bad}",
        stray_like=f"at://{account.did}/{namespace}.like/{stray}",
    )

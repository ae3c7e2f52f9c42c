"""`AsyncClient` against a live plyr (web + worker) on the local ATProto network, on SQLite
and PostgreSQL: upload with progress through every phase, edit, paging, search, likes,
comments, playlists, profiles, now playing, figures, download byte for byte, export,
delete. Bob writes; Alice's catalogue is only read, so the other client tests can count it."""

from __future__ import annotations

import asyncio
import zipfile
from pathlib import Path
from typing import Any

import pytest

from plyrfm import AsyncClient
from plyrfm.errors import NotFound
from plyrfm.models import (
    Comment,
    DownloadProgress,
    Export,
    LikeState,
    ListDetail,
    RankedTrack,
    Track,
    UploadProgress,
)
from tests.clients.conftest import TokenUser
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer

pytestmark = pytest.mark.browser


def check_upload_phases(events: list[UploadProgress], size: int) -> None:
    """ "sending" with growing byte counts up to the whole body, then the server's phases in
    order, ending published."""
    phases = [event.phase for event in events]
    sending = [event for event in events if event.phase == "sending"]
    assert phases[: len(sending)] == ["sending"] * len(sending), phases
    sent = [event.bytes_sent or 0 for event in sending]
    assert sent == sorted(sent), sent
    assert sending[-1].bytes_sent == sending[-1].bytes_total, sent
    assert (sending[-1].bytes_total or 0) > size  # the form: the file and its fields
    server = events[len(sending) :]
    assert server, phases
    assert server[-1].phase == "published"
    assert server[-1].done
    assert server[-1].track_id
    assert {e.phase for e in server} - {"published"}, f"only the end was seen: {phases}"
    percents = [e.percent for e in server]
    assert percents == sorted(percents), percents


def file_size(path: Path) -> int:
    return path.stat().st_size


def same_bytes(one: Path, other: Path) -> bool:
    return one.read_bytes() == other.read_bytes()


async def eventually_gone(client: AsyncClient, track_id: int) -> None:
    async with asyncio.timeout(30):
        while True:
            try:
                await client.track(track_id)
            except NotFound:
                return
            await asyncio.sleep(0.2)


async def test_async_client_does_everything(
    plyr: PlyrServer,
    alice: TokenUser,
    bob: TokenUser,
    catalogue: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    hers = catalogue[1]
    # A tone of its own: plyr refuses a file its artist already uploaded (the other tests').
    audio_file = make_audio(tmp_path / "async take.wav", "wav", seconds=2.0, freq=587)
    async with (
        AsyncClient(plyr.url, bob.token) as client,
        AsyncClient(plyr.url, alice.token) as alice_client,
    ):
        me = await client.me()
        assert (me.handle, me.did) == (bob.handle, bob.did)

        # upload, following the progress to the published track
        events: list[UploadProgress] = []
        track = await client.upload(
            audio_file,
            title="async take",
            tags=["sdk", "field recording"],
            on_progress=events.append,
        )
        assert isinstance(track, Track)
        assert (track.title, track.artist_did, track.publish_state) == (
            "async take",
            bob.did,
            "published",
        )
        assert sorted(track.tags) == ["field recording", "sdk"]
        size = file_size(audio_file)
        check_upload_phases(events, size)
        assert events[-1].track_id == track.id

        # edit
        edited = await client.edit_track(track.id, title="async take (edit)", tags=["sdk"])
        assert (edited.title, edited.tags) == ("async take (edit)", ["sdk"])
        assert (await client.track(track.id)).title == "async take (edit)"

        # paging: Alice's tracks one per page, through her own listing and the public one
        mine = [t async for t in alice_client.my_tracks(page_size=1)]
        assert [t.id for t in mine] == sorted({t.id for t in mine}, reverse=True)
        assert {t["id"] for t in catalogue} <= {t.id for t in mine}
        public = [t async for t in client.tracks(alice.handle, page_size=1)]
        ids = [t["id"] for t in catalogue]  # other tests may add tracks of hers: newer
        assert [t.id for t in public if t.id in ids] == ids[::-1]
        assert all(t.artist_did == alice.did for t in public)

        # search
        found = await client.search(hers["title"])
        assert hers["id"] in {int(hit.id) for hit in found.hits("tracks")}

        # likes
        liked = await client.like(hers["id"])
        assert isinstance(liked, LikeState)
        assert liked.liked
        assert liked.likes >= 1
        assert hers["id"] in [t.id async for t in client.likes(page_size=1)]
        unliked = await client.unlike(hers["id"])
        assert not unliked.liked
        assert unliked.likes == liked.likes - 1
        assert hers["id"] not in [t.id async for t in client.likes()]

        # comments
        said = await client.comment(hers["id"], "the middle bit", at_ms=1500)
        assert isinstance(said, Comment)
        assert said.timestamp_ms == 1500
        assert said.author is not None
        assert said.author.did == bob.did
        assert said.id in [c.id for c in await client.comments(hers["id"])]
        changed = await client.edit_comment(said.id, "the middle bit, again")
        assert changed.text == "the middle bit, again"
        await client.delete_comment(said.id)
        assert said.id not in [c.id for c in await client.comments(hers["id"])]

        # playlists
        made = await client.create_playlist("async road trip")
        assert isinstance(made, ListDetail)
        assert made.type == "playlist"
        assert made.entries == []
        added = await client.add_to_list(made.id, hers["id"])
        assert [e.track.id for e in added.entries if e.track] == [hers["id"]]
        assert made.id in [lst.id for lst in await client.playlists(bob.handle)]
        assert made.id in [lst.id for lst in await client.lists(kind="playlist")]
        renamed = await client.rename_list(made.id, "async road trip ii")
        assert renamed.name == "async road trip ii"
        shown = await client.get_list(made.id)
        removed = await client.remove_from_list(made.id, shown.entries[0].item_id)
        assert removed.entries == []
        await client.delete_list(made.id)
        with pytest.raises(NotFound):
            await client.get_list(made.id)

        # people and the site
        profile = await client.profile(alice.handle)
        assert (profile.handle, profile.did) == (alice.handle, alice.did)
        assert (await client.profile(alice.did)).handle == alice.handle
        assert await client.now_playing(bob.handle) is None
        assert await client.now_playing(bob.did) is None
        stats = await client.stats()
        assert stats.tracks >= len(catalogue) + 1
        assert stats.artists >= 2
        top = await client.top_tracks(window="all", limit=5)
        assert len(top) <= 5
        assert all(isinstance(t, RankedTrack) for t in top)
        assert "ambient" in {tag.name for tag in await client.tags()}

        # download: the original, byte for byte, under the name plyr gives it
        got: list[DownloadProgress] = []
        (tmp_path / "downloads").mkdir()
        saved = await client.download(track.id, tmp_path / "downloads", on_progress=got.append)
        assert saved.parent == tmp_path / "downloads"
        assert saved.suffix == ".wav"
        assert same_bytes(saved, audio_file)
        assert got[-1].bytes_received == size
        assert not list(saved.parent.glob(".*.part"))

        # export
        seen: list[Export | DownloadProgress] = []
        archive = await client.export(tmp_path / "bob.zip", on_progress=seen.append)
        assert archive == tmp_path / "bob.zip"
        with zipfile.ZipFile(archive) as zipped:
            assert "manifest.json" in zipped.namelist()
        assert isinstance(seen[0], Export)
        assert isinstance(seen[-1], DownloadProgress)

        # delete
        await client.delete_track(track.id)
        await eventually_gone(client, track.id)

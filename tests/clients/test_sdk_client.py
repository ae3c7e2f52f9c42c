"""The blocking `Client` against a live plyr (web + worker) on the local ATProto network, on
SQLite and PostgreSQL: upload with progress through every phase, edit, paging, search,
likes, comments, playlists, profiles, now playing, figures, download byte for byte, export,
delete. plyr is served by the test's event loop, so the client runs in a worker thread.
Bob writes; Alice's catalogue is only read."""

from __future__ import annotations

import asyncio
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from plyrfm import Client
from plyrfm.errors import NotFound
from plyrfm.models import DownloadProgress, Export, Track, UploadProgress
from tests.clients.conftest import TokenUser
from tests.clients.test_sdk_async import check_upload_phases
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer

pytestmark = pytest.mark.browser


def wait_until_gone(client: Client, track_id: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client.track(track_id)
        except NotFound:
            return
        time.sleep(0.2)
    raise AssertionError(f"track {track_id} is still there")


def everything(
    url: str,
    alice: TokenUser,
    bob: TokenUser,
    catalogue: list[dict[str, Any]],
    audio_file: Path,
    tmp_path: Path,
) -> None:
    hers = catalogue[2]
    with Client(url, bob.token) as client, Client(url, alice.token) as alice_client:
        assert client.me().did == bob.did

        events: list[UploadProgress] = []
        track = client.upload(
            audio_file,
            title="sync take",
            album="threads",
            description="made in a worker thread",
            tags=["sdk"],
            on_progress=events.append,
        )
        assert isinstance(track, Track)
        assert track.publish_state == "published"
        assert (track.title, track.album, track.description) == (
            "sync take",
            "threads",
            "made in a worker thread",
        )
        check_upload_phases(events, audio_file.stat().st_size)
        # (an edit republishes the record: until then the track is out of public listings)
        assert track.id in [t.id for t in client.tracks(bob.did, page_size=1)]

        edited = client.edit_track(track.id, album="", description="edited", self_labels=[])
        assert (edited.description, edited.title) == ("edited", "sync take")

        mine = list(alice_client.my_tracks(page_size=1))
        assert {t["id"] for t in catalogue} <= {t.id for t in mine}
        assert len({t.id for t in mine}) == len(mine)
        two = []
        for found in client.tracks(alice.handle, page_size=1):
            two.append(found.id)
            if len(two) == 2:
                break  # an iterator fetches only the pages it is asked for
        hers_all = [t.id for t in client.tracks(alice.handle, page_size=1)]
        assert two == hers_all[:2]
        ids = [t["id"] for t in catalogue]  # other tests may add tracks of hers: newer
        assert [i for i in hers_all if i in ids] == ids[::-1]

        assert hers["id"] in {int(hit.id) for hit in client.search(hers["title"]).hits("tracks")}
        assert client.search(hers["title"], types=["artists"]).hits("tracks") == []

        assert client.like(hers["id"]).liked
        assert hers["id"] in [t.id for t in client.likes()]
        assert not client.unlike(hers["id"]).liked
        assert hers["id"] not in [t.id for t in client.likes(page_size=1)]

        said = client.comment(hers["id"], "lovely ending", at_ms=2000)
        assert client.edit_comment(said.id, "lovely ending!").text == "lovely ending!"
        assert [c.text for c in client.comments(hers["id"]) if c.id == said.id] == [
            "lovely ending!"
        ]
        client.delete_comment(said.id)
        assert said.id not in [c.id for c in client.comments(hers["id"])]

        made = client.create_playlist("sync mix", [hers["id"]])
        assert [e.track.id for e in made.entries if e.track] == [hers["id"]]
        grown = client.add_to_list(made.id, catalogue[0]["id"])
        assert [e.track.id for e in grown.entries if e.track] == [hers["id"], catalogue[0]["id"]]
        assert made.id in [lst.id for lst in client.playlists()]
        assert made.id not in [lst.id for lst in client.albums()]
        client.delete_list(made.id)
        with pytest.raises(NotFound):
            client.get_list(made.id)

        assert client.profile("@" + bob.handle).did == bob.did
        assert client.now_playing(alice.handle) is None
        assert client.stats().tracks >= len(catalogue)
        assert all(ranked.plays >= 0 for ranked in client.top_tracks(window="week"))

        got: list[DownloadProgress] = []
        saved = client.download(track.id, tmp_path / "copy.wav", on_progress=got.append)
        assert saved == tmp_path / "copy.wav"
        assert saved.read_bytes() == audio_file.read_bytes()
        assert [p.bytes_received for p in got] == sorted(p.bytes_received for p in got)

        seen: list[Export | DownloadProgress] = []
        archive = client.export(tmp_path, on_progress=seen.append)
        assert archive.parent == tmp_path
        assert archive.suffix == ".zip"
        with zipfile.ZipFile(archive) as zipped:
            assert "manifest.json" in zipped.namelist()
        assert any(isinstance(p, Export) and p.status == "ready" for p in seen)

        client.delete_track(track.id)
        wait_until_gone(client, track.id)


async def test_sync_client_does_everything(
    plyr: PlyrServer,
    alice: TokenUser,
    bob: TokenUser,
    catalogue: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    # A tone of its own: plyr refuses a file its artist already uploaded (the other tests').
    audio = make_audio(tmp_path / "sync take.wav", "wav", seconds=2.0, freq=523)
    await asyncio.to_thread(everything, plyr.url, alice, bob, catalogue, audio, tmp_path)

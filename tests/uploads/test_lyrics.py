"""Lyrics through the real parts: an upload with plain and synced lyrics publishes a record
carrying them (read back from the local PDS with getRecord), an edit changes them there,
the track page and the JSON API show them, a bad LRC is a clear 422 (upload, edit, the
page's form) that stores nothing, and another client's record with lyrics is indexed (its
synced part left out when it is not LRC)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from plyr.atproto.devnet import Network
from plyr.atproto.firehose import RecordEvent
from plyr.db.models import Upload
from plyr.ingest import handler_for
from tests.support.audio import make_audio
from tests.support.network_tracks import (
    eventually,
    other_client,
    put_blob,
    track_fields,
    track_row,
)
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload, upload_published
from tests.support.uploads import count, public_record

pytestmark = pytest.mark.browser

PLAIN = "the tide comes in\nand goes out\n\nand that is all"
SYNCED = "[ar:alice]\n[00:00.50]the tide comes in\n[00:01.50][00:03.00]and goes out"


async def published_again(http: httpx.AsyncClient, track_id: int, cid: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            track: dict[str, Any] = (await http.get(f"/api/tracks/{track_id}")).json()
            if track["publish_state"] == "published" and track["cid"] != cid:
                return track
            await asyncio.sleep(0.1)


async def test_upload_and_edit_reach_the_record(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "words.mp3", "mp3", freq=655.5)
    async with alice.client(plyr) as http:
        track = await upload_published(
            http, source, title="with words", lyrics=PLAIN, synced_lyrics=SYNCED, lyrics_lang="en"
        )
        assert track["lyrics"] == {"plain": PLAIN, "synced": SYNCED, "lang": "en"}
        record = await public_record(atproto_net, track["uri"])
        assert record["status"] == 200
        assert record["value"]["lyrics"] == {"plain": PLAIN, "synced": SYNCED, "lang": "en"}

        page = (await http.get(f"/tracks/{track['id']}", headers={"Accept": "text/html"})).text
        assert 'aria-labelledby="lyrics-heading"' in page
        assert 'data-lyrics-at="500"' in page
        assert 'data-lyrics-at="3000"' in page
        assert 'lang="en"' in page

        # An edit replaces them whole: only plain lyrics now, in another language.
        edited = await http.patch(
            f"/api/tracks/{track['id']}", json={"lyrics": {"plain": "new words", "lang": "fr"}}
        )
        assert edited.status_code == 200, edited.text
        after = await published_again(http, track["id"], track["cid"])
        assert after["lyrics"] == {"plain": "new words", "synced": None, "lang": "fr"}
        record = await public_record(atproto_net, track["uri"])
        assert record["value"]["lyrics"] == {"plain": "new words", "lang": "fr"}
        assert record["value"]["title"] == "with words"  # the rest stays

        # The page's form: synced lyrics only; then {} removes them from the record.
        form = {"csrf_token": alice.csrf, "title": "with words", "synced_lyrics": "[00:01]hi"}
        posted = await http.post(f"/tracks/{track['id']}/edit", data=form)
        assert posted.status_code == 303, posted.text
        after = await published_again(http, track["id"], after["cid"])
        record = await public_record(atproto_net, track["uri"])
        assert record["value"]["lyrics"] == {"synced": "[00:01]hi"}
        assert (await http.patch(f"/api/tracks/{track['id']}", json={"lyrics": {}})).is_success
        await published_again(http, track["id"], after["cid"])
        record = await public_record(atproto_net, track["uri"])
        assert "lyrics" not in record["value"]


async def test_bad_lrc_is_a_clear_422(plyr: PlyrServer, alice: SignedIn, tmp_path: Path) -> None:
    source = make_audio(tmp_path / "bad.mp3", "mp3", freq=657.5)
    bad = "[00:01.00]fine\nno time here"
    async with alice.client(plyr) as http:
        uploads_before = await count(plyr, Upload)
        refused = await upload(http, source, title="bad words", synced_lyrics=bad)
        assert refused.status_code == 422, refused.text
        body = refused.json()["error"]
        assert body["code"] == "invalid_lyrics"
        assert body["message"] == "the synced lyrics are not lrc: line 2 has no time: " + (
            "start it with [mm:ss.xx]"
        )
        assert body["details"][0]["field"] == "synced_lyrics"
        assert await count(plyr, Upload) == uploads_before  # nothing kept
        refused = await upload(http, source, title="bad tag", lyrics="x", lyrics_lang="no tag!")
        assert refused.status_code == 422
        assert refused.json()["error"]["details"][0]["field"] == "lyrics_lang"

        track = await upload_published(http, source, title="edited badly")
        edit = await http.patch(f"/api/tracks/{track['id']}", json={"lyrics": {"synced": bad}})
        assert edit.status_code == 422
        assert "line 2 has no time" in edit.json()["error"]["message"]
        form = {"csrf_token": alice.csrf, "title": "edited badly", "synced_lyrics": bad}
        page = await http.post(
            f"/tracks/{track['id']}/edit", data=form, headers={"Accept": "text/html"}
        )
        assert page.status_code == 422
        assert "line 2 has no time" in page.text
        assert (await http.get(f"/api/tracks/{track['id']}")).json()["lyrics"] is None


async def test_another_clients_lyrics_are_indexed(
    plyr: PlyrServer, atproto_net: Network, tmp_path: Path
) -> None:
    collection = f"{plyr.settings.atproto_namespace}.track"
    handler = handler_for(plyr.settings.atproto_namespace, collection)
    assert handler is not None
    audio = make_audio(tmp_path / "theirs.mp3", "mp3", freq=659.5).read_bytes()
    async with other_client(atproto_net, "carol.test") as repo:
        blob = await put_blob(repo, audio, "audio/mpeg")
        cases = {
            "good": {"plain": "their words", "synced": "[00:01.00]their words", "lang": "de"},
            "half": {"plain": "kept", "synced": "not lrc at all", "lang": "en"},
        }
        for rkey, words in cases.items():
            record = {"$type": collection, **track_fields(rkey, audioBlob=blob, lyrics=words)}
            written = await repo.put_record(collection, f"lyrics{rkey}", record)
            event = RecordEvent(
                0, repo.did, "create", collection, f"lyrics{rkey}", written.cid, record, "now"
            )
            await handler(plyr.runtime, event)
    good = await eventually(lambda: track_row(plyr, repo.did, "lyricsgood"))
    assert good.lyrics == cases["good"]
    half = await eventually(lambda: track_row(plyr, repo.did, "lyricshalf"))
    assert half.lyrics == {"plain": "kept", "lang": "en"}  # the part that is not LRC: left out

"""`GET /api/tracks/{id}/waveform` (SQLite and PostgreSQL): the peaks of a track whoever
may play it sees, with an ETag (If-None-Match gets a 304 without a body) and a short
private cache; 404 while the waveform is not computed (or can't be); a processing track is
its artist's alone (404 to others), a taken-down track's or a hidden account's answers 451
except to its artist. Rows are written straight to the database; the waveforms are real
stored objects."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import jsonschema  # type: ignore[import-untyped]
from fastapi import FastAPI

from plyr.db.models import Artist, PublishState
from plyr.media.waveform import Waveform
from plyr.runtime import Runtime
from plyr.tracks import waveforms
from tests.support.token_sessions import token_for
from tests.support.waveforms import track_row

ALICE = "did:plc:alicewavesaaaaaaaaaaaaaa"
CAROL = "did:plc:carolwavescccccccccccccc"  # an account an operator hid
NOW = datetime(2025, 5, 14, 12, 0, tzinfo=UTC)
WAVE = Waveform(6.0, (10, 200, 255, 0), (5, 90, 120, 0))


async def test_the_waveform_follows_the_tracks_visibility(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    runtime: Runtime = app.state.runtime
    key = await waveforms.store_waveform(runtime.storage, WAVE)
    async with runtime.sessions() as db:
        db.add(Artist(did=ALICE, handle="alice.waves.test", pds_url="https://pds.test"))
        db.add(
            Artist(did=CAROL, handle="carol.waves.test", pds_url="https://pds.test", hidden_at=NOW)
        )
        await db.flush()
        rows = {
            "public": track_row(ALICE, "public", waveform_key=key),
            "processing": track_row(
                ALICE, "processing", waveform_key=key, publish_state=PublishState.processing
            ),
            "taken down": track_row(
                ALICE, "taken down", waveform_key=key, taken_down_at=NOW, takedown_reason="dmca"
            ),
            "hidden": track_row(CAROL, "hidden", waveform_key=key),
            "not yet": track_row(ALICE, "not yet"),
            "impossible": track_row(ALICE, "impossible", waveform_key=waveforms.NONE_POSSIBLE),
        }
        db.add_all(rows.values())
        await db.commit()
        ids = {name: row.id for name, row in rows.items()}
    alice = {"Authorization": f"Bearer {await token_for(runtime, ALICE)}"}

    def url(name: str) -> str:
        return f"/api/tracks/{ids[name]}/waveform"

    answer = await client.get(url("public"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body == {
        "track_id": ids["public"],
        "duration": 6.0,
        "peaks": [10, 200, 255, 0],
        "rms": [5, 90, 120, 0],
    }
    schema = app.openapi()
    jsonschema.validate(
        body,
        {"$ref": "#/components/schemas/WaveformOut", "components": schema["components"]},
        cls=jsonschema.Draft202012Validator,
    )
    etag = answer.headers["etag"]
    assert etag == waveforms.etag_of(key)
    assert len(etag) == 66
    assert answer.headers["cache-control"] == "private, max-age=60"
    again = await client.get(url("public"), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await client.get(url("public"), headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.json() == body

    # Not computed yet, or not possible: 404 with its own code; no track at all: 404 too.
    for name in ("not yet", "impossible"):
        missing = await client.get(url(name))
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "waveform_pending"
    assert (await client.get("/api/tracks/999999/waveform")).status_code == 404

    # A processing track is its artist's alone; a taken-down one and a hidden account's
    # answer 451 to listeners, the taken-down one 200 to its artist.
    assert (await client.get(url("processing"))).status_code == 404
    assert (await client.get(url("processing"), headers=alice)).status_code == 200
    assert (await client.get(url("taken down"))).status_code == 451
    assert (await client.get(url("taken down"), headers=alice)).status_code == 200
    assert (await client.get(url("hidden"))).status_code == 451
    assert (await client.get(url("hidden"), headers=alice)).status_code == 451

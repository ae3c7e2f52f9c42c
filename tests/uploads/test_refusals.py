"""Uploads refused: oversized files, invalid fields, no sign-in or CSRF, rate limits. Bad
files (not audio, cut off, bombs, hostile names) are in test_bad_file_corpus.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete

from plyr.auth.sessions import COOKIE_NAME
from plyr.db.models import RateLimitHit
from tests.support.audio import make_audio, make_text
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, upload
from tests.support.uploads import stored_objects, temp_files

pytestmark = pytest.mark.browser


async def test_oversized_upload_is_stopped_while_streaming(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    big = tmp_path / "big.wav"
    make_audio(big, "wav", seconds=60.0, sample_rate=48000)  # about 11 MB > the 8 MB limit
    objects = stored_objects(plyr)
    async with alice.client(plyr) as http:
        response = await upload(http, big, title="too big")
    assert response.status_code == 413
    assert "limit" in response.json()["error"]["message"]
    assert stored_objects(plyr) == objects
    assert temp_files(plyr) == []


async def test_invalid_fields_are_refused(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "fields.mp3", "mp3", freq=999)
    async with plyr.runtime.sessions() as db:  # the package's earlier uploads count too
        await db.execute(delete(RateLimitHit))
        await db.commit()
    async with alice.client(plyr) as http:
        cases = {
            "too many tags": {"tags": ",".join(f"t{i}" for i in range(11))},
            "long tag": {"tags": "x" * 51},
            "long title": {"title": "t" * 257},
            "unknown featured artist": {"features": "nobody.test"},
            # PostgreSQL cannot store a NUL: refused at once, not when the job writes the row.
            "NUL in the title": {"title": "a\x00b"},
            "NUL in the album": {"album": "a\x00b"},
            "NUL in the description": {"description": "a\x00b"},
        }
        for name, fields in cases.items():
            response = await upload(http, source, **fields)
            assert response.status_code == 422, (name, response.text)
    assert temp_files(plyr) == []


async def test_uploads_need_a_signed_in_artist_and_csrf(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "anon.mp3", "mp3", freq=600)
    async with httpx.AsyncClient(base_url=plyr.url) as anonymous:
        assert (await upload(anonymous, source)).status_code == 401
    async with httpx.AsyncClient(
        base_url=plyr.url,
        cookies={COOKIE_NAME: alice.cookie},
        headers={"Accept": "application/json"},
    ) as no_csrf:
        assert (await upload(no_csrf, source)).status_code == 403


async def test_uploads_are_rate_limited_for_the_api_and_the_plain_form(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    notes = make_text(tmp_path / "notes.mp3")
    async with plyr.runtime.sessions() as db:  # this hour's earlier uploads count too
        await db.execute(delete(RateLimitHit))
        await db.commit()
    limited = plyr.settings.model_copy(update={"rate_limit_uploads_per_hour": 2})
    async with running_plyr(limited) as server, alice.client(server) as http:
        first = await upload(http, notes)
        second = await http.post(
            f"/upload?csrf_token={alice.csrf}",
            files={"file": (notes.name, notes.read_bytes(), "audio/mpeg")},
            headers={"Accept": "text/html"},
        )
        third = await upload(http, notes)
    assert [first.status_code, second.status_code, third.status_code] == [415, 415, 429]
    assert "too many requests" in third.json()["error"]["message"]

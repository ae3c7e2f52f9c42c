"""The bad-file corpus: every file an unlucky or hostile uploader sends ends in a clear
failure and leaves nothing behind, on SQLite and PostgreSQL, through the real server, worker,
storage and PDS.

A bad file fails in one of two ways, and what each leaves is decided:

- **Refused at once** (before the 202) when its bytes show it: empty, not audio, cut off
  inside its first second or its header, a WAV whose header claims 4 GB, tags larger than a
  tagger writes, artwork that is no image or an image bomb. The answer names the problem;
  there is no Upload row, no job, no file in storage or the temporary folder.
- **Failed by processing, on its first attempt** when only decoding or the tags show it
  (cut mid-stream, an embedded picture past the artwork limits, artwork that doesn't
  decode). A file's problems are permanent, so the job is not retried (attempts == 1); the
  progress stream ends in `failed` with the reason; what remains is the failed Upload row
  with that message (the progress stream and the upload page read it), with no incoming
  keys, and nothing else: no Track row, no publish job, no stored object, no temporary file,
  no file or folder named after the upload.

Hostile file names are text the uploader chose, never a path: with valid audio the upload
is accepted, stored under plyr's own content-addressed names (nothing is written outside the
media folder), the name kept only as cleaned text the title falls back to, and escaped in
pages; with invalid content the upload is refused like any other bad file.
"""

from __future__ import annotations

import asyncio
import re
import resource
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from plyr.db.models import Job, JobStatus, Track, Upload, UploadStatus
from tests.support.audio import (
    make_audio,
    make_garbage_after_header,
    make_image,
    make_png_bomb,
    make_text,
    make_truncated,
    make_zip,
)
from tests.support.bad_files import (
    add_id3_junk,
    embed_picture,
    finished_job,
    flac_header_length,
    follow_to_the_end,
    jpeg_looking_blob,
    large_cover_jpeg,
    make_noise,
    make_wav_claiming,
    paths_naming,
    settled,
    upload_named,
)
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, upload
from tests.support.uploads import count, follow_progress, stored_objects, temp_files

pytestmark = pytest.mark.browser

FOUR_GB = 0xFFFFFF00  # just under 2**32, and not the 0xFFFFFFFF "unknown length" marker
MAX_RSS_GROWTH_KB = 256 * 1024  # a 4 GB claim believed would show up here


@dataclass(frozen=True)
class Bad:
    audio: Path
    image: Path | None
    status: int
    says: tuple[str, ...]


def _half(src: Path, dst: Path) -> Path:
    return make_truncated(src, dst, src.stat().st_size // 2)


def _empty(tmp_path: Path) -> Bad:
    empty = tmp_path / "silence.mp3"
    empty.write_bytes(b"")
    return Bad(empty, None, 422, ("the file is empty",))


def _flac_cut_after_its_header(tmp_path: Path) -> Bad:
    flac = make_audio(tmp_path / "a.flac", "flac", freq=300)
    cut = make_truncated(flac, tmp_path / "cut.flac", flac_header_length(flac))
    return Bad(cut, None, 422, ("no decodable audio",))


# Refused before the 202, with the words the message must hold.
REFUSED: dict[str, Callable[[Path], Bad]] = {
    "0-byte": _empty,
    "random bytes": lambda t: Bad(make_noise(t / "noise.mp3"), None, 415, ("not an audio",)),
    "text renamed .mp3": lambda t: Bad(make_text(t / "notes.mp3"), None, 415, ("accepted",)),
    "png renamed .mp3": lambda t: Bad(
        make_image(t / "cover.mp3", "png"), None, 415, ("not an audio", "accepted")
    ),
    "mp3 cut to 200 bytes": lambda t: Bad(
        make_truncated(make_audio(t / "a.mp3", "mp3", freq=880), t / "cut.mp3", 200),
        None,
        422,
        ("can't be decoded",),
    ),
    "mp3 with garbage after its header": lambda t: Bad(
        make_garbage_after_header(make_audio(t / "a.mp3", "mp3"), t / "garbage.mp3", 64),
        None,
        422,
        ("can't be decoded",),
    ),
    "flac cut right after its header": _flac_cut_after_its_header,
    "wav whose header claims 4 GB": lambda t: Bad(
        make_wav_claiming(
            make_audio(t / "a.wav", "wav"), t / "4gb.wav", riff=FOUR_GB, data=FOUR_GB - 36
        ),
        None,
        422,
        ("truncated", "4,294,967,"),
    ),
    "wav whose data chunk alone claims 4 GB": lambda t: Bad(
        make_wav_claiming(make_audio(t / "a.wav", "wav"), t / "4gb.wav", riff=None, data=FOUR_GB),
        None,
        422,
        ("truncated", "bytes of audio"),
    ),
    "zip as artwork": lambda t: Bad(
        make_audio(t / "a.mp3", "mp3", freq=610), make_zip(t / "cover.jpg"), 415, ("accepted",)
    ),
    "image bomb as artwork": lambda t: Bad(
        make_audio(t / "a.mp3", "mp3", freq=620),
        make_png_bomb(t / "bomb.png"),
        422,
        ("pixels",),
    ),
    "artwork cut to 400 bytes": lambda t: Bad(
        make_audio(t / "a.mp3", "mp3", freq=630),
        make_truncated(make_image(t / "c.jpg", "jpeg"), t / "cut.jpg", 400),
        422,
        ("can't be read",),
    ),
}


async def _nothing_new(plyr: PlyrServer, objects: set[str], rows: tuple[int, int, int]) -> None:
    assert stored_objects(plyr) == objects
    assert (await count(plyr, Upload), await count(plyr, Job), await count(plyr, Track)) == rows
    assert temp_files(plyr) == []


async def _rows(plyr: PlyrServer) -> tuple[int, int, int]:
    return await count(plyr, Upload), await count(plyr, Job), await count(plyr, Track)


@pytest.mark.parametrize("case", list(REFUSED))
async def test_refused_before_accepting_and_nothing_kept(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path, case: str
) -> None:
    bad = REFUSED[case](tmp_path)
    await settled(plyr)
    objects, rows = stored_objects(plyr), await _rows(plyr)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with alice.client(plyr) as http:
        response = await upload(http, bad.audio, image=bad.image, title=case)
    assert response.status_code == bad.status, response.text
    message = response.json()["error"]["message"]
    for words in bad.says:
        assert words in message, message
    # The server runs in this process: a 4 GB claim believed would have grown it by GBs.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < MAX_RSS_GROWTH_KB
    await _nothing_new(plyr, objects, rows)


HOSTILE_NAMES = {
    "path traversal": ("../../escape.mp3", "escape.mp3"),
    "windows traversal": ("..\\..\\escape-win.mp3", "escape-win.mp3"),
    "nul byte": ("nul\x00byte.mp3", "nulbyte.mp3"),
    "very long": ("l" * 1000 + ".mp3", "l" * 255),
    "html and script": ("<img src=x onerror=alert(1)>.mp3", "<img src=x onerror=alert(1)>.mp3"),
    "right-to-left override": ("song\u202egpj.mp3", "songgpj.mp3"),
}


async def test_hostile_names_with_invalid_content_are_refused(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    notes = make_text(tmp_path / "notes.txt").read_bytes()
    await settled(plyr)
    objects, rows = stored_objects(plyr), await _rows(plyr)
    async with alice.client(plyr) as http:
        for case, (name, _) in HOSTILE_NAMES.items():
            response = await upload_named(http, name, notes)
            assert response.status_code == 415, (case, response.text)
            assert "not an audio format" in response.json()["error"]["message"], case
    await _nothing_new(plyr, objects, rows)
    assert paths_naming(plyr.settings.data_dir.parent, "escape") == []


async def test_hostile_names_with_valid_audio_are_stored_under_plyrs_names(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    content_key = re.compile(r"audio/[0-9a-f]{2}/[0-9a-f]{64}\.mp3")
    async with alice.client(plyr) as http:
        for index, (case, (name, kept)) in enumerate(HOSTILE_NAMES.items()):
            audio = make_audio(tmp_path / f"{index}.mp3", "mp3", freq=700 + 10 * index)
            response = await upload_named(http, name, audio.read_bytes())
            assert response.status_code == 202, (case, response.text)
            upload_id = response.json()["upload_id"]
            status = await follow_to_the_end(http, upload_id)
            assert status["phase"] == "published", (case, status)
            async with plyr.runtime.sessions() as db:
                row = await db.get(Upload, upload_id)
                track = await db.get(Track, status["track_id"])
            assert row is not None
            assert track is not None
            assert row.filename.startswith(kept), (case, row.filename)
            assert len(row.filename) <= 255
            assert track.title == Path(row.filename).stem
            assert content_key.fullmatch(track.original_key), track.original_key
            page = await http.get(f"/tracks/{track.id}", headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert "<img src=x" not in page.text, case
            assert "\u202e" not in page.text, case
            assert "\x00" not in page.text, case
            if case == "html and script":
                assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    # Nothing was written beside or above the data folder under the uploader's names.
    assert paths_naming(plyr.settings.data_dir.parent, "escape") == []


# Accepted (the start decodes), then failed by processing on its first attempt.
FAILED: dict[str, Callable[[Path], Bad]] = {
    "flac cut mid-stream": lambda t: Bad(
        _half(make_audio(t / "a.flac", "flac", seconds=8.0, freq=310), t / "cut.flac"),
        None,
        0,
        ("can't be decoded", "truncated"),
    ),
    "mp3 cut in half": lambda t: Bad(
        _half(make_audio(t / "a.mp3", "mp3", seconds=8.0, freq=320), t / "cut.mp3"),
        None,
        0,
        ("can't be decoded", "truncated", "8.0 s"),
    ),
    "image bomb embedded as the cover": lambda t: Bad(
        embed_picture(
            make_audio(t / "a.mp3", "mp3", freq=330),
            make_png_bomb(t / "bomb.png").read_bytes(),
            "image/png",
        ),
        None,
        0,
        ("embedded artwork is too large", "pixels"),
    ),
    "artwork cut in half": lambda t: Bad(
        make_audio(t / "a.mp3", "mp3", freq=340),
        _half(make_image(t / "c.jpg", "jpeg", (1600, 1600)), t / "half.jpg"),
        0,
        ("the artwork can't be used", "can't be decoded"),
    ),
}


async def _fails_at_once_and_cleans_up(
    plyr: PlyrServer, http: httpx.AsyncClient, accepted: httpx.Response, says: tuple[str, ...]
) -> None:
    """The upload was accepted; it must fail on the job's first attempt, say why in the
    progress stream, and leave only its failed row."""
    assert accepted.status_code == 202, accepted.text
    upload_id = accepted.json()["upload_id"]
    events = await follow_progress(http, f"/api/uploads/{upload_id}/progress")
    last = events[-1]
    assert (last["phase"], last["done"], last["track_id"]) == ("failed", True, None), events
    for words in says:
        assert words in last["error"], last
    assert last["message"] == last["error"]
    job = await finished_job(plyr, upload_id)
    assert (job.status, job.attempts) == (JobStatus.failed, 1), job.last_error
    assert job.last_error == last["error"]
    async with plyr.runtime.sessions() as db:
        row = await db.get(Upload, upload_id)
        publish_jobs = await db.scalar(
            select(Job.id).where(Job.kind == "track.publish", Job.id > job.id).limit(1)
        )
    assert row is not None
    assert (row.status, row.error, row.track_id) == (UploadStatus.failed, last["error"], None)
    assert (row.incoming_audio_key, row.incoming_image_key) == (None, None)
    assert publish_jobs is None
    assert paths_naming(plyr.settings.data_dir, upload_id) == []


@pytest.mark.parametrize("case", list(FAILED))
async def test_failed_on_the_first_attempt_and_nothing_kept(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path, case: str
) -> None:
    bad = FAILED[case](tmp_path)
    await settled(plyr)
    objects, (uploads, _, tracks) = stored_objects(plyr), await _rows(plyr)
    async with alice.client(plyr) as http:
        accepted = await upload(http, bad.audio, image=bad.image, title=case)
        await _fails_at_once_and_cleans_up(plyr, http, accepted, bad.says)
    assert stored_objects(plyr) == objects
    assert temp_files(plyr) == []
    assert (await count(plyr, Upload), await count(plyr, Track)) == (uploads + 1, tracks)


async def test_metadata_bombs_past_the_usual_upload_size(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    """50 MB of ID3 junk in front of valid audio, and a 22 MB embedded picture (over the
    20 MiB artwork limit): sent to a second server with a 64 MB upload limit on the same
    database and storage, processed by the package's worker."""
    junk = add_id3_junk(make_audio(tmp_path / "junk.mp3", "mp3", freq=350), 50)
    assert junk.stat().st_size > 50_000_000
    heavy = embed_picture(
        make_audio(tmp_path / "heavy.mp3", "mp3", freq=360),
        jpeg_looking_blob(22_000_000),
        "image/jpeg",
    )
    assert plyr.settings.max_image_bytes == 20 * 1024 * 1024
    roomy = plyr.settings.model_copy(update={"max_upload_bytes": 64 * 1024 * 1024})
    await settled(plyr)
    objects, rows = stored_objects(plyr), await _rows(plyr)
    async with running_plyr(roomy) as server, alice.client(server) as http:
        refused = await upload(http, junk, title="junk")
        assert refused.status_code == 422, refused.text
        message = refused.json()["error"]["message"]
        assert "the tags are too large" in message, message
        assert "50.0 MB" in message, message
        await _nothing_new(plyr, objects, rows)

        accepted = await upload(http, heavy, title="heavy")
        await _fails_at_once_and_cleans_up(
            plyr, http, accepted, ("embedded artwork is too large", "22.00 MB", "at most 20.97 MB")
        )
    assert stored_objects(plyr) == objects
    assert temp_files(plyr) == []
    assert await count(plyr, Track) == rows[2]


async def test_a_large_ordinary_cover_is_kept(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    """The limits are for bombs: a 3000x3000 JPEG cover of a few MB goes through."""
    cover = large_cover_jpeg()
    assert 2_000_000 < len(cover) < 8_000_000
    audio = embed_picture(make_audio(tmp_path / "cover.mp3", "mp3", freq=370), cover, "image/jpeg")
    async with alice.client(plyr) as http:
        accepted = await upload(http, audio, title="big cover")
        assert accepted.status_code == 202, accepted.text
        status = await follow_to_the_end(http, accepted.json()["upload_id"])
        assert status["phase"] == "published", status
        assert "artwork taken from the file's embedded cover" in status["warnings"]
        track = (await http.get(f"/api/tracks/{status['track_id']}")).json()
    assert track["image_url"], track


async def test_a_storage_problem_is_retried_not_failed(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    """The counterpart: a failure that is not the file's keeps the upload processing and
    is retried with backoff. Here a second server (same database) keeps the incoming file
    in another storage folder, so the worker can't find it, as when storage is unreachable
    or lagging; once the object appears, the same job goes on and publishes the track."""
    elsewhere = tmp_path / "other-storage"
    split = plyr.settings.model_copy(update={"storage_local_dir": elsewhere})
    audio = make_audio(tmp_path / "patient.mp3", "mp3", freq=380)
    await settled(plyr)
    async with running_plyr(split) as server, alice.client(server) as http:
        accepted = await upload(http, audio, title="patient")
    assert accepted.status_code == 202, accepted.text
    upload_id = accepted.json()["upload_id"]
    async with alice.client(plyr) as http, asyncio.timeout(30):
        while True:  # between two attempts the progress says it will try again
            status = (await http.get(f"/api/uploads/{upload_id}")).json()
            assert status["phase"] != "failed", status
            if "trying again" in status["message"]:
                break
            await asyncio.sleep(0.02)
        async with plyr.runtime.sessions() as db:
            row = await db.get(Upload, upload_id)
        assert row is not None
        assert row.status == UploadStatus.processing
        assert row.incoming_audio_key is not None
        arrived = plyr.settings.effective_storage_local_dir / row.incoming_audio_key
        arrived.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(elsewhere / row.incoming_audio_key, arrived)
        final = await follow_to_the_end(http, upload_id)
    assert final["phase"] == "published", final
    job = await finished_job(plyr, upload_id)
    assert job.status == JobStatus.succeeded
    assert job.attempts >= 2
    assert not arrived.exists()  # the incoming file is dropped once the track exists

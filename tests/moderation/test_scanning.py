"""Scanning published tracks (`plyr.moderation.scanning`) on the local network, SQLite and
PostgreSQL: alice publishes a piece; bob publishes it again re-encoded (MP3 128k, Opus 64k,
22.05 kHz, 9 dB quieter, the first 15 s cut) and a different piece in the same key and tempo.
The scan job that follows each publish flags every copy of bob's against alice's original,
with its score and time ranges, and nothing else: not the distinct piece, not alice's own
re-upload, not the original. Reference imports flag what is already on plyr; the backfill
fingerprints what has no fingerprint; undecodable audio fails the job at once."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import Browser
from pydantic import SecretStr
from sqlalchemy import delete, select

from plyr.atproto.devnet import Network
from plyr.db.models import (
    FalsePositiveReason,
    FlagStatus,
    Job,
    JobStatus,
    ModerationFlag,
    Track,
    TrackFingerprint,
)
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import PermanentJobError
from plyr.media.fingerprint import fingerprint_file
from plyr.moderation import audit, flags, references, scanning
from plyr.moderation.flags import FlagView
from plyr.moderation.matching import MatcherUnavailable
from plyr.runtime import Runtime
from plyr.storage.base import put_file
from tests.conftest import devnet_settings
from tests.support.databases import clear_tables
from tests.support.jobs import jobs_settled
from tests.support.music import CUT_SECONDS, TRANSFORMS, piece, transformed, write
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import sign_in, upload_published

pytestmark = pytest.mark.browser

MANY = 1_000_000
SECONDS = 36.0
ORIGINAL, OTHER, SAME_KEY, REFERENCE = 11, 12, 13, 14  # seeds


@dataclass
class Catalogue:
    plyr: PlyrServer
    folder: Path
    original: int  # alice's piece
    own_copy: int  # alice's own MP3 of it
    other: int  # alice's other piece
    copies: dict[str, int]  # bob's transformed copies of the original
    distinct: int  # bob's piece in the original's key and tempo

    async def flags_of(self, track_id: int) -> list[FlagView]:
        page, _ = await flags.list_flags(self.plyr.runtime, status=None, limit=200)
        return [f for f in page if f.track.id == track_id]

    async def settle(self) -> None:
        assert await jobs_settled(self.plyr.runtime.sessions, 0, seconds=180) == []


@pytest.fixture(scope="module")
async def catalogue(
    browser: Browser,
    atproto_net: Network,
    db_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Catalogue]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-scanning"),
        db_url,
        atproto_net,
        rate_limit_uploads_per_hour=MANY,
        admin_dids=[atproto_net.account("alice.test").did],
    )
    folder = tmp_path_factory.mktemp("scanning-audio")
    original = piece(ORIGINAL, SECONDS, key=50, bpm=120)
    async with running_plyr(settings, worker=True) as plyr:
        alice = await sign_in(browser, plyr, atproto_net, "alice.test")
        bob = await sign_in(browser, plyr, atproto_net, "bob.test")

        async def publish(user: object, path: Path, title: str) -> int:
            async with user.client(plyr) as http:  # type: ignore[attr-defined]
                return int((await upload_published(http, path, title=title))["id"])

        made = Catalogue(
            plyr,
            folder,
            original=await publish(alice, write(folder / "a.flac", original), "original"),
            own_copy=await publish(alice, write(folder / "a.mp3", original, "mp3"), "mine again"),
            other=await publish(alice, write(folder / "b.flac", piece(OTHER, SECONDS)), "other"),
            copies={},
            distinct=0,
        )
        for name in TRANSFORMS:
            copy = transformed(folder, "a", original, name)
            made.copies[name] = await publish(bob, copy, f"copy {name}")
        distinct = piece(SAME_KEY, SECONDS, key=50, bpm=120)
        made.distinct = await publish(bob, write(folder / "c.flac", distinct), "same key")
        await made.settle()
        yield made
    await clear_tables(plyr.runtime.engine)


async def test_copies_by_another_artist_are_flagged_with_score_and_ranges(
    catalogue: Catalogue,
) -> None:
    threshold = catalogue.plyr.settings.moderation_threshold
    for name, track_id in catalogue.copies.items():
        found = await catalogue.flags_of(track_id)
        # Both of alice's uploads of the recording (she may upload her own work twice).
        matched = {f.matched_track.id for f in found if f.matched_track is not None}
        assert matched == {catalogue.original, catalogue.own_copy}, (name, found)
        for flag in found:
            assert flag.status == FlagStatus.open
            assert flag.engine == "chromaprint-2"
            assert flag.matched_work is None
            assert threshold <= flag.score <= 100, (name, flag.score)
            assert flag.ranges, name
            longest = max(flag.ranges, key=lambda r: r["end"] - r["start"])
            offset = CUT_SECONDS if name == "cut-15s" else 0.0
            assert abs(longest["matched_start"] - longest["start"] - offset) < 1.0, longest
            assert longest["end"] - longest["start"] > 15, (name, longest)
            [opened] = await audit.entries(catalogue.plyr.runtime, subject=f"flag:{flag.id}")
            assert (opened.actor, opened.action) == ("system", "flag.open")


async def test_distinct_music_and_own_tracks_are_not_flagged(catalogue: Catalogue) -> None:
    for track_id in (catalogue.distinct, catalogue.original, catalogue.own_copy, catalogue.other):
        assert await catalogue.flags_of(track_id) == [], track_id
    every = [catalogue.original, catalogue.own_copy, catalogue.other, catalogue.distinct]
    async with catalogue.plyr.runtime.sessions() as db:
        stored = set(
            (await db.scalars(select(TrackFingerprint.track_id))).all()
        )  # every published track has its fingerprint
    assert set(every) | set(catalogue.copies.values()) <= stored


async def test_the_newer_upload_is_flagged_whichever_is_scanned_last(
    catalogue: Catalogue,
) -> None:
    copy = catalogue.copies["mp3-128k"]
    runtime = catalogue.plyr.runtime
    async with runtime.sessions() as db:
        await db.execute(
            delete(ModerationFlag).where(
                ModerationFlag.track_id == copy,
                ModerationFlag.match_key == f"track:{catalogue.original}",
            )
        )
        await db.commit()
    # The original scanned again, after its copy: the copy is flagged, not the original.
    result = await scanning.scan_track(runtime, catalogue.original)
    assert result["opened"]
    [flag] = [
        f
        for f in await catalogue.flags_of(copy)
        if f.matched_track is not None and f.matched_track.id == catalogue.original
    ]
    assert flag.ranges
    assert abs(flag.ranges[0]["start"] - flag.ranges[0]["matched_start"]) < 1
    assert await catalogue.flags_of(catalogue.original) == []


async def test_a_rescan_never_reopens_a_decided_flag(catalogue: Catalogue) -> None:
    copy = catalogue.copies["quieter"]
    runtime = catalogue.plyr.runtime
    both = await catalogue.flags_of(copy)
    await flags.resolve(
        runtime,
        [f.id for f in both],
        decision="false_positive",
        reason=FalsePositiveReason.original_artist,
        actor="cli",
    )
    assert (await scanning.scan_track(runtime, copy))["opened"] == []
    after = await catalogue.flags_of(copy)
    assert [f.status for f in after] == [FlagStatus.false_positive] * 2
    flag = both[0]
    assert [e.action for e in await audit.entries(runtime, subject=f"flag:{flag.id}")] == [
        "flag.false_positive",
        "flag.open",
    ]


async def test_a_reference_import_flags_what_is_already_on_plyr(catalogue: Catalogue) -> None:
    runtime = catalogue.plyr.runtime
    other = piece(OTHER, SECONDS)
    audio = write(catalogue.folder / "known-hit.wav", other, "wav")
    [work] = await references.import_file(
        runtime,
        audio,
        filename="known-hit.wav",
        artist="famous band",
        rights_holder="big label",
        actor="cli",
    )
    assert work.title == "known-hit"
    assert work.audio_key is not None
    assert await runtime.storage.stat(work.audio_key) is not None
    # A fingerprint file fpcalc would write (no audio) for an MP3 of the same piece.
    fp = fingerprint_file(write(catalogue.folder / "hit.mp3", other, "mp3"))
    printed = catalogue.folder / "hit.txt"
    printed.write_text(
        f"FILE=hit.mp3\nDURATION={int(fp.duration)}\nFINGERPRINT={fp.compressed()}\n"
    )
    [printed_work] = await references.import_file(
        runtime, printed, filename="hit.txt", title="the hit", artist="famous band", actor="cli"
    )
    assert printed_work.audio_key is None
    assert printed_work.source == "hit.mp3"
    await catalogue.settle()

    found = {
        f.matched_work.id: f for f in await catalogue.flags_of(catalogue.other) if f.matched_work
    }
    assert set(found) == {work.id, printed_work.id}
    assert found[work.id].matched_work is not None
    assert found[work.id].matched_work.has_audio
    assert all(f.score >= runtime.settings.moderation_threshold for f in found.values())
    assert found[work.id].ranges
    assert found[work.id].ranges[0]["end"] > 20
    assert await catalogue.flags_of(catalogue.distinct) == []

    # Deleting a work takes its flags with it (and its audio).
    await references.delete_work(runtime, work.id, actor="cli")
    assert {
        f.matched_work.id for f in await catalogue.flags_of(catalogue.other) if f.matched_work
    } == {printed_work.id}
    assert await runtime.storage.stat(work.audio_key) is None


async def test_the_backfill_fingerprints_tracks_without_one(catalogue: Catalogue) -> None:
    runtime = catalogue.plyr.runtime
    async with runtime.sessions() as db:
        await db.execute(
            delete(TrackFingerprint).where(TrackFingerprint.track_id == catalogue.distinct)
        )
        await db.commit()
    # A worker starting (after an upgrade, say) sees the track without one and enqueues the job.
    assert await scanning.backfill_on_start(runtime) is True
    async with runtime.sessions() as db:
        backfill_id = await db.scalar(select(Job.id).where(Job.kind == scanning.BACKFILL))
    assert backfill_id is not None
    await catalogue.settle()
    async with runtime.sessions() as db:
        assert await db.get(TrackFingerprint, catalogue.distinct) is not None
        done = await db.get(Job, backfill_id)
        assert done is not None
        assert done.result == {"enqueued": 1}
    assert await scanning.enqueue_backfill(runtime) == 0
    assert await scanning.backfill_on_start(runtime) is False  # nothing left: nothing enqueued


async def test_undecodable_audio_fails_the_scan_at_once(catalogue: Catalogue) -> None:
    runtime = catalogue.plyr.runtime
    junk = catalogue.folder / "junk.mp3"
    junk.write_bytes(b"\xff\xfb\x90\x00" + bytes(range(256)) * 400)
    async with runtime.sessions() as db:
        source = await db.get(Track, catalogue.distinct)
        assert source is not None
        broken = Track(
            artist_did=source.artist_did,
            title="broken",
            artist_name="bob",
            file_type="mp3",
            duration_seconds=30,
            content_hash="f" * 64,
            original_key="audio/ff/broken.mp3",
            rkey="3kbrokenbroken",
            publish_state=source.publish_state,
        )
        db.add(broken)
        await db.commit()
        broken_id = broken.id
    await put_file(runtime.storage, "audio/ff/broken.mp3", junk)
    async with runtime.sessions() as db:
        job = await enqueue(db, scanning.SCAN, {"track_id": broken_id})
        await db.commit()
        job_id = job.id
    await jobs_settled(runtime.sessions, job_id - 1, seconds=60)
    async with runtime.sessions() as db:
        done = await db.get(Job, job_id)
        assert done is not None
        assert (done.status, done.attempts) == (JobStatus.failed, 1)
        assert "can't fingerprint" in (done.last_error or "")
        await db.delete(await db.get(Track, broken_id))
        await db.commit()


class _FakeAcoustId:
    """An AcoustID-like lookup service on loopback: answers every POST with `reply`."""

    def __init__(self) -> None:
        self.status, self.reply, self.forms = 200, b"{}", list[bytes]()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake.forms.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(fake.reply)))
                self.end_headers()
                self.wfile.write(fake.reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v2/lookup"


async def test_the_web_service_matcher_flags_what_it_knows(catalogue: Catalogue) -> None:
    fake = _FakeAcoustId()
    settings = catalogue.plyr.settings.model_copy(
        update={
            "moderation_matcher": "acoustid",
            "acoustid_url": fake.url,
            "acoustid_api_key": SecretStr("test-key"),
        }
    )
    runtime = Runtime.open(settings)
    track_id = catalogue.distinct
    try:
        fake.status, fake.reply = 503, b'{"status": "error", "error": {"message": "busy"}}'
        with pytest.raises(MatcherUnavailable):  # transient: the job retries
            await scanning.scan_track(runtime, track_id)
        assert await catalogue.flags_of(track_id) == []

        fake.status = 200
        fake.reply = json.dumps(
            {
                "status": "ok",
                "results": [
                    {
                        "score": 0.93,
                        "recordings": [
                            {"id": "rec-1", "title": "famous", "artists": [{"name": "the band"}]}
                        ],
                    }
                ],
            }
        ).encode()
        result = await scanning.scan_track(runtime, track_id)
        assert len(result["opened"]) == 1
    finally:
        await runtime.close()
        fake.httpd.shutdown()
    assert b"client=test-key" in fake.forms[-1]
    [flag] = await catalogue.flags_of(track_id)
    assert flag.score == 93
    assert flag.matched_work is not None
    assert (flag.matched_work.title, flag.matched_work.artist) == ("famous", "the band")
    assert flag.matched_work.source == "acoustid:rec-1"
    assert not flag.matched_work.has_audio
    # The local index still matches the reference works and plyr's own tracks beside it.
    assert flag.matched_track is None


async def test_a_failing_web_service_loses_no_local_match(catalogue: Catalogue) -> None:
    """The local flags are committed before the service's error is raised: a transient
    one (the job retries) or a refusal (a bad key: permanent, not retried)."""
    fake = _FakeAcoustId()
    settings = catalogue.plyr.settings.model_copy(
        update={
            "moderation_matcher": "acoustid",
            "acoustid_url": fake.url,
            "acoustid_api_key": SecretStr("bad-key"),
        }
    )
    runtime = Runtime.open(settings)
    copy = next(iter(catalogue.copies.values()))
    try:
        for status, reply, error in (
            (503, b'{"status": "error", "error": {"message": "busy"}}', MatcherUnavailable),
            (400, b'{"status": "error", "error": {"message": "invalid API key"}}', None),
        ):
            async with runtime.sessions() as db:
                await db.execute(delete(ModerationFlag).where(ModerationFlag.track_id == copy))
                await db.commit()
            fake.status, fake.reply = status, reply
            with pytest.raises(error or PermanentJobError) as failed:
                await scanning.scan_track(runtime, copy)
            if error is None:
                assert "invalid API key" in str(failed.value)
            found = await catalogue.flags_of(copy)
            matched = {f.matched_track.id for f in found if f.matched_track is not None}
            assert catalogue.original in matched, status  # alice's own copy matches too
    finally:
        await runtime.close()
        fake.httpd.shutdown()


async def test_audio_gone_from_storage_fails_the_scan_at_once(catalogue: Catalogue) -> None:
    runtime = catalogue.plyr.runtime
    async with runtime.sessions() as db:
        source = await db.get(Track, catalogue.distinct)
        assert source is not None
        gone = Track(
            artist_did=source.artist_did,
            title="gone",
            artist_name="bob",
            file_type="mp3",
            duration_seconds=30,
            content_hash="e" * 64,
            original_key="audio/ee/gone.mp3",
            rkey="3kgonegonegone",
            publish_state=source.publish_state,
        )
        db.add(gone)
        await db.commit()
        gone_id = gone.id
    try:
        with pytest.raises(PermanentJobError, match="no audio in storage"):
            await scanning.scan_track(runtime, gone_id)
    finally:
        async with runtime.sessions() as db:
            await db.delete(await db.get(Track, gone_id))
            await db.commit()

"""`plyr moderation reference|flags|audit|backfill` through the real entry point, each run its
own process against the test database (SQLite and PostgreSQL): imports, listings, decisions
and their audit entries; bad input is one `plyr: …` line, exit 1, and changes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from plyr.config import Settings
from plyr.db.models import (
    Artist,
    FlagStatus,
    Job,
    ModerationEvent,
    PublishState,
    ReferenceWork,
    Track,
)
from plyr.media.fingerprint import fingerprint_file
from plyr.moderation.scanning import BACKFILL, SCAN, SCAN_WORKS, open_flag
from plyr.runtime import Runtime
from tests.conftest import make_settings
from tests.support.cli import Run, plyr_env, run_plyr
from tests.support.databases import clear_tables
from tests.support.music import piece, write

BOB = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb"


@pytest.fixture
async def cli_runtime(tmp_path: Path, db_url: str) -> AsyncIterator[Runtime]:
    runtime = Runtime.open(make_settings(tmp_path, db_url))
    try:
        yield runtime
    finally:
        await clear_tables(runtime.engine)
        await runtime.close()


async def plyr(runtime: Runtime, *args: str) -> Run:
    settings: Settings = runtime.settings
    env = plyr_env(
        settings.data_dir,
        PLYR_DATABASE_URL=settings.effective_database_url,
        PLYR_SECRET_KEY="test-secret-key-not-for-production",
    )
    return await run_plyr("moderation", *args, env=env, cwd=settings.data_dir.parent)


def refused(run: Run, message: str) -> None:
    assert run.returncode == 1, run
    assert run.problem_lines() == [f"plyr: {message}"], run


async def count(runtime: Runtime, model: type[ModerationEvent | ReferenceWork]) -> int:
    async with runtime.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_importing_listing_and_deleting_reference_works(
    cli_runtime: Runtime, tmp_path: Path
) -> None:
    runtime = cli_runtime
    samples = piece(31, 12.0)
    audio = write(tmp_path / "morning_light.wav", samples, "wav")
    fp = fingerprint_file(write(tmp_path / "other.mp3", piece(32, 12.0), "mp3"))
    printed = tmp_path / "fingerprints.txt"
    printed.write_text(f"DURATION={int(fp.duration)}\nFINGERPRINT={fp.compressed()}\n")
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"this is not audio" * 100)

    refused(
        await plyr(runtime, "reference", "import", str(tmp_path / "nope.wav")),
        f"{tmp_path / 'nope.wav'}: no such file",
    )
    bad = await plyr(runtime, "reference", "import", str(junk), "--artist", "x")
    assert bad.returncode == 1, bad
    assert bad.problem_lines()[0].startswith("plyr: junk.mp3: "), bad
    refused(
        await plyr(runtime, "reference", "import", str(audio), str(printed), "--title", "t"),
        "--title names one work: import one file at a time with it",
    )
    refused(
        await plyr(runtime, "reference", "import", str(printed)),
        "fingerprints.txt: name the artist (the file doesn't)",
    )
    assert await count(runtime, ReferenceWork) == 0

    made = await plyr(
        runtime,
        "reference",
        "import",
        str(audio),
        "--artist",
        "dawn chorus",
        "--rights-holder",
        "early records",
    )
    assert made.returncode == 0, made
    assert made.lines[-1].startswith("imported work ")
    assert "“morning light” by dawn chorus" in made.output
    printed_run = await plyr(
        runtime, "reference", "import", str(printed), "--title", "night", "--artist", "owls"
    )
    assert printed_run.returncode == 0, printed_run
    assert "fingerprint only" in printed_run.output

    listed = await plyr(runtime, "reference", "list", "--json")
    assert listed.returncode == 0, listed
    works = json.loads(listed.output)["works"]
    assert [(w["title"], w["artist"], w["rights_holder"]) for w in works] == [
        ("night", "owls", None),
        ("morning light", "dawn chorus", "early records"),
    ]
    assert works[1]["audio_key"] is not None
    assert works[0]["audio_key"] is None
    async with runtime.sessions() as db:
        jobs = (await db.scalars(select(Job).where(Job.kind == SCAN_WORKS))).all()
        assert sorted(job.payload["work_ids"][0] for job in jobs) == sorted(w["id"] for w in works)
    text = await plyr(runtime, "reference", "list")
    assert "“morning light” by dawn chorus  © early records" in text.output

    deleted = await plyr(runtime, "reference", "delete", str(works[0]["id"]))
    assert deleted.returncode == 0, deleted
    refused(
        await plyr(runtime, "reference", "delete", str(works[0]["id"])), "no such reference work"
    )
    assert await count(runtime, ReferenceWork) == 1
    log = await plyr(runtime, "audit", "--json")
    actions = [(e["actor"], e["action"]) for e in json.loads(log.output)]
    assert actions == [
        ("cli", "reference.delete"),
        ("cli", "reference.import"),
        ("cli", "reference.import"),
    ]


async def _flagged_tracks(runtime: Runtime) -> tuple[list[int], list[int]]:
    """Two of bob's published tracks flagged against one work (scores 92 and 64)."""
    async with runtime.sessions() as db:
        db.add(Artist(did=BOB, handle="bob.test", pds_url="http://pds"))
        work = ReferenceWork(
            title="known",
            artist="band",
            source="known.flac",
            duration_seconds=30,
            engine="chromaprint-2",
            fingerprint=b"\0" * 8,
        )
        db.add(work)
        tracks = [
            Track(
                artist_did=BOB,
                title=f"song {n}",
                artist_name="bob",
                file_type="mp3",
                duration_seconds=30,
                content_hash=f"{n:064d}",
                original_key=f"audio/{n}.mp3",
                rkey=f"3kcli{n:08d}",
                atproto_uri=f"at://{BOB}/fm.plyr.track/3kcli{n:08d}",
                publish_state=PublishState.published,
            )
            for n in (1, 2)
        ]
        db.add_all(tracks)
        await db.flush()
        flag_ids = []
        for track, score in zip(tracks, (92, 64), strict=True):
            flag = await open_flag(
                db,
                track_id=track.id,
                match_key=f"work:{work.id}",
                score=score,
                ranges=[],
                engine="chromaprint-2",
                work_id=work.id,
            )
            assert flag is not None
            flag_ids.append(flag.id)
        await db.commit()
        return flag_ids, [t.id for t in tracks]


async def test_listing_and_deciding_flags(cli_runtime: Runtime) -> None:
    runtime = cli_runtime
    (high, low), (first, _second) = await _flagged_tracks(runtime)

    listed = await plyr(runtime, "flags", "list", "--json")
    assert listed.returncode == 0, listed
    body = json.loads(listed.output)
    assert [(f["id"], f["score"], f["status"]) for f in body["flags"]] == [
        (high, 92, "open"),
        (low, 64, "open"),
    ]
    assert body["flags"][0]["matched_work"]["title"] == "known"
    above = await plyr(runtime, "flags", "list", "--min-score", "80")
    assert [line.split()[0] for line in above.lines] == [str(high)]

    events = await count(runtime, ModerationEvent)
    refused(
        await plyr(runtime, "flags", "resolve", str(high), "--false-positive"),
        "a false positive needs a reason: fingerprint_noise, original_artist, fair_use, other",
    )
    refused(
        await plyr(runtime, "flags", "resolve", str(high), "999999999", "--violation"),
        "no such flag: 999999999",
    )
    refused(
        await plyr(runtime, "flags", "resolve", str(high)),
        "choose one of --violation or --false-positive",
    )
    assert await count(runtime, ModerationEvent) == events

    done = await plyr(runtime, "flags", "resolve", str(high), "--violation", "--note", "copy")
    assert done.returncode == 0, done
    assert "violation" in done.output
    assert "(taken down)" in done.output
    cleared = await plyr(
        runtime, "flags", "resolve", str(low), "--false-positive", "--reason", "fair_use"
    )
    assert cleared.returncode == 0, cleared
    async with runtime.sessions() as db:
        track = await db.get(Track, first)
        assert track is not None
        assert track.taken_down_at is not None
    decided = json.loads((await plyr(runtime, "flags", "list", "--status", "all", "--json")).output)
    assert {f["id"]: f["status"] for f in decided["flags"]} == {
        high: FlagStatus.violation.value,
        low: FlagStatus.false_positive.value,
    }
    assert decided["flags"][1]["reason"] == "fair_use"

    reopened = await plyr(runtime, "flags", "reopen", str(high))
    assert reopened.returncode == 0, reopened
    async with runtime.sessions() as db:
        track = await db.get(Track, first)
        assert track is not None
        assert track.taken_down_at is None

    log = await plyr(runtime, "audit", "--subject", f"flag:{high}")
    assert [line.split()[3:5] for line in log.lines] == [
        ["flag.reopen", f"flag:{high}"],
        ["flag.violation", f"flag:{high}"],
        ["flag.open", f"flag:{high}"],
    ]
    assert all(line.split()[2] in ("cli", "system") for line in log.lines)

    # The backfill is a job (a worker enqueues the scans): the command returns at once.
    backfill = await plyr(runtime, "backfill")
    assert backfill.returncode == 0, backfill
    async with runtime.sessions() as db:
        job_id = await db.scalar(select(Job.id).where(Job.kind == BACKFILL))
        assert await db.scalar(select(func.count()).select_from(Job).where(Job.kind == SCAN)) == 0
    assert backfill.lines == [f"enqueued the backfill (job {job_id}): a worker enqueues the scans"]
    again = await plyr(runtime, "backfill")
    assert again.lines == [f"a backfill is already waiting (job {job_id})"]
    now = await plyr(runtime, "backfill", "--now")
    assert now.returncode == 0, now
    assert now.lines == ["enqueued 2 scans"]
    async with runtime.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Job).where(Job.kind == SCAN)) == 2

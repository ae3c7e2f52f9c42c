"""A second backfill follows what changed in a repository while plyr was not listening:
edits arrive, records deleted at the PDS lose their rows; an unchanged repository is
skipped unless forced. A track whose record names only an audioUrl plays once its audio is
fetched from there. The domain function called in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import anyio
from sqlalchemy import func, select

from plyr import handlers  # noqa: F401 - registers the indexers, as the CLI does
from plyr.atproto.devnet import Network
from plyr.atproto.syntax import format_datetime
from plyr.atproto.tid import next_tid
from plyr.backfill import BackfillOptions, BackfillReport, backfill
from plyr.db.models import BackfillRepo, Like, MusicList, Profile, Track, utcnow
from plyr.runtime import Runtime
from tests.backfill.accounts import create_account, repo_of
from tests.backfill.conftest import fresh_database
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.local_http import LocalServer

NS = "fm.plyr"


async def test_a_second_run_follows_edits_and_deletions(
    atproto_net: Network, db_url: str, tmp_path: Path, server: LocalServer
) -> None:
    account = await create_account(atproto_net, "ch")
    audio = await anyio.Path(make_audio(tmp_path / "song.mp3", "mp3", seconds=2)).read_bytes()
    server.route("/song.mp3", body=audio, headers={"Content-Type": "audio/mpeg"})
    now = format_datetime(utcnow())
    track_key, like_key, list_key = next_tid(), next_tid(), next_tid()
    track = {
        "title": "elsewhere",
        "artist": "ch",
        "fileType": "mp3",
        "createdAt": now,
        "audioUrl": f"{server.url}/song.mp3",
    }
    async with repo_of(atproto_net, account) as repo:
        await repo.put_record(f"{NS}.actor.profile", "self", {"bio": "first", "createdAt": now})
        ref = await repo.put_record(f"{NS}.track", track_key, track)
        subject = {"uri": ref.uri, "cid": ref.cid}
        await repo.put_record(f"{NS}.like", like_key, {"subject": subject, "createdAt": now})
        await repo.put_record(
            f"{NS}.list",
            list_key,
            {
                "items": [{"subject": subject}],
                "name": "mine",
                "listType": "playlist",
                "createdAt": now,
            },
        )

    async with fresh_database(db_url, tmp_path) as database_url:
        settings = devnet_settings(tmp_path, database_url, atproto_net, jobs_enabled=False)
        runtime = Runtime.open(settings)
        try:

            async def run(**options: bool) -> BackfillReport:
                return await backfill(
                    runtime, identifiers=[account.handle], options=BackfillOptions(**options)
                )

            first = await run()
            assert first.repos_done == 1
            assert dict(first.indexed) == {
                f"{NS}.actor.profile": 1,
                f"{NS}.track": 1,
                f"{NS}.like": 1,
                f"{NS}.list": 1,
            }
            assert first.audio_ready == 1
            async with runtime.sessions() as db:
                row = await db.scalar(select(Track))
                assert row is not None
                assert row.audio_state == "ready"
                assert row.duration_seconds == 2
                assert await runtime.storage.stat(row.stream_key or row.original_key)

            async with repo_of(atproto_net, account) as repo:
                await repo.put_record(f"{NS}.track", track_key, track | {"title": "elsewhere (v2)"})
                await repo.put_record(
                    f"{NS}.actor.profile", "self", {"bio": "second", "createdAt": now}
                )
                await repo.delete_record(f"{NS}.like", like_key)
                await repo.delete_record(f"{NS}.list", list_key)

            second = await run()
            assert second.repos_done == 1
            assert dict(second.removed) == {f"{NS}.like": 1, f"{NS}.list": 1}
            async with runtime.sessions() as db:
                assert await db.scalar(select(Track.title)) == "elsewhere (v2)"
                assert await db.scalar(select(Profile.bio)) == "second"
                assert await db.scalar(select(func.count()).select_from(Like)) == 0
                assert await db.scalar(select(func.count()).select_from(MusicList)) == 0
                stored = await db.get(BackfillRepo, account.did)
                assert stored is not None
                assert stored.status == "done"
                assert stored.records == 2  # the profile and the track of this pass

            unchanged = await run()
            assert (unchanged.repos_done, unchanged.repos_unchanged) == (0, 1)
            forced = await run(force=True)
            assert (forced.repos_done, forced.repos_unchanged) == (1, 0)
            assert forced.skipped == []
        finally:
            await runtime.close()

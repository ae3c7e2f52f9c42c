"""What `plyr backfill` leaves out, and says why, while the rest is indexed: a repository
signed by a key its DID no longer names, one whose PDS serves a tampered CAR, a PDS that
never answers, a handle that does not resolve; records that fail their lexicon; audio that
is no audio. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from plyr.atproto.devnet import Network
from plyr.atproto.signatures import SigningKey
from plyr.atproto.syntax import format_datetime
from plyr.atproto.tid import next_tid
from plyr.db.models import Artist, BackfillRepo, MusicList, Profile, Track, utcnow
from plyr.runtime import Runtime
from tests.backfill.accounts import change_identity, create_account, put_unvalidated, repo_of
from tests.backfill.conftest import backfill_env, fresh_database, run_backfill
from tests.conftest import devnet_settings
from tests.support.car_files import fetch_repo
from tests.support.local_http import LocalServer

NS = "fm.plyr"


async def test_bad_repos_and_records_are_reported_and_the_rest_is_indexed(
    atproto_net: Network, db_url: str, tmp_path: Path, server: LocalServer, silent_port: int
) -> None:
    now = format_datetime(utcnow())
    good, forged, tampered, slow = [
        await create_account(atproto_net, prefix) for prefix in ("ok", "kx", "tm", "sl")
    ]
    for account in (good, forged, tampered, slow):
        async with repo_of(atproto_net, account) as repo:
            await repo.put_record(
                f"{NS}.actor.profile", "self", {"bio": "tamper me", "createdAt": now}
            )
    server.route(
        "/noise.mp3",
        body=b"this is not audio at all " * 400,
        headers={"Content-Type": "audio/mpeg"},
    )
    not_audio, no_title = next_tid(), next_tid()
    liked, second_liked = next_tid(), next_tid()
    async with repo_of(atproto_net, good) as repo:
        # Two "liked" lists (another client's doing): plyr keeps one per user, the first.
        for rkey in (liked, second_liked):
            await repo.put_record(
                f"{NS}.list", rkey, {"items": [], "listType": "liked", "createdAt": now}
            )
        track = {"title": "noise", "artist": "ok", "fileType": "mp3", "createdAt": now}
        await repo.put_record(
            f"{NS}.track", not_audio, track | {"audioUrl": f"{server.url}/noise.mp3"}
        )
        await put_unvalidated(
            repo,
            f"{NS}.track",
            no_title,
            {
                "artist": "ok",
                "fileType": "mp3",
                "createdAt": now,
                "audioUrl": f"{server.url}/noise.mp3",
            },
        )

    # The DID now names another key than the one the PDS signs with.
    await change_identity(atproto_net, forged, signing_key=SigningKey.generate().did_key())
    # Its "PDS" is now a server answering with the real repository, one record altered.
    car = await fetch_repo(atproto_net, tampered.did)
    assert car.count(b"tamper me") == 1
    server.route(
        "/xrpc/com.atproto.sync.getRepo",
        body=car.replace(b"tamper me", b"tamper ME"),
        headers={"Content-Type": "application/vnd.ipld.car"},
    )
    await change_identity(atproto_net, tampered, pds_url=server.url)
    # And this one's PDS accepts connections and never says a word.
    await change_identity(atproto_net, slow, pds_url=f"http://127.0.0.1:{silent_port}")

    async with fresh_database(db_url, tmp_path) as database_url:
        env = backfill_env(tmp_path / "data", database_url, atproto_net)
        names = [good.handle, forged.did, tampered.did, slow.did, "nobody-here.test"]
        run, report = await run_backfill(*names, "--timeout", "3", env=env, cwd=tmp_path)
        assert run.returncode == 1, str(run)  # repositories failed
        assert report["repos"] == {"done": 1, "unchanged": 0, "inactive": 0, "failed": 4}
        failed = {entry["did"]: entry["reason"] for entry in report["skipped_repos"]}
        assert "bad signature" in failed[forged.did], failed
        assert "fails its CID" in failed[tampered.did], failed
        assert "did not answer within 3s" in failed[slow.did], failed
        assert "nobody-here.test" in failed, failed

        skipped = {entry["uri"]: entry["reason"] for entry in report["skipped_records"]}
        assert set(skipped) == {
            f"at://{good.did}/{NS}.track/{not_audio}",
            f"at://{good.did}/{NS}.track/{no_title}",
            f"at://{good.did}/{NS}.list/{second_liked}",
        }, skipped
        conflict = skipped[f"at://{good.did}/{NS}.list/{second_liked}"]
        assert conflict.startswith("conflicts with what is indexed"), conflict
        assert skipped[f"at://{good.did}/{NS}.track/{no_title}"].startswith("not a valid track")
        assert skipped[f"at://{good.did}/{NS}.track/{not_audio}"].startswith("audio: ")
        assert report["audio"] == {"ready": 0, "unplayable": 1, "pending": 0}

        settings = devnet_settings(tmp_path, database_url, atproto_net, jobs_enabled=False)
        runtime = Runtime.open(settings)
        try:
            async with runtime.sessions() as db:
                assert list(await db.scalars(select(Artist.did))) == [good.did]
                assert list(await db.scalars(select(Profile.did))) == [good.did]
                track = await db.scalar(select(Track))
                assert track is not None
                assert track.audio_state == "unplayable"
                rows = {row.did: row for row in await db.scalars(select(BackfillRepo))}
                assert rows[good.did].status == "done"
                held = {entry["uri"]: entry["reason"] for entry in rows[good.did].skipped}
                assert held == {
                    uri: skipped[uri]
                    for uri in (
                        f"at://{good.did}/{NS}.track/{no_title}",
                        f"at://{good.did}/{NS}.list/{second_liked}",
                    )
                }
                kept = await db.scalar(select(MusicList.rkey).where(MusicList.did == good.did))
                assert kept == liked
                for account in (forged, tampered, slow):
                    assert rows[account.did].status == "failed"
                    assert rows[account.did].error == failed[account.did]
                assert await db.scalar(select(func.count()).select_from(Track)) == 1
        finally:
            await runtime.close()

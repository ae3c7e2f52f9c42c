"""The acceptance test of `plyr backfill`: people use plyr against the real local PDS;
then plyr's database is gone (and, in the second case, its media store too); `plyr
backfill`, run as an operator runs it, brings back exactly what users saw, and every track
plays. On SQLite and PostgreSQL."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import select, update

from plyr.atproto.devnet import Network
from plyr.db.models import BackfillRepo, Track
from tests.backfill.conftest import World, backfill_env, fresh_database, run_backfill
from tests.backfill.dump import dump
from tests.conftest import devnet_settings
from tests.support.media import decoded_seconds
from tests.support.plyr_server import PlyrServer, running_plyr

pytestmark = pytest.mark.browser


def same(before: dict[str, Any], after: dict[str, Any]) -> None:
    if before != after:
        left = json.dumps(before, indent=1, sort_keys=True).splitlines()
        right = json.dumps(after, indent=1, sort_keys=True).splitlines()
        diff = "\n".join(difflib.unified_diff(left, right, "before", "rebuilt", lineterm=""))
        raise AssertionError(f"the rebuilt plyr shows something else:\n{diff}")


async def every_track_plays(plyr: PlyrServer, folder: Path) -> int:
    """Each track's audio, fetched as the player does, decodes; returns how many."""
    async with plyr.runtime.sessions() as db:
        ids = list(await db.scalars(select(Track.id)))
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30, follow_redirects=True) as http:
        for track_id in ids:
            response = await http.get(f"/audio/{track_id}")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("audio/"), response.headers
            path = folder / f"played-{track_id}"
            await anyio.Path(path).write_bytes(response.content)
            assert decoded_seconds(path) > 1.0
    return len(ids)


@pytest.mark.parametrize("media", ["kept", "deleted"])
async def test_backfill_rebuilds_what_users_saw(
    world: World, atproto_net: Network, db_url: str, tmp_path: Path, media: str
) -> None:
    data_dir = world.settings.data_dir
    if media == "deleted":
        shutil.rmtree(world.settings.effective_storage_local_dir)
    handles = [account.handle for account in world.accounts]
    namespace = world.settings.atproto_namespace
    async with fresh_database(db_url, tmp_path) as database_url:
        env = backfill_env(data_dir, database_url, atproto_net)
        run, report = await run_backfill(*handles, env=env, cwd=tmp_path)
        assert run.returncode == 0, str(run)
        assert report["repos"] == {"done": 3, "unchanged": 0, "inactive": 0, "failed": 0}
        assert report["records"][f"{namespace}.track"] == len(
            [uri for uri in world.before["tracks"]]
        )
        assert report["audio"] == {
            "ready": len(world.before["tracks"]),
            "unplayable": 0,
            "pending": 0,
        }
        skipped = {entry["uri"]: entry["reason"] for entry in report["skipped_records"]}
        assert set(skipped) == {world.leftouts.bad_comment, world.leftouts.stray_like}, skipped
        assert "fails its lexicon" in skipped[world.leftouts.bad_comment]
        assert "a track plyr does not know" in skipped[world.leftouts.stray_like]

        settings = devnet_settings(tmp_path, database_url, atproto_net, data_dir=data_dir)
        async with running_plyr(settings) as plyr:
            same(world.before, await dump(plyr, world.dids))
            assert await every_track_plays(plyr, tmp_path) == len(world.before["tracks"])

            # Again: nothing changed, nothing is fetched twice.
            again, report = await run_backfill(*handles, env=env, cwd=tmp_path)
            assert again.returncode == 0, str(again)
            assert report["repos"] == {"done": 0, "unchanged": 3, "inactive": 0, "failed": 0}
            assert report["records"] == {}

            # A run stopped half-way left one repo "running": the next run does that one.
            async with plyr.runtime.sessions() as db:
                await db.execute(
                    update(BackfillRepo)
                    .where(BackfillRepo.did == world.accounts[1].did)
                    .values(status="running")
                )
                await db.commit()
            resumed, report = await run_backfill(*handles, env=env, cwd=tmp_path)
            assert resumed.returncode == 0, str(resumed)
            assert report["repos"] == {"done": 1, "unchanged": 2, "inactive": 0, "failed": 0}
            same(world.before, await dump(plyr, world.dids))

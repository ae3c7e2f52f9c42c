"""`--all --from URL`: every repository a PDS lists (`com.atproto.sync.listRepos`, page by
page), an inactive one skipped with its status; a second run skips what has not changed,
by the rev the listing gives. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from plyr import handlers  # noqa: F401 - registers the indexers, as the CLI does
from plyr.atproto.devnet import Network
from plyr.atproto.syntax import format_datetime
from plyr.backfill import BackfillOptions, FetchLimits, Progress, backfill
from plyr.db.models import Profile, utcnow
from plyr.runtime import Runtime
from tests.backfill.accounts import create_account, deactivate, repo_of
from tests.backfill.conftest import backfill_env, fresh_database, run_backfill
from tests.conftest import devnet_settings

NS = "fm.plyr"


async def test_every_listed_repository_is_backfilled(
    atproto_net: Network, db_url: str, tmp_path: Path
) -> None:
    listed, gone = await create_account(atproto_net, "ls"), await create_account(atproto_net, "dz")
    now = format_datetime(utcnow())
    for account in (listed, gone):
        async with repo_of(atproto_net, account) as repo:
            await repo.put_record(
                f"{NS}.actor.profile", "self", {"bio": "listed", "createdAt": now}
            )
    await deactivate(atproto_net, gone)

    async with fresh_database(db_url, tmp_path) as database_url:
        settings = devnet_settings(tmp_path, database_url, atproto_net, jobs_enabled=False)
        runtime = Runtime.open(settings)
        events: list[Progress] = []
        try:
            # Two repositories a page: the cursor is followed to the end.
            options = BackfillOptions(
                fetch_audio=False,
                limits=FetchLimits(list_page=2, timeout_seconds=5, backoff_seconds=0.1),
            )
            report = await backfill(
                runtime, source=atproto_net.pds_url, options=options, progress=events.append
            )
            # Named, the PDS answers getRepo with RepoDeactivated: skipped as inactive too.
            named = await backfill(
                runtime, identifiers=[gone.did], options=BackfillOptions(fetch_audio=False)
            )
            assert (named.repos_inactive, named.repos_failed) == (1, 0)
            assert "RepoDeactivated" in (named.repos[0].reason or ""), named.repos
            async with runtime.sessions() as db:
                bios = {did: bio for did, bio in await db.execute(select(Profile.did, Profile.bio))}
        finally:
            await runtime.close()
        inactive = {o.did: o.reason for o in report.repos if o.status == "inactive"}
        assert gone.did in inactive, report.repos
        assert "deactivated" in (inactive[gone.did] or ""), inactive
        assert listed.did not in {o.did for o in report.repos}  # done: not among the problems
        assert bios[listed.did] == "listed"
        assert gone.did not in bios
        total = report.repos_done + report.repos_failed + report.repos_inactive
        assert total >= len(atproto_net.accounts) + 2
        listing = [event for event in events if event.phase == "listing"]
        assert listing[-1].done == total
        assert listing[-1].note
        repos = [event for event in events if event.phase == "repos"]
        assert repos[-1].done == repos[-1].total == total
        assert [event.done for event in repos] == sorted(event.done for event in repos)

        env = backfill_env(tmp_path / "data", database_url, atproto_net)
        run, again = await run_backfill(
            "--all",
            "--from",
            atproto_net.pds_url,
            "--no-audio",
            "--timeout",
            "5",
            env=env,
            cwd=tmp_path,
        )
        assert again["repos"]["unchanged"] == report.repos_done, str(run)
        assert again["repos"]["done"] == 0
        assert again["repos"]["inactive"] == report.repos_inactive
        assert again["records"] == {}

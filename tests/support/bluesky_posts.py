"""Reading a shared track's Bluesky post back from the PDS, as any client would, and
checking it: field by field, and with the app.bsky.feed.post schema the PDS itself runs
(tests/support/bluesky_post_reference.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from plyr.atproto.devnet import Network
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import public_record

NODE_MODULES = Path(__file__).resolve().parents[2] / "atproto-net" / "node_modules"
REFERENCE = Path(__file__).parent / "bluesky_post_reference.mjs"


async def posts_of(net: Network, did: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{net.pds_url}/xrpc/com.atproto.repo.listRecords",
            params={"repo": did, "collection": "app.bsky.feed.post", "limit": 100},
        )
    answer.raise_for_status()
    return list(answer.json()["records"])


def reference_verdicts(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Verdicts of the app.bsky.feed.post schema @atproto/pds runs on writes."""
    if shutil.which("node") is None or not (NODE_MODULES / "@atproto/pds").exists():
        pytest.skip("node or atproto-net/node_modules is missing (npm ci in atproto-net)")
    done = subprocess.run(
        ["node", str(REFERENCE), str(NODE_MODULES)],
        input=json.dumps(records),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    verdicts: list[dict[str, Any]] = json.loads(done.stdout)
    return verdicts


async def check_post(
    net: Network, plyr: PlyrServer, uri: str, track: dict[str, Any], text: str
) -> dict[str, Any]:
    """The post as any client reads it from the PDS, checked field by field."""
    stored = await public_record(net, uri)
    assert stored is not None, f"no post at {uri}"
    post = stored["value"]
    verdicts = reference_verdicts([post, {**post, "text": "x" * 301}])
    assert [verdict["valid"] for verdict in verdicts] == [True, False], verdicts
    link = f"{plyr.url}/tracks/{track['id']}"
    assert post["$type"] == "app.bsky.feed.post"
    assert post["text"] == text
    # The link facet's offsets count UTF-8 bytes of the text (which has multi-byte letters).
    (facet,) = post["facets"]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert post["text"].encode()[start:end].decode() == link
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": link}]
    external = post["embed"]["external"]
    assert post["embed"]["$type"] == "app.bsky.embed.external"
    assert external["uri"] == link
    assert external["title"] == f"{track['title']} — {track['artist']}"
    assert external["description"] == "from summer"
    # The thumbnail is a blob in alice's repository: the artwork thumbnail's own bytes.
    thumb = external["thumb"]
    assert thumb["mimeType"] == "image/webp"
    did = uri.removeprefix("at://").split("/")[0]
    async with httpx.AsyncClient() as http:
        blob = await http.get(
            f"{net.pds_url}/xrpc/com.atproto.sync.getBlob",
            params={"did": did, "cid": thumb["ref"]["$link"]},
        )
        served = await http.get(str(track["thumbnail_url"]))
    assert blob.status_code == 200
    assert blob.content == served.content
    assert thumb["size"] == len(blob.content)
    return dict(post)

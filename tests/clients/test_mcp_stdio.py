"""`plyrfm mcp` over stdio, driven by the official MCP SDK's own client: the client spawns
the real console script (`.venv/bin/plyrfm mcp`) as Claude Desktop would, against the live
plyr of conftest.py on both databases."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, GetPromptResult, TextContent, TextResourceContents
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.auth.sessions import dev_tokens
from plyr.auth.signin import revoke_dev_token
from plyr.db.models import Play, Track, utcnow
from tests.clients.conftest import TokenUser
from tests.support.dev_tokens import create_dev_token
from tests.support.plyr_server import PlyrServer
from tests.support.plyrfm import PLYRFM, plyrfm_env
from tests.support.ports import free_port

TOOLS = {
    "search",
    "get_track",
    "artist_tracks",
    "top_tracks",
    "now_playing",
    "my_library",
    "like_track",
    "add_to_playlist",
    "upload_file",
}


@asynccontextmanager
async def mcp_over_stdio(
    home: Path, url: str, token: str | None = None
) -> AsyncIterator[tuple[Client, Path]]:
    """A session with a fresh `plyrfm mcp` process; yields the client and its stderr file."""
    await anyio.Path(home).mkdir(parents=True, exist_ok=True)
    stderr = home / "mcp-stderr.log"
    params = StdioServerParameters(
        command=PLYRFM, args=["mcp"], env=plyrfm_env(home, url, token), cwd=home
    )
    with stderr.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=120) as client:
            yield client, stderr


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def prompt_text(prompt: GetPromptResult) -> str:
    [message] = prompt.messages
    assert message.role == "user"
    assert isinstance(message.content, TextContent)
    return message.content.text


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool call that must succeed; its structured content."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, text_of(result)
    assert isinstance(result.structured_content, dict), result
    assert text_of(result).strip()  # a readable twin for clients that show only text
    return result.structured_content


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    """A tool call that must fail as a tool error; its one line."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result
    line = text_of(result)
    assert line
    assert "\n" not in line, line
    assert "Traceback" not in line, line
    assert "Error executing tool" not in line, line  # the MCP SDK's prefix, not ours
    return line


async def test_lists_tools_prompt_and_resources(plyr: PlyrServer, tmp_path: Path) -> None:
    async with mcp_over_stdio(tmp_path / "anon", plyr.url) as (client, _):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert tool.description, tool.name
            assert tool.output_schema, tool.name
            assert tool.output_schema["type"] == "object", tool.name
        assert tools["get_track"].input_schema["required"] == ["track_id"]
        assert "window" in tools["top_tracks"].input_schema["properties"]
        assert "ctx" not in tools["upload_file"].input_schema["properties"]
        assert tools["search"].annotations
        assert tools["search"].annotations.read_only_hint

        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert set(prompts) == {"upload_guide"}
        assert {a.name for a in prompts["upload_guide"].arguments or []} == {"path", "genre"}

        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["plyr://tracks/{track_id}"]
        # Without a token there is no "me" to show.
        assert (await client.list_resources()).resources == []


async def test_catalogue_tools(
    plyr: PlyrServer, catalogue: list[dict[str, Any]], bob: TokenUser, tmp_path: Path
) -> None:
    morning, harbour, late = catalogue
    async with mcp_over_stdio(tmp_path, plyr.url) as (client, stderr):
        found = await call(client, "search", query="harbour")
        track_hits = [hit for hit in found["hits"] if hit["type"] == "track"]
        assert track_hits[0]["id"] == str(harbour["id"])
        assert track_hits[0]["url"] == f"{plyr.url}/tracks/{harbour['id']}"

        track = await call(client, "get_track", track_id=late["id"])
        assert track["title"] == "late static"
        assert track["album"] == "tide tables"
        assert track["tags"] == ["ambient"]
        assert track["state"] == "published"
        assert track["url"] == f"{plyr.url}/tracks/{late['id']}"

        listing = await call(client, "artist_tracks", artist="alice.test", limit=100)
        ids = [t["id"] for t in listing["tracks"]]
        assert {morning["id"], harbour["id"], late["id"]} <= set(ids)
        assert ids.index(late["id"]) < ids.index(morning["id"])  # newest first
        two = await call(client, "artist_tracks", artist="alice.test", limit=2)
        assert len(two["tracks"]) == 2
        assert two["more"] is True

        await _played(plyr, late["id"], 3)
        top = await _top_until(client, late["id"])
        ranked = next(r for r in top["tracks"] if r["track"]["id"] == late["id"])
        assert ranked["plays"] >= 3

        async with httpx.AsyncClient(
            base_url=plyr.url, headers={"Authorization": f"Bearer {bob.token}"}
        ) as http:
            playing = await http.put(
                "/api/now-playing", json={"track_id": harbour["id"], "position_ms": 65_000}
            )
            assert playing.status_code == 204, playing.text
            now = await call(client, "now_playing", listener="bob.test")
            assert now["playing"] is True
            assert now["track"]["id"] == harbour["id"]
            assert now["position_seconds"] >= 1
            assert (await http.delete("/api/now-playing")).status_code == 204
        silent = await call(client, "now_playing", listener=bob.did)
        assert silent == {**silent, "playing": False, "track": None}
    assert "Traceback" not in stderr.read_text()


async def _played(plyr: PlyrServer, track_id: int, count: int) -> None:
    async with plyr.runtime.sessions() as db:
        track = await db.get(Track, track_id)
        assert track is not None
        for n in range(count):
            db.add(
                Play(
                    track_id=track_id,
                    listen_id=f"mcp-{uuid.uuid4().hex}-{n}",
                    listened_ms=30_000,
                    created_at=utcnow() - timedelta(minutes=n),
                )
            )
        track.play_count += count
        await db.commit()


async def _top_until(client: Client, track_id: int) -> dict[str, Any]:
    """The week's top tracks once they count the plays just added (plyr caches the chart
    for a few seconds)."""
    async with asyncio.timeout(20):
        while True:
            top = await call(client, "top_tracks", window="week", limit=50)
            assert top["window"] == "week"
            if any(r["track"]["id"] == track_id for r in top["tracks"]):
                return top
            await asyncio.sleep(1)


async def test_likes_and_playlists_as_bob(
    plyr: PlyrServer, catalogue: list[dict[str, Any]], bob: TokenUser, tmp_path: Path
) -> None:
    morning, harbour, _ = catalogue
    name = f"mcp mix {uuid.uuid4().hex[:6]}"
    async with mcp_over_stdio(tmp_path, plyr.url, bob.token) as (client, _):
        liked = await call(client, "like_track", track_id=morning["id"])
        assert liked["liked"] is True
        assert liked["likes"] >= 1

        made = await call(client, "add_to_playlist", track_id=morning["id"], playlist_name=name)
        assert made["created"] is True
        assert made["track_ids"] == [morning["id"]]
        assert made["url"] == f"{plyr.url}/playlists/{made['id']}"
        added = await call(
            client, "add_to_playlist", track_id=harbour["id"], playlist_id=made["id"]
        )
        assert added["created"] is False
        assert added["track_ids"] == [morning["id"], harbour["id"]]
        # By name again: the same playlist, not a second one.
        again = await call(
            client, "add_to_playlist", track_id=morning["id"], playlist_name=name.upper()
        )
        assert again["id"] == made["id"]
        assert len(again["track_ids"]) == 3

        library = await call(client, "my_library")
        assert library["handle"] == "bob.test"
        assert morning["id"] in [t["id"] for t in library["liked_tracks"]]

        line = await refused(client, "add_to_playlist", track_id=morning["id"])
        assert "playlist" in line

    async with httpx.AsyncClient(
        base_url=plyr.url, headers={"Authorization": f"Bearer {bob.token}"}
    ) as http:
        social = (await http.get(f"/api/tracks/{morning['id']}/social")).json()
        assert social["liked"] is True
        page = await http.get(made["url"])  # the URL the tool gave opens the playlist
        assert page.status_code == 200, page.status_code
        assert name in page.text
        playlist = (await http.get(f"/api/lists/{made['id']}")).json()
        assert playlist["name"] == name
        assert [e["track"]["id"] for e in playlist["entries"]] == [
            morning["id"],
            harbour["id"],
            morning["id"],
        ]


async def test_upload_and_resources_as_alice(
    plyr: PlyrServer, alice: TokenUser, audio_file: Path, tmp_path: Path
) -> None:
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with mcp_over_stdio(tmp_path / "home", plyr.url, alice.token) as (client, stderr):
        result = await client.call_tool(
            "upload_file",
            {
                "path": str(audio_file),
                "title": "tidal study",
                "tags": ["field recording", "ambient"],
                "content_warnings": ["nudity"],
            },
            progress_callback=on_progress,
        )
        assert not result.is_error, text_of(result)
        track = result.structured_content
        assert isinstance(track, dict)
        assert track["title"] == "tidal study"
        assert track["state"] == "published"
        assert track["content_warnings"] == ["nudity"]
        assert set(track["tags"]) == {"field recording", "ambient"}
        assert track["url"] in text_of(result)
        values = [value for value, _, _ in progress]
        assert values, "no progress notifications"
        assert values == sorted(set(values))
        assert values[-1] <= 100
        assert all(total == 100 for _, total, _ in progress)

        library = await call(client, "my_library")
        assert track["id"] in [t["id"] for t in library["my_tracks"]]

        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        assert uris == {"plyr://me", "plyr://me/tracks"}
        me = json.loads(await _read(client, "plyr://me"))
        assert (me["handle"], me["did"]) == ("alice.test", alice.did)
        mine = json.loads(await _read(client, "plyr://me/tracks"))
        assert track["id"] in [t["id"] for t in mine]
        resource = json.loads(await _read(client, f"plyr://tracks/{track['id']}"))
        assert resource["title"] == "tidal study"
        assert resource["publish_state"] == "published"
        assert resource["self_labels"] == ["nudity"]

        missing = await refused(client, "upload_file", path=str(tmp_path / "nope.wav"))
        assert "nope.wav" in missing
    assert "Traceback" not in stderr.read_text()


async def _read(client: Client, uri: str) -> str:
    contents = (await client.read_resource(uri)).contents
    assert len(contents) == 1
    assert isinstance(contents[0], TextResourceContents)
    assert contents[0].mime_type == "application/json"
    return contents[0].text


async def test_upload_guide_prompt(plyr: PlyrServer, tmp_path: Path) -> None:
    async with mcp_over_stdio(tmp_path, plyr.url) as (client, _):
        prompt = await client.get_prompt(
            "upload_guide", {"path": "/music/tide.flac", "genre": "Ambient"}
        )
        text = prompt_text(prompt)
        for needed in ("/music/tide.flac", '"ambient"', "rights", "content_warnings"):
            assert needed in text, needed
        for tool in ("upload_file", "artwork_path", "search"):
            assert tool in text, tool
        bare = await client.get_prompt("upload_guide", {})
        assert "Ask me for the file's path" in prompt_text(bare)


async def test_unknown_track_and_bad_arguments(
    plyr: PlyrServer, catalogue: list[dict[str, Any]], tmp_path: Path
) -> None:
    async with mcp_over_stdio(tmp_path, plyr.url) as (client, stderr):
        line = await refused(client, "get_track", track_id=987654321)
        assert line.startswith("not found"), line
        line = await refused(client, "get_track", track_id="harbour")
        assert line.startswith("bad arguments for get_track: track_id"), line
        line = await refused(client, "top_tracks", window="decade")
        assert "window" in line, line
        with pytest.raises(MCPError, match="not found"):
            await client.read_resource("plyr://tracks/987654321")
        # Still serving after the failures.
        track = await call(client, "get_track", track_id=catalogue[0]["id"])
        assert track["id"] == catalogue[0]["id"]
    assert "Traceback" not in stderr.read_text()


async def test_tools_needing_a_token_say_how_to_sign_in(
    plyr: PlyrServer, catalogue: list[dict[str, Any]], tmp_path: Path
) -> None:
    async with mcp_over_stdio(tmp_path, plyr.url) as (client, _):
        for tool, arguments in [
            ("like_track", {"track_id": catalogue[0]["id"]}),
            ("my_library", {}),
            ("add_to_playlist", {"track_id": catalogue[0]["id"], "playlist_name": "x"}),
        ]:
            line = await refused(client, tool, **arguments)
            assert line.startswith("not signed in"), line
            assert "developer token" in line, line
            assert "plyrfm login" in line, line
            assert f"{plyr.url}/settings" in line, line


async def test_a_revoked_token(
    plyr: PlyrServer,
    browser: Browser,
    atproto_net: Network,
    catalogue: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    name = f"mcp {uuid.uuid4().hex[:8]}"
    token = await create_dev_token(browser, plyr, atproto_net, "bob.test", name=name)
    did = atproto_net.account("bob.test").did
    async with mcp_over_stdio(tmp_path, plyr.url, token) as (client, stderr):
        assert (await call(client, "my_library"))["handle"] == "bob.test"
        [row] = [row for row in await dev_tokens(plyr.runtime, did) if row.name == name]
        assert await revoke_dev_token(plyr.runtime, did, row.id[:16])

        line = await refused(client, "like_track", track_id=catalogue[0]["id"])
        assert line.startswith("authentication failed"), line
        assert "plyrfm login" in line, line
        line = await refused(client, "my_library")
        assert line.startswith("authentication failed"), line
        with pytest.raises(MCPError, match="authentication failed"):
            await client.read_resource("plyr://me")
    assert "Traceback" not in stderr.read_text()


async def test_plyr_down(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    async with mcp_over_stdio(tmp_path, closed, "plyr_not_a_real_token") as (client, stderr):
        line = await refused(client, "search", query="anything")
        assert "not reachable" in line, line
        assert closed in line, line
        line = await refused(client, "get_track", track_id=1)
        assert "not reachable" in line, line
        # The MCP server itself is still up and answering.
        assert len((await client.list_tools()).tools) == len(TOOLS)
        prompt = await client.get_prompt("upload_guide", {"path": "/x.wav"})
        assert "/x.wav" in prompt_text(prompt)
        line = await refused(client, "now_playing", listener="bob.test")
        assert "not reachable" in line, line
    assert "Traceback" not in stderr.read_text()

"""The MCP server behind `plyrfm mcp`: plyr's music as tools, a prompt and resources for an
AI client, on the official MCP SDK (`MCPServer`), over stdio or streamable HTTP.

Every tool failure reaches the model as an isError result with one line (`call_tool`
below): the SDK's `PlyrError` message, a token hint, or which argument was wrong. The
server process never dies of one."""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, InputRequiredResult
from pydantic import ValidationError

from plyrfm import AsyncClient, __version__
from plyrfm.config import Config
from plyrfm.errors import PlyrError
from plyrfm.mcp.backend import Backend, refusal
from plyrfm.mcp.failures import Refused, bad_arguments_text, failure_text
from plyrfm.mcp.prompts import register_prompts
from plyrfm.mcp.resources import register_resources
from plyrfm.mcp.tools_account import register_account_tools
from plyrfm.mcp.tools_catalogue import register_catalogue_tools
from plyrfm.mcp.tools_upload import register_upload_tool

logger = logging.getLogger("plyrfm.mcp")

INSTRUCTIONS = """\
plyr is a music streaming platform on the AT Protocol. Find music with search,
artist_tracks and top_tracks; get_track gives a track's details and page URL; now_playing
says what a listener plays. With a developer token (`plyrfm login`) my_library,
like_track, add_to_playlist and upload_file act as the user: confirm with the user before
liking, adding or uploading. The upload_guide prompt explains a good upload."""

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class PlyrMCP(MCPServer[Any]):
    """MCPServer whose tool failures read as one line for the model."""

    def __init__(self, site: str, **settings: Any) -> None:
        super().__init__(**settings)
        self.site = site

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as error:
            # The MCP SDK wraps what the tool raised; the cause is what went wrong.
            cause = error.__cause__
            if isinstance(cause, PlyrError):
                text = failure_text(cause, self.site, needs=name)
                logger.warning("tool %s: %s", name, text)
                return refusal(text)
            if isinstance(cause, Refused):
                return refusal(str(cause))
            if isinstance(cause, ValidationError):
                return refusal(bad_arguments_text(name, cause))
            raise


def build_server(client: AsyncClient) -> PlyrMCP:
    """The server with every tool, resource and prompt, talking to plyr through `client`.
    `plyr://me` and `plyr://me/tracks` are listed only when it has a token."""
    backend = Backend(client=client, site=client.url, signed_in=client.signed_in)
    server = PlyrMCP(
        backend.site,
        name="plyr",
        title="plyr",
        description="Music on the AT Protocol: search, listen, like, playlists, uploads.",
        instructions=INSTRUCTIONS,
        website_url=client.url,
        version=__version__,
        log_level="WARNING",
    )
    register_catalogue_tools(server, backend)
    register_account_tools(server, backend)
    register_upload_tool(server, backend)
    register_resources(server, backend)
    register_prompts(server)
    return server


def transport_security(host: str) -> TransportSecuritySettings:
    """DNS-rebinding protection: a web page the user visits may not drive this server
    through a name that resolves to it. Only loopback names and `host` are accepted."""
    hosts = [*LOOPBACK_HOSTS, host]
    named = sorted({f"[{h}]" if ":" in h else h for h in hosts})
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{h}:*" for h in named],
        allowed_origins=[f"http://{h}:*" for h in named],
    )


async def serve_stdio(config: Config) -> None:
    async with AsyncClient(config.url, config.token) as client:
        await build_server(client).run_stdio_async()


async def serve_http(config: Config, host: str, port: int) -> None:
    """Streamable HTTP at http://host:port/mcp. It has no authentication of its own:
    whoever reaches it acts with the configured token, hence loopback by default."""
    async with AsyncClient(config.url, config.token) as client:
        await build_server(client).run_streamable_http_async(
            host=host, port=port, transport_security=transport_security(host)
        )

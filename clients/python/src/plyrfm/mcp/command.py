"""`plyrfm mcp`: run the MCP server over stdio (what desktop AI clients spawn) or, with
`--http`, over streamable HTTP. It reads plyr's URL and the token as every command does:
`plyrfm --url/--token`, else PLYR_URL/PLYR_TOKEN, else the file `plyrfm login` wrote."""

from __future__ import annotations

from typing import Annotated

import typer


def mcp(
    ctx: typer.Context,
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP (at /mcp) instead of stdio.")
    ] = False,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on with --http. Loopback by default: the server has no "
            "login of its own, whoever reaches it acts with your token."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for --http.")] = 8765,
) -> None:
    """Run the MCP server for AI clients (Claude Desktop, …): tools to search, get tracks,
    top tracks and now playing; with a token your library, likes, playlists and uploads."""
    import asyncio

    from plyrfm.config import load_config
    from plyrfm.mcp.server import serve_http, serve_stdio

    url, token = _global_options(ctx)
    config = load_config(url=url, token=token)
    if not http:
        asyncio.run(serve_stdio(config))
        return
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"plyrfm mcp: streamable HTTP on http://{shown}:{port}/mcp", err=True)
    asyncio.run(serve_http(config, host, port))


def _global_options(ctx: typer.Context) -> tuple[str | None, str | None]:
    """`plyrfm --url … --token … mcp`: the root command keeps them on its context object."""
    options = ctx.find_root().obj
    url, token = getattr(options, "url", None), getattr(options, "token", None)
    return (url if isinstance(url, str) else None, token if isinstance(token, str) else None)

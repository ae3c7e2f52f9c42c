"""`/developers`: the short guide for people who script plyr — a developer token, the
`plyrfm` command line and Python SDK, the MCP server for AI assistants, and the JSON API
(its reference at /api/docs, the OpenAPI document, the versioning policy). The long guide
with curl examples is docs/api.md in plyr's source; the SDK's is clients/python/README.md."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from plyr.web.shared.caller import OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.openapi import API_VERSION
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)


def mcp_config(public_url: str) -> str:
    """What an MCP client (Claude Desktop, an editor…) is given to start `plyrfm mcp`."""
    server = {
        "command": "plyrfm",
        "args": ["mcp"],
        "env": {"PLYR_URL": public_url, "PLYR_TOKEN": "plyr_…"},
    }
    return json.dumps({"mcpServers": {"plyr": server}}, indent=2, ensure_ascii=False)


@router.get("/developers", response_class=HTMLResponse)
async def developers(
    request: Request, runtime: RuntimeDep, _caller: OptionalCaller
) -> HTMLResponse:
    # `render` adds who is signed in and this plyr's `public_url`.
    return render(
        request,
        "developers.html",
        {
            "title": "for developers",
            "api_version": API_VERSION,
            "mcp_config": mcp_config(runtime.settings.public_url),
        },
    )

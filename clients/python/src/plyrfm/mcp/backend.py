"""What every tool, resource and prompt of the MCP server shares: the SDK client (one per
server process, so connections are reused), where plyr's pages are, and a tool answer's
two forms."""

from __future__ import annotations

from dataclasses import dataclass

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from plyrfm import AsyncClient


@dataclass(frozen=True)
class Backend:
    client: AsyncClient
    site: str  # plyr's base URL: pages are site + "/tracks/12"
    signed_in: bool  # a token is configured (whether it still works, plyr decides)


def answer(text: str, data: BaseModel) -> CallToolResult:
    """A tool's result: readable text for the model and the structured record for the
    client (validated against the tool's outputSchema by the MCP SDK)."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=data.model_dump(mode="json"),
    )


def refusal(text: str) -> CallToolResult:
    """A tool error the model can read and act on (isError, one line)."""
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)

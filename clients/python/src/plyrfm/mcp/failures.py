"""How a failed tool call reads to the model: one line saying what went wrong, and for a
missing or dead token, how to get a working one."""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from plyrfm.errors import AuthenticationError, NotSignedIn, PlyrError, one_line


class Refused(ToolError):
    """A tool turns the call down (bad or missing arguments it checks itself); the model
    reads the message as it is."""


def sign_in_hint(site: str) -> str:
    return (
        f"make a developer token in plyr's settings ({site.rstrip('/')}/settings), "
        "then run `plyrfm login` (or set PLYR_TOKEN) and restart this MCP server"
    )


def failure_text(error: PlyrError, site: str, needs: str = "this") -> str:
    """The SDK's one-line message; a token problem also says how to fix it. `needs`
    names what wanted the token (a tool, a resource)."""
    if isinstance(error, NotSignedIn):
        return f"not signed in: {needs} needs a plyr developer token; {sign_in_hint(site)}"
    if isinstance(error, AuthenticationError):
        return one_line(f"{error} (the token may be revoked or expired); {sign_in_hint(site)}")
    return str(error)


def bad_arguments_text(tool: str, error: ValidationError) -> str:
    """pydantic's report is several lines per problem; a model needs `field: why`."""
    problems = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        problems.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return one_line(f"bad arguments for {tool}: " + "; ".join(problems))

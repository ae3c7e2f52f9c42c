"""Resources: any track as JSON (`plyr://tracks/{track_id}`), and with a token the signed-in
user (`plyr://me`) and all their tracks (`plyr://me/tracks`). The JSON is the SDK's model,
field for field what plyr's API answers."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from plyrfm.errors import NotFound, PlyrError
from plyrfm.mcp.backend import Backend
from plyrfm.mcp.failures import failure_text

JSON = "application/json"
# plyr://me/tracks reads every page; an artist with more than this gets the newest.
MAX_MY_TRACKS = 1000


def register_resources(server: MCPServer[Any], backend: Backend) -> None:
    client, site = backend.client, backend.site

    def unreadable(error: PlyrError) -> ResourceError:
        if isinstance(error, NotFound):
            return ResourceNotFoundError(str(error))
        return ResourceError(failure_text(error, site, needs="this resource"))

    @server.resource(
        "plyr://tracks/{track_id}",
        name="track",
        title="A plyr track",
        description="A track's metadata as plyr's API gives it (GET /api/tracks/{id}).",
        mime_type=JSON,
    )
    async def track(track_id: str) -> str:
        if not track_id.isdigit():
            raise ResourceNotFoundError(f"no track {track_id!r}: track ids are numbers")
        try:
            found = await client.track(int(track_id))
        except PlyrError as error:
            raise unreadable(error) from error
        return found.model_dump_json(indent=2)

    if not backend.signed_in:
        return

    @server.resource(
        "plyr://me",
        name="me",
        title="The signed-in plyr user",
        description="Who the developer token belongs to: DID, handle, display name, scope.",
        mime_type=JSON,
    )
    async def me() -> str:
        try:
            return (await client.me()).model_dump_json(indent=2)
        except PlyrError as error:
            raise unreadable(error) from error

    @server.resource(
        "plyr://me/tracks",
        name="my_tracks",
        title="My plyr tracks",
        description="Every track of the signed-in user, in every state, newest first.",
        mime_type=JSON,
    )
    async def my_tracks() -> str:
        tracks: list[dict[str, Any]] = []
        try:
            async for item in client.my_tracks(page_size=100):
                tracks.append(item.model_dump(mode="json"))
                if len(tracks) >= MAX_MY_TRACKS:
                    break
        except PlyrError as error:
            raise unreadable(error) from error
        return json.dumps(tracks, indent=2)

"""The tools that act as the signed-in user (a developer token): their library, liking a
track, adding one to a playlist. Without a token the SDK raises NotSignedIn before any
request, and the model is told how to get one (`failures.py`)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from plyrfm.mcp.backend import Backend, answer
from plyrfm.mcp.failures import Refused
from plyrfm.mcp.shapes import (
    Library,
    LikeAnswer,
    PlaylistCard,
    library_text,
    like_answer,
    playlist_card,
    playlist_text,
    track_card,
)
from plyrfm.mcp.tools_catalogue import READS, Limit, TrackId, first

# Liking twice leaves one like; adding to a playlist twice adds the track twice.
LIKES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)
ADDS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False)


def register_account_tools(server: MCPServer[Any], backend: Backend) -> None:
    client, site = backend.client, backend.site

    @server.tool(title="My library", annotations=READS)
    async def my_library(limit: Limit = 50) -> Annotated[CallToolResult, Library]:
        """The signed-in user's own tracks (in every state: processing, published, failed)
        and the tracks they liked, newest first. Needs a developer token."""
        me = await client.me()
        mine = await first(client.my_tracks(page_size=limit), limit)
        liked = await first(client.likes(page_size=limit), limit)
        library = Library(
            handle=me.handle,
            my_tracks=[track_card(track, site) for track in mine],
            liked_tracks=[track_card(track, site) for track in liked],
        )
        return answer(library_text(library), library)

    @server.tool(title="Like a track", annotations=LIKES)
    async def like_track(
        track_id: TrackId,
        unlike: Annotated[bool, Field(description="true takes the like back")] = False,
    ) -> Annotated[CallToolResult, LikeAnswer]:
        """Like a track as the signed-in user (or take the like back). The like is a record
        in the user's own ATProto repository. Needs a developer token."""
        state = like_answer(await (client.unlike if unlike else client.like)(track_id))
        verb = "liked" if state.liked else "no longer liked"
        return answer(f"track #{state.track_id} {verb} ({state.likes} like(s))", state)

    @server.tool(title="Add to a playlist", annotations=ADDS)
    async def add_to_playlist(
        track_id: TrackId,
        playlist_id: Annotated[
            int | None, Field(ge=1, description="one of the user's playlists, by id")
        ] = None,
        playlist_name: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=200,
                description="or by name: the user's playlist of that name, made when missing",
            ),
        ] = None,
    ) -> Annotated[CallToolResult, PlaylistCard]:
        """Add a track at the end of one of the signed-in user's playlists, named by id or
        by name (a playlist with that name is made when they have none). Needs a developer
        token."""
        if playlist_id is None:
            if not playlist_name:
                raise Refused("say which playlist: playlist_id, or playlist_name")
            wanted = playlist_name.casefold()
            mine = await client.playlists()  # the caller's own
            found = next((p for p in mine if (p.name or "").casefold() == wanted), None)
            if found is None:
                made = await client.create_playlist(playlist_name, [track_id])
                card = playlist_card(made, site, created=True)
                return answer(playlist_text(card, track_id), card)
            playlist_id = found.id
        card = playlist_card(await client.add_to_list(playlist_id, track_id), site, created=False)
        return answer(playlist_text(card, track_id), card)

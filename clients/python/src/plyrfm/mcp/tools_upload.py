"""The upload tool: a file on this machine goes to plyr as the signed-in user, and the call
returns once the track is published. The SDK follows the upload's phases; each becomes an
MCP progress notification when the client asked for them (a progress token)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from plyrfm.errors import InvalidRequest
from plyrfm.mcp.backend import Backend, answer
from plyrfm.mcp.failures import Refused
from plyrfm.mcp.shapes import TrackCard, track_card, track_line
from plyrfm.models import UploadProgress
from plyrfm.operations.uploads import readable_file

logger = logging.getLogger("plyrfm.mcp")
UPLOADS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
ContentWarning = Literal["sexual", "porn", "nudity", "graphic-media"]
# Sending the file is the first tenth of the bar, the server's phases the rest.
SENDING_SHARE = 10.0


def overall_percent(event: UploadProgress) -> float:
    if event.phase == "sending":
        if not event.bytes_total:
            return 0.0
        return SENDING_SHARE * (event.bytes_sent or 0) / event.bytes_total
    return SENDING_SHARE + (100.0 - SENDING_SHARE) * event.percent / 100


async def forward_progress(events: asyncio.Queue[UploadProgress | None], ctx: Context) -> None:
    """Report each step forward (MCP progress must increase) with the phase's message,
    until None says the upload is over. A client that stops listening does not stop the
    upload: reporting just ends."""
    last = -1.0
    reporting = True
    while (event := await events.get()) is not None:
        percent = round(overall_percent(event), 1)
        if reporting and percent > last:
            last = percent
            try:
                await ctx.report_progress(percent, 100, event.message or event.phase)
            except Exception as error:  # the upload matters more than its progress bar
                logger.warning("upload progress not sent: %r", error)
                reporting = False


def local_file(path: str, what: str) -> Path:
    """The SDK's check, with a word for a model that may think of its own machine."""
    try:
        return readable_file(path, what)
    except InvalidRequest as error:
        raise Refused(f"{error} (a path on the machine running plyrfm mcp)") from error


def register_upload_tool(server: MCPServer[Any], backend: Backend) -> None:
    client, site = backend.client, backend.site

    @server.tool(title="Upload a track", annotations=UPLOADS)
    async def upload_file(
        path: Annotated[
            str, Field(min_length=1, description="the audio file, a path on this machine")
        ],
        ctx: Context,
        title: Annotated[str | None, Field(max_length=256)] = None,
        album: Annotated[str | None, Field(max_length=256)] = None,
        description: Annotated[str | None, Field(max_length=5000)] = None,
        tags: Annotated[
            tuple[str, ...], Field(max_length=10, description="genres and moods, lowercase")
        ] = (),
        features: Annotated[
            tuple[str, ...], Field(max_length=10, description="handles of featured artists")
        ] = (),
        content_warnings: Annotated[
            tuple[ContentWarning, ...],
            Field(description="self-labels for sexual, porn, nudity or graphic-media content"),
        ] = (),
        artwork_path: Annotated[
            str | None, Field(description="a square cover image (JPEG/PNG/WebP) on this machine")
        ] = None,
    ) -> Annotated[CallToolResult, TrackCard]:
        """Upload an audio file (MP3, FLAC, Ogg, WAV, AIFF, M4A/AAC or Opus) from this
        machine to plyr as the signed-in user, and wait until it is published (probing,
        transcoding, artwork, the record in the user's repository). Without a title the
        file's tags or name give one. Only upload music the user has the rights to. Reports
        progress when the client asks for it. Needs a developer token."""
        audio = local_file(path, "audio file")
        cover = local_file(artwork_path, "artwork") if artwork_path else None
        # The SDK calls on_progress synchronously; a task sends the notifications in order.
        events: asyncio.Queue[UploadProgress | None] = asyncio.Queue()
        forwarder = asyncio.create_task(forward_progress(events, ctx))
        try:
            published = await client.upload(
                audio,
                title=title,
                album=album,
                description=description,
                tags=tags,
                features=features,
                self_labels=content_warnings,
                cover=cover,
                on_progress=events.put_nowait,
            )
        finally:
            events.put_nowait(None)
            await forwarder
        card = track_card(published, site)
        return answer(f"published {track_line(card)}", card)

"""The `upload_guide` prompt: how a model uploads a track well with the upload_file tool,
asking the user what only they know (title, rights, content warnings) instead of guessing."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

GUIDE = """\
Help me publish a track on plyr, a music platform on the AT Protocol, with the plyr MCP
tools. {subject}

1. The file. plyr takes MP3, FLAC, Ogg (Vorbis/Opus), WAV, AIFF and M4A (AAC/ALAC); the
   bytes decide, not the name. Use the path as I give it: upload_file reads it from the
   machine the MCP server runs on.
2. Rights. Ask me to confirm that I made this music or hold the rights to publish it
   (samples and covers included). Do not upload until I say yes.
3. Title. Use the title I give; else propose one from the file name (no track numbers,
   extensions or "final_v2") and ask me. Album: only if it belongs to one.
4. Tags. Up to 10 short lowercase tags: genre first{genre_hint}, then mood or
   instruments. Reuse common tags (call search for a tag to see what exists) rather than
   inventing spellings.
5. Description. One or two sentences in my words, credits (who played, mixed, mastered)
   and links I give; none is better than filler.
6. Artwork. Ask for a square image (JPEG, PNG or WebP, 1000 px or more) and pass it as
   artwork_path; without one the file's embedded cover is used if it has one.
7. Content warnings. Ask me, never assume: set content_warnings to "sexual", "porn",
   "nudity" or "graphic-media" when the audio or the artwork is such. sexual and porn
   tracks stay out of the home feed and search for listeners who did not opt in.
8. Featured artists: their handles (e.g. someone.bsky.social) in features.
9. Show me the title, album, tags, description, warnings and artwork in one short summary
   and ask me to confirm. Then call upload_file once and wait: it returns when the track
   is published (it reports progress). Give me the track's page URL.
10. If it fails, tell me the one-line reason. "not signed in" means I need a developer
    token (plyr's settings page, then `plyrfm login`); a file plyr cannot read will not
    work by retrying.
"""


def register_prompts(server: MCPServer[Any]) -> None:
    @server.prompt(title="Upload a track well")
    def upload_guide(
        path: Annotated[str | None, Field(description="the audio file to upload")] = None,
        genre: Annotated[str | None, Field(description="the track's genre, if known")] = None,
    ) -> str:
        """How to upload a track to plyr well: rights, title, tags, description, artwork,
        content warnings, then upload_file."""
        subject = f"The file is {path}." if path else "Ask me for the file's path first."
        genre_hint = f' ("{genre.strip().lower()}" is the genre I gave)' if genre else ""
        return GUIDE.format(subject=subject, genre_hint=genre_hint)

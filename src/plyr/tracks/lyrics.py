"""A track's lyrics: the one place that reads them, for every surface (Subsonic's getLyrics
and getLyricsBySongId today).

plyr holds no lyrics yet: issue 20 adds them to the track record. Until then `lyrics_of`
answers none, and what asks for lyrics already goes through it, so filling it in is all
that changes. A text is in one language; its lines carry a start time when it is synced.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from plyr.db.models import Track
from plyr.db.text import storable
from plyr.runtime import Runtime
from plyr.tracks.library import song_listed

UNKNOWN_LANGUAGE = "und"  # ISO 639-2 "undetermined"


@dataclass(frozen=True, slots=True)
class LyricLine:
    text: str
    start_ms: int | None = None  # set on every line of synced lyrics, on none otherwise


@dataclass(frozen=True, slots=True)
class Lyrics:
    lines: tuple[LyricLine, ...]
    language: str = UNKNOWN_LANGUAGE

    @property
    def synced(self) -> bool:
        return bool(self.lines) and all(line.start_ms is not None for line in self.lines)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def lyrics_of(track: Track) -> list[Lyrics]:
    """The lyrics the track's artist published, one per language; none yet (issue 20)."""
    return []


async def find_song(runtime: Runtime, artist: str | None, title: str | None) -> Track | None:
    """The song listeners may meet with this title by this artist (either may be left
    out; case does not matter), the most played first; None when nothing matches."""
    if not artist and not title:
        return None
    wanted = [value.strip().lower() for value in (artist or "", title or "")]
    if not all(storable(value) for value in wanted):
        return None
    query = select(Track).where(song_listed())
    if artist:
        query = query.where(func.lower(Track.artist_name) == wanted[0])
    if title:
        query = query.where(func.lower(Track.title) == wanted[1])
    query = query.order_by(Track.play_count.desc(), Track.id).limit(1)
    async with runtime.sessions() as db:
        found = await db.scalar(query)
        if found is not None:
            db.expunge(found)
        return found

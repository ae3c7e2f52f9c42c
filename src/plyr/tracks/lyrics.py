"""A track's lyrics: the one place that reads them (`lyrics_of`, for the track page, the
JSON API and Subsonic's getLyrics and getLyricsBySongId) and checks them.

They live in the record's own `lyrics` field (plyr's, not the real plyr.fm's: other
clients ignore it): `{"plain": text, "synced": LRC text, "lang": BCP-47 tag}`, any part
left out; the track row keeps the same object. What an artist enters is checked here
(`checked`: a bad LRC is a 422 naming the line); what another client's record carries is
taken as far as it is usable (`from_record`: a synced text that is not LRC is left out, as
the indexer leaves out a tag plyr would refuse). A text is in one language; its lines
carry a start time when it is synced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from plyr.atproto.syntax import is_valid_language
from plyr.db.models import Track
from plyr.db.text import require_storable, storable
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.tracks.library import song_listed
from plyr.tracks.lrc import LrcError, parse

UNKNOWN_LANGUAGE = "und"  # ISO 639-2 "undetermined"
# The lexicon's bounds (graphemes; a grapheme is at least one character, so checking
# characters here refuses nothing the lexicon takes and the lexicon refuses the rest).
MAX_PLAIN = 10_000
MAX_SYNCED = 20_000


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


def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError(422, "invalid_lyrics", message, [{"field": field, "message": message}])


def checked(plain: str | None, synced: str | None, lang: str | None) -> dict[str, str] | None:
    """The `lyrics` object for what the artist entered (None: no lyrics); 422
    `invalid_lyrics` naming the field when the synced text is not LRC, a text is too long
    or the language is no BCP-47 tag."""
    value: dict[str, str] = {}
    for field, text, limit in (("lyrics", plain, MAX_PLAIN), ("synced_lyrics", synced, MAX_SYNCED)):
        text = (text or "").replace("\r\n", "\n").strip()
        require_storable(field, text)
        if len(text) > limit:
            raise _invalid(
                field, f"the {field.replace('_', ' ')} are longer than {limit} characters"
            )
        if text:
            value["synced" if field == "synced_lyrics" else "plain"] = text
    if "synced" in value:
        try:
            parse(value["synced"])
        except LrcError as exc:
            raise _invalid("synced_lyrics", f"the synced lyrics are not lrc: {exc}") from None
    lang = (lang or "").strip()
    if lang and not (storable(lang) and is_valid_language(lang)):
        raise _invalid("lyrics_lang", f"“{lang}” is not a language tag (e.g. en, pt-BR)")
    if value and lang:
        value["lang"] = lang
    return value or None


def from_record(value: object) -> dict[str, str] | None:
    """The usable part of a record's `lyrics` (it passed the lexicon already)."""
    if not isinstance(value, dict):
        return None
    kept = {
        key: value[key].strip() for key in ("plain", "synced") if isinstance(value.get(key), str)
    }
    kept = {key: text for key, text in kept.items() if text}
    if "synced" in kept:
        try:
            parse(kept["synced"])
        except LrcError:
            del kept["synced"]
    lang = value.get("lang")
    if kept and isinstance(lang, str) and is_valid_language(lang):
        kept["lang"] = lang
    return kept or None


def lyrics_of(track: Track) -> list[Lyrics]:
    """The lyrics the track's artist published: the plain text first (what Subsonic's
    getLyrics answers), then the synced lines; both in the record's language."""
    return lyrics_in(track.lyrics)


def lyrics_in(value: dict[str, Any] | None) -> list[Lyrics]:
    if not value:
        return []
    language = str(value.get("lang") or UNKNOWN_LANGUAGE)
    found: list[Lyrics] = []
    if plain := value.get("plain"):
        lines = tuple(LyricLine(line.strip()) for line in str(plain).splitlines())
        found.append(Lyrics(lines, language))
    if synced := value.get("synced"):
        try:
            timed = parse(str(synced))
        except LrcError:  # checked when it came in; a row from before a stricter rule
            timed = []
        if timed:
            found.append(Lyrics(tuple(LyricLine(t.text, t.start_ms) for t in timed), language))
    return found


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

"""`search(runtime, query)`: tracks, artists, albums, playlists and tags, grouped and ranked.

The database finds a few candidates per kind, already ranked roughly in SQL (`candidates.py`,
one backend per dialect); the rows are loaded and scored here, the same way for both
backends (`loading.py`, `scoring.py`), and each group is ordered by score, then popularity
(plays), then the newest first. What listeners may not meet (a taken-down track, a hidden
account's artist, lists and tracks) is left out when the rows are loaded
(`plyr.db.visibility`); so are tracks the artist labelled `sexual` or `porn`
(`plyr.tracks.labels`), unless the searcher opted in or made them (`Audience`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from plyr.runtime import Runtime
from plyr.search import loading
from plyr.search.candidates import KINDS, CandidateFinder, Kind
from plyr.search.hits import SIGNED_OUT, Audience, SearchHit, rank
from plyr.search.loading import SECONDARY_WEIGHT
from plyr.search.postgres_candidates import postgres_candidates
from plyr.search.scoring import normalise, plain_text
from plyr.search.sqlite_candidates import sqlite_candidates

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_QUERY",
    "MAX_QUERY_TEXT",
    "SECONDARY_WEIGHT",
    "SIGNED_OUT",
    "Audience",
    "SearchHit",
    "SearchResults",
    "clean_query",
    "parse_types",
    "query_text",
    "search",
]

DEFAULT_LIMIT = 8
MAX_LIMIT = 50
# Any text is a valid query: it is searched as plain text, never as query syntax. Input
# past MAX_QUERY_TEXT characters is cut off, not refused (a pasted page still searches);
# of what is left, the first MAX_QUERY characters once normalised are searched for.
MAX_QUERY_TEXT = 10_240
MAX_QUERY = 100


@dataclass(slots=True)
class SearchResults:
    query: str
    tracks: list[SearchHit] = field(default_factory=list)
    artists: list[SearchHit] = field(default_factory=list)
    albums: list[SearchHit] = field(default_factory=list)
    playlists: list[SearchHit] = field(default_factory=list)
    tags: list[SearchHit] = field(default_factory=list)

    def group(self, kind: Kind) -> list[SearchHit]:
        hits: list[SearchHit] = getattr(self, kind)
        return hits

    def groups(self) -> list[tuple[Kind, list[SearchHit]]]:
        """The non-empty groups, in display order."""
        return [(kind, self.group(kind)) for kind in KINDS if self.group(kind)]

    @property
    def total(self) -> int:
        return sum(len(self.group(kind)) for kind in KINDS)


def finder_for(dialect: str) -> CandidateFinder:
    """The candidate finder of a database backend."""
    if dialect == "sqlite":
        return sqlite_candidates
    if dialect == "postgresql":
        return postgres_candidates
    raise ValueError(f"search does not support the {dialect!r} database")


def parse_types(values: Iterable[str] | None) -> tuple[Kind, ...]:
    """`["track", "albums,tags"]` → the kinds, in display order; None or empty: all.
    Unknown names raise ValueError."""
    if not values:
        return KINDS
    wanted: set[str] = set()
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if not name:
                continue
            plural = name if name.endswith("s") else f"{name}s"
            if plural not in KINDS:
                raise ValueError(f"unknown type {part.strip()!r}: use {', '.join(KINDS)}")
            wanted.add(plural)
    return tuple(kind for kind in KINDS if kind in wanted) or KINDS


def query_text(query: str) -> str:
    """The user's text as a page may show it back: at most MAX_QUERY_TEXT characters,
    control characters as spaces."""
    return plain_text(query[:MAX_QUERY_TEXT])


def clean_query(query: str) -> str:
    """What is searched for: trimmed, lowercase, no leading @ (handles), bounded length."""
    return normalise(query[:MAX_QUERY_TEXT]).lstrip("@").strip()[:MAX_QUERY].rstrip()


async def search(
    runtime: Runtime,
    query: str,
    *,
    types: Iterable[str] | None = None,
    limit: int = DEFAULT_LIMIT,
    audience: Audience = SIGNED_OUT,
) -> SearchResults:
    q = clean_query(query)
    results = SearchResults(query=q)
    if not q:
        return results
    kinds = parse_types(types)
    limit = max(1, min(limit, MAX_LIMIT))
    find = finder_for(runtime.engine.dialect.name)
    async with runtime.sessions() as session:
        for kind in kinds:
            rows = await find(session, kind, q, limit)
            if not rows:
                continue
            load = (
                partial(loading.tracks, audience=audience)
                if kind == "tracks"
                else loading.LOADERS[kind]
            )
            hits = load(rows, q)
            hits.sort(key=rank)
            results.group(kind).extend(hits[:limit])
    return results

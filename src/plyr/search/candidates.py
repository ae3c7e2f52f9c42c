"""Finding candidates: a bounded set of rows a query may match, per kind, in one statement.

Two backends with one shape — `async (session, kind, query, want) -> rows` — chosen by the
engine's dialect (`sqlite_candidates.py`, `postgres_candidates.py`; `service.finder_for`).
Each picks at most `strong_count(want)` rows that contain the query, ranked *in SQL* by the
match band `band_sql` gives (exact > prefix > word prefix > substring, the secondary field
weighted as in `scoring`), then popularity and age; then, only when fewer than `want` of
those beat any typo (a band above `FUZZY_CEILING`), up to `fuzzy_count(want)` typo
candidates, most alike first; and returns, in the same statement, what a hit needs of the
picked rows that listeners may meet (`loading.display_statement`). `scoring.score` then
ranks those few rows, in Python, the same way for both backends (`service.py`), so the
bands in SQL only choose which rows get there.

The rows looked at are bounded too, so a query costs the same at any catalogue size:

- a query of 3+ characters reads at most DIRECT matches from the trigram index (FTS5 /
  pg_trgm), the newest first on SQLite; when there are that many, tracks also look through
  the POPULAR most played tracks, so the most played matches of a common word are among
  the candidates;
- a query under 3 characters has no trigram to look up: the NEWEST rows are looked
  through (and the POPULAR most played tracks), substring matches only, as before.

When a query has fewer matches than DIRECT, every one of them is ranked: that is always
the case for the tests' catalogues, and for most queries of a large one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.search.scoring import BAND, Match

Kind = Literal["tracks", "artists", "albums", "playlists", "tags"]
KINDS: tuple[Kind, ...] = ("tracks", "artists", "albums", "playlists", "tags")

DIRECT = 500
POPULAR = 500
NEWEST = 500
# A typo scores at most BAND[fuzzy] (0.6 times a similarity of at most 1): rows ranked
# above it in SQL make typo candidates unnecessary.
FUZZY_CEILING = BAND[Match.fuzzy]
# What a track's artist name counts for next to its title (`service.SECONDARY_WEIGHT`).
SECONDARY = 0.8
# Characters that start a word when they precede the query (scoring: any non-alphanumeric
# character does; these are the common ones, enough to choose candidates).
WORD_STARTS = (" ", "-", "(", "/", ".", '"', "'")

# The rows of a kind's hits (`loading.display_statement`), for a query and a page size.
CandidateFinder = Callable[[AsyncSession, Kind, str, int], Awaitable[Sequence[Row[Any]]]]


def strong_count(want: int) -> int:
    """Substring candidates ranked per kind: the page asked for and some to spare (the
    bands in SQL only approximate Python's for non-ASCII text and rare separators)."""
    return want + 6


def fuzzy_count(want: int) -> int:
    """Typo candidates: twice the page (the databases' likeness only approximates
    `scoring`'s)."""
    return 2 * want + 4


def escape_like(value: str) -> str:
    """`value` with LIKE's wildcards taken literally (ESCAPE '\\')."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def band_parameters(query: str) -> dict[str, str]:
    """The bound parameters `band_sql` and `matches_sql` use, for a normalised query."""
    escaped = escape_like(query)
    params = {"q": query, "like": f"%{escaped}%", "prefix": f"{escaped}%"}
    for i, start in enumerate(WORD_STARTS):
        params[f"word{i}"] = f"%{escape_like(start)}{escaped}%"
    return params


def band_sql(column: str, weight: float = 1.0) -> str:
    """SQL for the band of a lowercased text column, times `weight` (0 for no substring):
    the same bands as `scoring.score`, ASCII case folding only."""

    def band(match: Match) -> str:
        return f"{BAND[match] * weight:.4f}"

    words = " OR ".join(f"{column} LIKE :word{i} ESCAPE '\\'" for i in range(len(WORD_STARTS)))
    # Most rows looked at hold the query in one column only: one LIKE settles the other.
    return (
        f"CASE WHEN {column} LIKE :like ESCAPE '\\' THEN CASE "
        f"WHEN {column} = :q THEN {band(Match.exact)} "
        f"WHEN {column} LIKE :prefix ESCAPE '\\' THEN {band(Match.prefix)} "
        f"WHEN {words} THEN {band(Match.word_prefix)} "
        f"ELSE {band(Match.substring)} END ELSE 0 END"
    )


def matches_sql(columns: tuple[str, ...]) -> str:
    """Any of the lowercased columns contains the query."""
    return " OR ".join(f"{column} LIKE :like ESCAPE '\\'" for column in columns)
